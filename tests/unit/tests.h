/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Assertions for unit tests: never compiled out, and they print both values
 * and the location before aborting. Each test file is a plain program: one
 * static function per behaviour, called from main(). */
#pragma once

#undef NDEBUG
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_FAIL(...)                                                  \
        do {                                                            \
                fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, __func__); \
                fprintf(stderr, __VA_ARGS__);                           \
                fputc('\n', stderr);                                    \
                fflush(stdout);                                         \
                abort();                                                \
        } while (0)

#define ASSERT_TRUE(e)                                                  \
        do {                                                            \
                if (!(e))                                               \
                        TEST_FAIL("expected true: %s", #e);             \
        } while (0)

#define ASSERT_FALSE(e)                                                 \
        do {                                                            \
                if (e)                                                  \
                        TEST_FAIL("expected false: %s", #e);            \
        } while (0)

#define ASSERT_EQ(a, b)                                                 \
        do {                                                            \
                intmax_t _a = (intmax_t)(a), _b = (intmax_t)(b);        \
                if (_a != _b)                                           \
                        TEST_FAIL("%s == %s: %jd != %jd", #a, #b, _a, _b); \
        } while (0)

#define ASSERT_OK(e)                                                    \
        do {                                                            \
                intmax_t _r = (intmax_t)(e);                            \
                if (_r < 0)                                             \
                        TEST_FAIL("%s failed: %jd (%s)", #e, _r, strerror((int)-_r)); \
        } while (0)

#define ASSERT_STREQ(a, b)                                              \
        do {                                                            \
                const char *_a = (a), *_b = (b);                        \
                if (!_a || !_b || strcmp(_a, _b) != 0)                  \
                        TEST_FAIL("%s == %s:\n  got:      \"%s\"\n  expected: \"%s\"", \
                                  #a, #b, _a ? _a : "(null)", _b ? _b : "(null)"); \
        } while (0)

#define ASSERT_NULL(e)                                                  \
        do {                                                            \
                if ((e) != NULL)                                        \
                        TEST_FAIL("expected NULL: %s", #e);             \
        } while (0)

#define ASSERT_NOT_NULL(e)                                              \
        do {                                                            \
                if ((e) == NULL)                                        \
                        TEST_FAIL("expected non-NULL: %s", #e);         \
        } while (0)

/* Substring check, for error messages. */
#define ASSERT_CONTAINS(hay, needle)                                    \
        do {                                                            \
                const char *_h = (hay), *_n = (needle);                 \
                if (!_h || !strstr(_h, _n))                             \
                        TEST_FAIL("\"%s\" does not contain \"%s\"", _h ? _h : "(null)", _n); \
        } while (0)

#define RUN(t)                                                          \
        do {                                                            \
                t();                                                    \
                printf("ok - %s\n", #t);                         \
                fflush(stdout);                                \
        } while (0)
