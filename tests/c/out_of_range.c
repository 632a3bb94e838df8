/*
 * out_of_range: an int32_t that stands for an enum or a boolean outside its
 * range gives ASYNCOP_ERR_OUT_OF_RANGE and changes nothing: state and status
 * codes in set_state and query, outcome codes in asyncop_lease_report,
 * durability, allow_delete_any = 2, and list/counts indexes past the end.
 * For contrast, valid codes that do not fit together (a mismatched
 * state/status pair, a negative offset) are ASYNCOP_ERR_INVALID_ARG.
 * Millisecond options beyond what the library can hold are refused
 * (INVALID_ARG / OUT_OF_RANGE) or honoured, never ASYNCOP_ERR_PANIC.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#define OOR ASYNCOP_ERR_OUT_OF_RANGE

static const int32_t bad_states[] = {4, 5, -2, 10, 100, INT32_MAX, INT32_MIN};
/* INT32_MIN is ASYNCOP_STATUS_NONE in set_state, so the shared list stops one short of it. */
static const int32_t bad_statuses[] = {1, 9, 11, 19, 23, 29, 33, 40, -2, -10, INT32_MAX, INT32_MIN + 1};
#define COUNT(a) (sizeof a / sizeof a[0])

static void set_state(const asyncop_queue *q, int64_t id) {
    size_t i;
    test_snap before = test_snapshot(q, id);
    for (i = 0; i < COUNT(bad_states); i++) {
        CHECK_RC(OOR, asyncop_queue_set_state(q, id, bad_states[i], ASYNCOP_STATUS_NONE));
        CHECK_RC(OOR, asyncop_queue_set_state(q, id, bad_states[i], ASYNCOP_STATUS_CANCELED));
    }
    for (i = 0; i < COUNT(bad_statuses); i++) {
        CHECK_RC(OOR, asyncop_queue_set_state(q, id, ASYNCOP_STATE_COMPLETED, bad_statuses[i]));
        CHECK_RC(OOR, asyncop_queue_set_state(q, id, ASYNCOP_STATE_SUSPENDED, bad_statuses[i]));
    }
    /* -1 is "any" in a query filter, not a state for set_state. */
    CHECK_RC(OOR, asyncop_queue_set_state(q, id, -1, ASYNCOP_STATUS_NONE));
    /* Nor a status: only ASYNCOP_STATUS_NONE (INT32_MIN) means "no status". */
    CHECK_RC(OOR, asyncop_queue_set_state(q, id, ASYNCOP_STATE_READY, -1));
    CHECK_RC(OOR, asyncop_queue_set_state(q, id, ASYNCOP_STATE_COMPLETED, -1));
    /* Valid codes that do not belong together: INVALID_ARG. */
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_queue_set_state(q, id, 0, 10));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_queue_set_state(q, id, 3, 20));
    CHECK(test_snap_equal(before, test_snapshot(q, id)));
    CHECK_STATE(q, id, ASYNCOP_STATE_READY, ASYNCOP_STATUS_WAITING_FOR_RESOURCES);
}

static void query(const asyncop_queue *q) {
    size_t i;
    asyncop_operation_list *list = NULL;
    for (i = 0; i < COUNT(bad_states); i++) {
        CHECK_RC(OOR, asyncop_queue_query(q, bad_states[i], ASYNCOP_ANY, ASYNCOP_ANY, NULL, NULL, NULL, NULL,
                                          ASYNCOP_TIME_NONE, 0, -1, 0, &list));
    }
    for (i = 0; i < COUNT(bad_statuses); i++) {
        CHECK_RC(OOR, asyncop_queue_query(q, ASYNCOP_ANY, bad_statuses[i], ASYNCOP_ANY, NULL, NULL, NULL, NULL,
                                          ASYNCOP_TIME_NONE, 0, -1, 0, &list));
    }
    CHECK(list == NULL);
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_queue_query(q, 0, 10, ASYNCOP_ANY, NULL, NULL, NULL, NULL,
                                                          ASYNCOP_TIME_NONE, 0, -1, 0, &list));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_queue_query(q, ASYNCOP_ANY, ASYNCOP_ANY, ASYNCOP_ANY,
                                                          NULL, NULL, NULL, NULL, ASYNCOP_TIME_NONE, 0, -2, 0,
                                                          &list));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_queue_query(q, ASYNCOP_ANY, ASYNCOP_ANY, ASYNCOP_ANY,
                                                          NULL, NULL, NULL, NULL, ASYNCOP_TIME_NONE, 0, -1, -1,
                                                          &list));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_queue_query(q, ASYNCOP_ANY, ASYNCOP_ANY, 0, NULL, NULL, NULL, NULL,
                                                          ASYNCOP_TIME_NONE, 0, -1, 0, &list));
    CHECK(list == NULL);
}

