/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Label maps: sorted storage, replace vs default, lookup. */
#include "tests.h"
#include "intern.h"
#include "labels.h"
#include "strmap.h"

/* Keys come out sorted whatever the insertion order. */
static void test_sorted(void) {
        Labels l = LABELS_INIT;
        ASSERT_OK(labels_set(&l, "b", "2"));
        ASSERT_OK(labels_set(&l, "a", "1"));
        ASSERT_OK(labels_set(&l, "c", "3"));
        ASSERT_EQ(l.n, 3);
        ASSERT_STREQ(l.pairs[0].key, "a");
        ASSERT_STREQ(l.pairs[2].key, "c");
        ASSERT_STREQ(labels_get(&l, "b"), "2");
        ASSERT_NULL(labels_get(&l, "d"));
        labels_done(&l);
}

/* set replaces; set_default keeps the first value (endpoint label wins). */
static void test_default(void) {
        Labels l = LABELS_INIT;
        ASSERT_OK(labels_set(&l, "a", "1"));
        ASSERT_OK(labels_set_default(&l, "a", "2"));
        ASSERT_STREQ(labels_get(&l, "a"), "1");
        ASSERT_OK(labels_set(&l, "a", "3"));
        ASSERT_STREQ(labels_get(&l, "a"), "3");
        ASSERT_OK(labels_remove(&l, "a"));
        ASSERT_EQ(l.n, 0);
        ASSERT_EQ(labels_remove(&l, "a"), -ENOENT);
        labels_done(&l);
}

/* An empty value is present, not absent. */
static void test_empty_value(void) {
        Labels l = LABELS_INIT;
        ASSERT_OK(labels_set(&l, "k", ""));
        ASSERT_TRUE(labels_has(&l, "k"));
        labels_done(&l);
}

/* Label strings are shared: a copy takes the same strings, and each one
 * lives as long as some label uses it. */
static void test_shared_strings(void) {
        Labels a = LABELS_INIT, b = LABELS_INIT;

        ASSERT_OK(labels_set(&a, "app", "web"));
        ASSERT_OK(labels_copy(&b, &a));
        ASSERT_TRUE(a.pairs[0].key == b.pairs[0].key);
        ASSERT_TRUE(a.pairs[0].value == b.pairs[0].value);
        labels_done(&a);
        ASSERT_STREQ(labels_get(&b, "app"), "web"); /* still there for b */
        ASSERT_OK(labels_set(&b, "app", "db"));
        ASSERT_STREQ(labels_get(&b, "app"), "db");
        labels_done(&b);
        const char *x = intern_ref("x"), *y = intern_ref("x");
        ASSERT_TRUE(x == y);
        intern_unref(x);
        intern_unref(y);
}

/* Removing from a map keeps every other key findable, across collisions
 * and the wrap-around at the end of the slots. */
static void test_strmap_remove(void) {
        StrMap m = STRMAP_INIT;
        char keys[600][8];

        for (int i = 0; i < 600; i++) {
                snprintf(keys[i], sizeof(keys[i]), "k%d", i);
                ASSERT_OK(strmap_put(&m, keys[i], keys[i]));
        }
        for (int round = 0; round < 3; round++) {
                for (int i = round; i < 600; i += 3)
                        ASSERT_TRUE(strmap_remove_hashed(&m, keys[i], strmap_hash(keys[i])) == keys[i]);
                for (int i = 0; i < 600; i++) {
                        bool gone = i % 3 <= round;
                        ASSERT_TRUE(strmap_get(&m, keys[i]) == (gone ? NULL : keys[i]));
                }
                ASSERT_EQ(m.n, (size_t)(600 - 200 * (round + 1)));
        }
        ASSERT_TRUE(strmap_remove_hashed(&m, "k1", strmap_hash("k1")) == NULL);
        strmap_done(&m);

        /* A run that wraps from the last slot to the first: keys whose home
         * is the last slot of 16, and one whose home is the first. */
        char last[3][16], first[16] = "";
        int n_last = 0;
        for (int i = 0; n_last < 3 || !*first; i++) {
                char k[16];
                snprintf(k, sizeof(k), "w%d", i);
                if ((strmap_hash(k) & 15) == 15 && n_last < 3)
                        memcpy(last[n_last++], k, sizeof(k));
                else if ((strmap_hash(k) & 15) == 0 && !*first)
                        memcpy(first, k, sizeof(k));
        }
        for (int i = 0; i < 3; i++)
                ASSERT_OK(strmap_put(&m, last[i], last[i]));
        ASSERT_OK(strmap_put(&m, first, first)); /* slots 15, 0, 1, then 2 */
        ASSERT_EQ(m.cap, 16);
        ASSERT_TRUE(strmap_remove_hashed(&m, last[0], strmap_hash(last[0])) == last[0]);
        ASSERT_TRUE(strmap_get(&m, last[1]) == last[1] && strmap_get(&m, last[2]) == last[2]);
        ASSERT_TRUE(strmap_get(&m, first) == first);
        ASSERT_OK(strmap_put(&m, last[0], last[0])); /* back in, after a removal */
        ASSERT_TRUE(strmap_remove_hashed(&m, last[2], strmap_hash(last[2])) == last[2]);
        for (int i = 0; i < 2; i++)
                ASSERT_TRUE(strmap_get(&m, last[i]) == last[i]);
        ASSERT_TRUE(strmap_get(&m, first) == first && strmap_get(&m, last[2]) == NULL);
        ASSERT_EQ(m.n, 3);
        strmap_done(&m);

        /* Keys at home in slots 14, 15 and 0, one run across the end: the
         * one at home in 0 must stay there when 14's goes. */
        char at[3][16] = { "", "", "" };
        for (int i = 0; !*at[0] || !*at[1] || !*at[2]; i++) {
                char k[16];
                snprintf(k, sizeof(k), "h%d", i);
                size_t home = strmap_hash(k) & 15, j = home == 14 ? 0 : home == 15 ? 1 : home == 0 ? 2 : 3;
                if (j < 3 && !*at[j])
                        memcpy(at[j], k, sizeof(k));
        }
        for (int i = 0; i < 3; i++)
                ASSERT_OK(strmap_put(&m, at[i], at[i]));
        ASSERT_TRUE(strmap_remove_hashed(&m, at[0], strmap_hash(at[0])) == at[0]);
        ASSERT_TRUE(strmap_get(&m, at[1]) == at[1] && strmap_get(&m, at[2]) == at[2]);
        strmap_done(&m);
        ASSERT_EQ(intern_count(), 0);
}

int main(void) {
        RUN(test_sorted);
        RUN(test_default);
        RUN(test_empty_value);
        RUN(test_shared_strings);
        RUN(test_strmap_remove);
        return 0;
}
