/*
 * bad_utf8: a string argument that is not valid UTF-8 (a stray 0xff, a
 * truncated sequence, an overlong encoding, a UTF-16 surrogate) gives
 * ASYNCOP_ERR_UTF8 and stores nothing: path (no file is created), name,
 * dependency token and correlation id (submit and spec setters), query
 * filters, host id (nothing claimed), outcome messages (the lease stays
 * live). Over-long strings (257 characters, counted in characters, not
 * bytes) give ASYNCOP_ERR_INVALID_ARG; 256 characters are fine.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#define UTF8 ASYNCOP_ERR_UTF8

static const char *const bad[] = {
    "\xff",                 /* never valid */
    "abc\xc3",              /* truncated two-byte sequence */
    "\xc3\x28",             /* bad continuation byte */
    "\xc0\xaf",             /* overlong '/' */
    "\xed\xa0\x80",         /* UTF-16 surrogate D800 */
    "ok\xf4\x90\x80\x80ok", /* above U+10FFFF */
    "caf\xe9",              /* Latin-1, not UTF-8 */
};
#define N_BAD (sizeof bad / sizeof bad[0])

/* A string of `n` copies of `unit` (malloc'ed). */
static char *repeat(const char *unit, size_t n) {
    size_t ulen = strlen(unit), i;
    char *s = (char *)malloc(ulen * n + 1);
    REQUIRE(s != NULL);
    for (i = 0; i < n; i++) memcpy(s + i * ulen, unit, ulen);
    s[ulen * n] = '\0';
    return s;
}

static void paths(void) {
    size_t i;
    char path[700];
    int before = test_dir_entries(test_dir());
    for (i = 0; i < N_BAD; i++) {
        asyncop_queue *q = NULL;
        snprintf(path, sizeof path, "%s/q-%s.db", test_dir(), bad[i]);
        CHECK_RC(UTF8, asyncop_queue_open(path, NULL, &q));
        CHECK(q == NULL);
    }
    CHECK(test_dir_entries(test_dir()) == before); /* nothing created */
}

static void submissions(const asyncop_queue *q) {
    size_t i;
    int64_t id = -7;
    int64_t total = test_total(q);
    for (i = 0; i < N_BAD; i++) {
        asyncop_spec *s = NULL;
        CHECK_RC(UTF8, asyncop_queue_submit(q, bad[i], 1, NULL, 0, NULL, ASYNCOP_TIME_NONE, NULL, &id));
        CHECK_RC(UTF8, asyncop_queue_submit(q, "n", 1, NULL, 0, bad[i], ASYNCOP_TIME_NONE, NULL, &id));
        CHECK_RC(UTF8, asyncop_queue_submit(q, "n", 1, NULL, 0, NULL, ASYNCOP_TIME_NONE, bad[i], &id));
        CHECK_RC(UTF8, asyncop_spec_new(bad[i], 1, &s));
        CHECK(s == NULL);
    }
    CHECK(id == -7);
    CHECK(test_total(q) == total);
}

/* A refused setter leaves the spec as it was: submit it and look. */
static void spec_setters(const asyncop_queue *q) {
    asyncop_spec *s = NULL;
    const asyncop_spec *specs[1];
    asyncop_operation *op = NULL;
    int64_t ids[1] = {-7};
    char buf[64];
    size_t len = 0, i;
    int32_t present = -1;

    REQUIRE_OK(asyncop_spec_new("spec", 1, &s));
    CHECK_OK(asyncop_spec_set_dependency_token(s, "good-token"));
    CHECK_OK(asyncop_spec_set_correlation_id(s, "good-corr"));
    for (i = 0; i < N_BAD; i++) {
        CHECK_RC(UTF8, asyncop_spec_set_dependency_token(s, bad[i]));
        CHECK_RC(UTF8, asyncop_spec_set_correlation_id(s, bad[i]));
    }
    specs[0] = s;
    REQUIRE_OK(asyncop_queue_submit_many(q, specs, 1, ids));
    REQUIRE_OK(asyncop_queue_retrieve(q, ids[0], &op));
    CHECK_OK(asyncop_operation_dependency_token(op, buf, sizeof buf, &len, &present));
    CHECK(present == 1 && strcmp(buf, "good-token") == 0);
    CHECK_OK(asyncop_operation_correlation_id(op, buf, sizeof buf, &len, &present));
    CHECK(present == 1 && strcmp(buf, "good-corr") == 0);
    CHECK_OK(asyncop_operation_free(op));
    CHECK_OK(asyncop_spec_free(s));
}