static void report(const asyncop_queue *q) {
    static const int32_t bad_outcomes[] = {5, 6, -1, -2, 100, INT32_MAX, INT32_MIN};
    asyncop_lease *l;
    int64_t id = test_submit(q, "report", 9000);
    int32_t st = -7;
    size_t i;
    test_snap before;

    l = test_claim(q, "host", 9000);
    before = test_snapshot(q, id);
    for (i = 0; i < COUNT(bad_outcomes); i++) {
        CHECK_RC(OOR, asyncop_lease_report(l, bad_outcomes[i], 0, "m", "f", ASYNCOP_TIME_NONE, &st));
    }
    CHECK(st == -7);
    CHECK(test_snap_equal(before, test_snapshot(q, id)));
    CHECK_OK(asyncop_lease_renew(l, &st)); /* the lease is still live */
    CHECK(st == ASYNCOP_STATUS_IN_PROGRESS);
    CHECK_OK(asyncop_lease_report(l, ASYNCOP_OUTCOME_SUCCEEDED, 0, NULL, NULL, ASYNCOP_TIME_NONE, &st));
    CHECK(st == ASYNCOP_STATUS_SUCCEEDED);
    CHECK_OK(asyncop_lease_free(l));
}

static void indexes(const asyncop_queue *q) {
    asyncop_operation_list *list = NULL;
    asyncop_counts *counts = NULL;
    asyncop_operation *op = NULL;
    size_t n = 0;
    int32_t st = -7, su = -7, ty = -7;
    int64_t cnt = -7;

    REQUIRE_OK(asyncop_queue_query(q, ASYNCOP_ANY, ASYNCOP_ANY, ASYNCOP_ANY, NULL, NULL, NULL, NULL,
                                   ASYNCOP_TIME_NONE, 0, -1, 0, &list));
    CHECK_OK(asyncop_operation_list_count(list, &n));
    CHECK(n >= 1);
    CHECK_RC(OOR, asyncop_operation_list_get(list, n, &op));
    CHECK_RC(OOR, asyncop_operation_list_get(list, n + 1, &op));
    CHECK_RC(OOR, asyncop_operation_list_get(list, (size_t)-1, &op));
    CHECK(op == NULL);
    CHECK_OK(asyncop_operation_list_get(list, n - 1, &op));
    CHECK_OK(asyncop_operation_free(op));
    CHECK_OK(asyncop_operation_list_free(list));

    /* An empty list: index 0 is already out of range. */
    REQUIRE_OK(asyncop_queue_query(q, ASYNCOP_ANY, ASYNCOP_ANY, ASYNCOP_ANY, "no such name", NULL, NULL, NULL,
                                   ASYNCOP_TIME_NONE, 0, -1, 0, &list));
    CHECK_OK(asyncop_operation_list_count(list, &n));
    CHECK(n == 0);
    op = NULL;
    CHECK_RC(OOR, asyncop_operation_list_get(list, 0, &op));
    CHECK(op == NULL);
    CHECK_OK(asyncop_operation_list_free(list));

    REQUIRE_OK(asyncop_queue_counts(q, &counts));
    CHECK_OK(asyncop_counts_count(counts, &n));
    CHECK(n >= 1);
    CHECK_RC(OOR, asyncop_counts_get(counts, n, &st, &su, &ty, &cnt));
    CHECK_RC(OOR, asyncop_counts_get(counts, (size_t)-1, &st, &su, &ty, &cnt));
    CHECK(st == -7 && su == -7 && ty == -7 && cnt == -7);
    CHECK_OK(asyncop_counts_free(counts));
}

