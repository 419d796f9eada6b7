/* Label maps: sorted storage, replace vs default, lookup. */
#include "tests.h"
#include "labels.h"

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

int main(void) {
        RUN(test_sorted);
        RUN(test_default);
        RUN(test_empty_value);
        return 0;
}