static void queries(const asyncop_queue *q) {
    size_t i;
    for (i = 0; i < N_BAD; i++) {
        asyncop_operation_list *list = NULL;
        CHECK_RC(UTF8, asyncop_queue_query(q, ASYNCOP_ANY, ASYNCOP_ANY, ASYNCOP_ANY, bad[i], NULL, NULL, NULL,
                                           ASYNCOP_TIME_NONE, 0, -1, 0, &list));
        CHECK_RC(UTF8, asyncop_queue_query(q, ASYNCOP_ANY, ASYNCOP_ANY, ASYNCOP_ANY, NULL, bad[i], NULL, NULL,
                                           ASYNCOP_TIME_NONE, 0, -1, 0, &list));
        CHECK(list == NULL);
    }
}

static void host_ids_and_messages(const asyncop_queue *q) {
    size_t i, n = 999;
    asyncop_lease *leases[1] = {NULL};
    asyncop_lease *l;
    int64_t id = test_submit(q, "claim me", 7);
    const int32_t type[1] = {7};
    int32_t st = -7;
    test_snap before = test_snapshot(q, id);

    for (i = 0; i < N_BAD; i++) {
        CHECK_RC(UTF8, asyncop_queue_poll(q, bad[i], type, 1, 0, leases, 1, &n));
        CHECK_RC(UTF8, asyncop_queue_poll(q, bad[i], type, 1, 20, leases, 1, &n));
    }
    CHECK(n == 999 && leases[0] == NULL);
    CHECK(test_snap_equal(before, test_snapshot(q, id))); /* nothing claimed */

    l = test_claim(q, "host", 7);
    before = test_snapshot(q, id);
    for (i = 0; i < N_BAD; i++) {
        CHECK_RC(UTF8, asyncop_lease_fail(l, 1, bad[i], &st));
        CHECK_RC(UTF8, asyncop_lease_retry(l, 1, bad[i], ASYNCOP_TIME_NONE, &st));
        CHECK_RC(UTF8, asyncop_lease_suspend(l, 1, bad[i], &st));
        CHECK_RC(UTF8, asyncop_lease_report(l, ASYNCOP_OUTCOME_FAILED, 1, bad[i], "ok",
                                            ASYNCOP_TIME_NONE, &st));
        CHECK_RC(UTF8, asyncop_lease_report(l, ASYNCOP_OUTCOME_FAILED, 1, "ok", bad[i],
                                            ASYNCOP_TIME_NONE, &st));
    }
    CHECK(st == -7);
    CHECK(test_snap_equal(before, test_snapshot(q, id)));
    CHECK_STATE(q, id, ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_IN_PROGRESS);
    CHECK_OK(asyncop_lease_renew(l, &st)); /* the lease is still live */
    CHECK(st == ASYNCOP_STATUS_IN_PROGRESS);
    CHECK_OK(asyncop_lease_fail(l, 1, "caf\xc3\xa9 \xe2\x82\xac", &st)); /* valid UTF-8 is fine */
    CHECK(st == ASYNCOP_STATUS_FAILED);
    CHECK_OK(asyncop_lease_free(l));
}

