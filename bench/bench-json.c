/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which JSON library for etcd's gateway (store/etcd.c): parses the answer
 * to a range over 10,000 keys (HostEndpoints in Calico's JSON, base64 as
 * the gateway sends them) and reads every value, and prints the time per
 * parse (median of RUNS) and the heap the parsed tree holds. Built twice,
 * as bench-json-c (json-c) and bench-json-jansson (USE_JANSSON): the two
 * libraries export functions of the same names, so one program cannot
 * link both.
 * Usage: bench-json-c [N_KEYS]; bench-json-jansson [N_KEYS] */
#ifdef USE_JANSSON
#include <jansson.h>
#else
#include <json-c/json.h>
#endif
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNS 9

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void append_b64(char **p, const char *s) {
        size_t n = strlen(s);

        for (size_t i = 0; i < n; i += 3) {
                unsigned v = (unsigned char)s[i] << 16 | (i + 1 < n ? (unsigned char)s[i + 1] << 8 : 0) |
                             (i + 2 < n ? (unsigned char)s[i + 2] : 0);
                *(*p)++ = b64[v >> 18 & 63];
                *(*p)++ = b64[v >> 12 & 63];
                *(*p)++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
                *(*p)++ = i + 2 < n ? b64[v & 63] : '=';
        }
}

static char *range_answer(int n) {
        char *buf = malloc((size_t)n * 1200 + 256), *p = buf;

        p += sprintf(p, "{\"header\":{\"cluster_id\":\"14841639068965178418\",\"member_id\":\"10276657743932975437\","
                        "\"revision\":\"%d\",\"raft_term\":\"2\"},\"kvs\":[",
                     n + 1);
        for (int i = 0; i < n; i++) {
                char key[128], value[600];
                snprintf(key, sizeof(key), "/calico/resources/v3/projectcalico.org/hostendpoints/hep%d", i);
                snprintf(value, sizeof(value),
                         "{\"kind\":\"HostEndpoint\",\"apiVersion\":\"projectcalico.org/v3\",\"metadata\":{\"name\":"
                         "\"hep%d\",\"uid\":\"0f8a3a43-7c2e-4f6e-9d55-6a0a5b3f%04x\",\"creationTimestamp\":"
                         "\"2026-12-07T00:00:00Z\",\"labels\":{\"app\":\"a%d\",\"tier\":\"t%d\"}},\"spec\":{\"node\":"
                         "\"node%d\",\"expectedIPs\":[\"10.%d.%d.%d\"],\"ports\":[{\"name\":\"http\",\"protocol\":"
                         "\"TCP\",\"port\":8080}]}}",
                         i, i & 0xffff, i % 50, i % 7, i % 50, 150 + (i >> 16), i >> 8 & 255, i & 255);
                p += sprintf(p, "%s{\"key\":\"", i ? "," : "");
                append_b64(&p, key);
                p += sprintf(p, "\",\"create_revision\":\"%d\",\"mod_revision\":\"%d\",\"version\":\"1\",\"value\":\"",
                             i + 2, i + 2);
                append_b64(&p, value);
                p += sprintf(p, "\"}");
        }
        sprintf(p, "],\"count\":\"%d\"}", n);
        return buf;
}

static double now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static size_t heap_in_use(void) {
        struct mallinfo2 mi = mallinfo2();

        return mi.uordblks + mi.hblkhd;
}

static int cmp(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

/* Parses, and reads every kv's value as the client does. */
#ifndef USE_JANSSON
static size_t walk(const char *text, size_t *held) {
        size_t before = heap_in_use(), total = 0;
        json_object *o = json_tokener_parse(text), *kvs, *kv, *v;

        *held = heap_in_use() - before;
        json_object_object_get_ex(o, "kvs", &kvs);
        for (size_t i = 0; i < json_object_array_length(kvs); i++) {
                kv = json_object_array_get_idx(kvs, i);
                if (json_object_object_get_ex(kv, "value", &v))
                        total += strlen(json_object_get_string(v));
        }
        json_object_put(o);
        return total;
}

#else
static size_t walk(const char *text, size_t *held) {
        size_t before = heap_in_use(), total = 0, i;
        json_t *o = json_loads(text, 0, NULL), *kv;

        *held = heap_in_use() - before;
        json_array_foreach(json_object_get(o, "kvs"), i, kv) total += strlen(json_string_value(json_object_get(kv, "value")));
        json_decref(o);
        return total;
}
#endif

static void run(const char *name, const char *text) {
        double t[RUNS];
        size_t held = 0, total = 0;

        for (int r = 0; r < RUNS; r++) {
                double s = now_ms();
                total = walk(text, &held);
                t[r] = now_ms() - s;
        }
        qsort(t, RUNS, sizeof(double), cmp);
        printf("%-8s parse + walk: median %.1f ms (min %.1f, max %.1f), tree %.1f MB, %zu value bytes\n", name,
               t[RUNS / 2], t[0], t[RUNS - 1], held / 1048576.0, total);
}

int main(int argc, char **argv) {
        int n = argc > 1 ? atoi(argv[1]) : 10000;
        char *text = range_answer(n);

        printf("a range answer of %d keys: %.1f MB of JSON\n", n, strlen(text) / 1048576.0);
#ifdef USE_JANSSON
        run("jansson", text);
#else
        run("json-c", text);
#endif
        free(text);
        return 0;
}