/* allow_delete_any: set 1, then 2 (refused); the 1 must survive into the file. */
static void options(void) {
    asyncop_options *o = NULL;
    asyncop_queue *q;
    char path[600];
    int64_t id;

    REQUIRE_OK(asyncop_options_new(&o));
    CHECK_RC(OOR, asyncop_options_set_durability(o, 2));
    CHECK_RC(OOR, asyncop_options_set_durability(o, -1));
    CHECK_RC(OOR, asyncop_options_set_durability(o, INT32_MAX));
    CHECK_OK(asyncop_options_set_durability(o, ASYNCOP_DURABILITY_NORMAL));
    CHECK_OK(asyncop_options_set_allow_delete_any(o, 1));
    CHECK_RC(OOR, asyncop_options_set_allow_delete_any(o, 2));
    CHECK_RC(OOR, asyncop_options_set_allow_delete_any(o, -1));
    CHECK_RC(OOR, asyncop_options_set_allow_delete_any(o, INT32_MIN));
    q = test_open(test_path(path, sizeof path, "any.db"), o);
    id = test_submit(q, "ready", 1);
    CHECK_OK(asyncop_queue_delete(q, id)); /* allow_delete_any is still 1 */
    CHECK_OK(asyncop_queue_close(q));
    CHECK_OK(asyncop_options_free(o));

    /* And the other way round: 0, then 2 refused; Delete of Ready stays refused. */
    REQUIRE_OK(asyncop_options_new(&o));
    CHECK_OK(asyncop_options_set_allow_delete_any(o, 0));
    CHECK_RC(OOR, asyncop_options_set_allow_delete_any(o, 2));
    q = test_open(test_path(path, sizeof path, "completed-only.db"), o);
    id = test_submit(q, "ready", 1);
    CHECK_RC(ASYNCOP_ERR_CANNOT_DELETE_UNLESS_COMPLETED, asyncop_queue_delete(q, id));
    CHECK_STATE(q, id, ASYNCOP_STATE_READY, ASYNCOP_STATUS_WAITING_FOR_RESOURCES);
    CHECK_OK(asyncop_queue_close(q));
    CHECK_OK(asyncop_options_free(o));
}

/* Durations far beyond any real use: the setter refuses them, or open and the
 * calls after it work; a panic caught at the boundary is not an answer. */
static void huge_durations(void) {
    static const int64_t huge[] = {(int64_t)INT32_MAX + 1, 3000000000LL, INT64_MAX};
    char path[600];
    size_t i;
    for (i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        asyncop_options *o = NULL;
        asyncop_queue *q = NULL;
        int32_t rc;
        REQUIRE_OK(asyncop_options_new(&o));
        rc = asyncop_options_set_busy_timeout_ms(o, huge[i]);
        if (rc == ASYNCOP_OK) {
            rc = asyncop_queue_open(test_path(path, sizeof path, "busy.db"), o, &q);
            if (rc != ASYNCOP_OK && rc != ASYNCOP_ERR_INVALID_ARG) {
                char msg[256];
                (void)asyncop_last_error_message(msg, sizeof msg);
                fprintf(stderr,
                        "FAIL [out_of_range] %s:%d: asyncop_options_set_busy_timeout_ms(o, %lld) "
                        "gave OK, then asyncop_queue_open gave %s, want OK or INVALID_ARG\n"
                        "    last error: \"%s\"\n",
                        __FILE__, __LINE__, (long long)huge[i], asyncop_status_name(rc), msg);
                test_count_failure_();
            }
            if (rc == ASYNCOP_OK) {
                (void)test_submit(q, "fine", 1);
                CHECK_OK(asyncop_queue_close(q));
            }
        } else {
            CHECK(rc == ASYNCOP_ERR_INVALID_ARG || rc == ASYNCOP_ERR_OUT_OF_RANGE);
        }
        CHECK_OK(asyncop_options_free(o));

        REQUIRE_OK(asyncop_options_new(&o));
        rc = asyncop_options_set_lease_ms(o, huge[i]);
        CHECK(rc == ASYNCOP_OK || rc == ASYNCOP_ERR_INVALID_ARG);
        if (rc == ASYNCOP_OK) CHECK_OK(asyncop_options_set_backoff_ms(o, huge[i], huge[i]));
        if (rc == ASYNCOP_OK) {
            int64_t id;
            asyncop_lease *l;
            int32_t st = 0;
            q = test_open(test_path(path, sizeof path, "lease.db"), o);
            id = test_submit(q, "huge lease", 2);
            l = test_claim(q, "host", 2);
            CHECK(test_lease_id(l) == id);
            CHECK_OK(asyncop_lease_renew(l, &st));
            CHECK_OK(asyncop_lease_retry(l, 0, NULL, ASYNCOP_TIME_NONE, &st));
            CHECK(st == ASYNCOP_STATUS_WAITING);
            CHECK_OK(asyncop_lease_free(l));
            CHECK_OK(asyncop_queue_postpone(q, id, INT64_MAX));
            CHECK_OK(asyncop_queue_close(q));
        }
        CHECK_OK(asyncop_options_free(o));
    }
}

int main(void) {
    char path[600];
    asyncop_queue *q;
    int64_t id;

    test_begin("out_of_range", 120);
    q = test_open(test_path(path, sizeof path, "q.db"), NULL);
    id = test_submit(q, "target", 1);
    set_state(q, id);
    query(q);
    report(q);
    indexes(q);
    options();
    huge_durations();
    CHECK_OK(asyncop_queue_close(q));
    return test_end();
}