static void lengths(const asyncop_queue *q) {
    char *a256 = repeat("a", 256), *a257 = repeat("a", 257);
    /* 256 two-byte characters are 512 bytes and still fine: limits count characters. */
    char *e256 = repeat("\xc3\xa9", 256), *e257 = repeat("\xc3\xa9", 257);
    /* 256 four-byte characters. */
    char *g256 = repeat("\xf0\x9f\x98\x80", 256);
    int64_t id = -7, total, ids[2] = {-7, -7};
    asyncop_spec *ok_spec = NULL, *long_spec = NULL;
    const asyncop_spec *specs[2];
    asyncop_lease *leases[1] = {NULL};
    size_t n = 999;

    CHECK_OK(asyncop_queue_submit(q, a256, 1, NULL, 0, a256, ASYNCOP_TIME_NONE, a256, &id));
    CHECK_OK(asyncop_queue_submit(q, e256, 1, NULL, 0, e256, ASYNCOP_TIME_NONE, e256, &id));
    CHECK_OK(asyncop_queue_submit(q, g256, 1, NULL, 0, g256, ASYNCOP_TIME_NONE, g256, &id));
    CHECK_OK(asyncop_queue_submit(q, "", 1, NULL, 0, NULL, ASYNCOP_TIME_NONE, NULL, &id));
    total = test_total(q);
    id = -7;
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG,
             asyncop_queue_submit(q, a257, 1, NULL, 0, NULL, ASYNCOP_TIME_NONE, NULL, &id));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG,
             asyncop_queue_submit(q, e257, 1, NULL, 0, NULL, ASYNCOP_TIME_NONE, NULL, &id));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG,
             asyncop_queue_submit(q, "n", 1, NULL, 0, a257, ASYNCOP_TIME_NONE, NULL, &id));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG,
             asyncop_queue_submit(q, "n", 1, NULL, 0, NULL, ASYNCOP_TIME_NONE, e257, &id));
    CHECK(id == -7);
    CHECK(test_total(q) == total);

    /* Specs check their limits at submit; submit_many is all or none. */
    REQUIRE_OK(asyncop_spec_new("fine", 1, &ok_spec));
    REQUIRE_OK(asyncop_spec_new(a257, 1, &long_spec));
    specs[0] = ok_spec;
    specs[1] = long_spec;
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_queue_submit_many(q, specs, 2, ids));
    CHECK_OK(asyncop_spec_free(long_spec));
    REQUIRE_OK(asyncop_spec_new("fine too", 1, &long_spec));
    CHECK_OK(asyncop_spec_set_dependency_token(long_spec, e257));
    specs[1] = long_spec;
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_queue_submit_many(q, specs, 2, ids));
    CHECK_OK(asyncop_spec_set_dependency_token(long_spec, NULL));
    CHECK_OK(asyncop_spec_set_correlation_id(long_spec, a257));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_queue_submit_many(q, specs, 2, ids));
    CHECK(ids[0] == -7 && ids[1] == -7);
    CHECK(test_total(q) == total);
    CHECK_OK(asyncop_spec_free(ok_spec));
    CHECK_OK(asyncop_spec_free(long_spec));

    /* Host ids: empty or 257 characters are refused, nothing is claimed. */
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_queue_poll(q, "", NULL, 0, 0, leases, 1, &n));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_queue_poll(q, a257, NULL, 0, 0, leases, 1, &n));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_queue_poll(q, e257, NULL, 0, 0, leases, 1, &n));
    CHECK(n == 999 && leases[0] == NULL);
    CHECK(test_count_in(q, ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_IN_PROGRESS) == 0);
    CHECK_OK(asyncop_queue_poll(q, e256, NULL, 0, 0, leases, 1, &n));
    CHECK(n == 1);
    if (n == 1) {
        char host[1024];
        size_t len = 0;
        CHECK_OK(asyncop_lease_host_id(leases[0], host, sizeof host, &len));
        CHECK(len == 512 && strcmp(host, e256) == 0);
        CHECK_OK(asyncop_lease_free(leases[0]));
    }
    free(a256);
    free(a257);
    free(e256);
    free(e257);
    free(g256);
}

int main(void) {
    char path[600];
    asyncop_queue *q;

    test_begin("bad_utf8", 120);
    paths();
    q = test_open(test_path(path, sizeof path, "q.db"), NULL);
    submissions(q);
    spec_setters(q);
    queries(q);
    host_ids_and_messages(q);
    lengths(q);
    CHECK_OK(asyncop_queue_close(q));
    return test_end();
}
