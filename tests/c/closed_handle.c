/*
 * closed_handle: every function on a closed queue handle gives
 * ASYNCOP_ERR_CLOSED_HANDLE; leases, operation snapshots, lists and counts
 * obtained from a queue give CLOSED_HANDLE once that queue is closed (every
 * getter and host call), and freeing them still works (once). Freed options
 * and specs give CLOSED_HANDLE to setters, to open and to submit_many. A
 * second handle on the same file is unaffected, and a lease whose queue was
 * closed leaves its operation untouched.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#define CLOSED ASYNCOP_ERR_CLOSED_HANDLE

static void closed_queue(asyncop_queue *q, int64_t id) {
    asyncop_operation *op = NULL;
    asyncop_operation_list *list = NULL;
    asyncop_counts *counts = NULL;
    asyncop_lease *leases[1] = {NULL};
    asyncop_spec *spec = NULL;
    const asyncop_spec *specs[1];
    int64_t out = -7, ids[1] = {-7}, a = -7, b = -7, c = -7;
    size_t n = 999;

    REQUIRE_OK(asyncop_spec_new("s", 1, &spec));
    specs[0] = spec;
    CHECK_RC(CLOSED, asyncop_queue_now(q, &out));
    CHECK_RC(CLOSED, asyncop_queue_submit(q, "n", 1, NULL, 0, NULL, ASYNCOP_TIME_NONE, NULL, &out));
    CHECK_RC(CLOSED, asyncop_queue_submit_many(q, specs, 1, ids));
    CHECK_RC(CLOSED, asyncop_queue_retrieve(q, id, &op));
    CHECK_RC(CLOSED, asyncop_queue_query(q, ASYNCOP_ANY, ASYNCOP_ANY, ASYNCOP_ANY, NULL, NULL, NULL, NULL,
                                         ASYNCOP_TIME_NONE, 0, -1, 0, &list));
    CHECK_RC(CLOSED, asyncop_queue_counts(q, &counts));
    CHECK_RC(CLOSED, asyncop_queue_cancel(q, id));
    CHECK_RC(CLOSED, asyncop_queue_pause(q, id));
    CHECK_RC(CLOSED, asyncop_queue_resume(q, id));
    CHECK_RC(CLOSED, asyncop_queue_postpone(q, id, test_wall_ms() + 60000));
    CHECK_RC(CLOSED, asyncop_queue_set_postpone_until(q, id, test_wall_ms() + 60000));
    CHECK_RC(CLOSED, asyncop_queue_delete(q, id));
    CHECK_RC(CLOSED, asyncop_queue_set_state(q, id, 3, ASYNCOP_STATUS_NONE));
    CHECK_RC(CLOSED, asyncop_queue_poll(q, "h", NULL, 0, 0, leases, 1, &n));
    CHECK_RC(CLOSED, asyncop_queue_poll(q, "h", NULL, 0, 50, leases, 1, &n));
    CHECK_RC(CLOSED, asyncop_queue_wait_for(q, id, 0, &op));
    CHECK_RC(CLOSED, asyncop_queue_wait_for(q, id, 50, &op));
    CHECK_RC(CLOSED, asyncop_queue_run_maintenance(q, &a, &b, &c));
    CHECK_RC(CLOSED, asyncop_queue_close(q));
    CHECK(out == -7 && ids[0] == -7 && op == NULL && list == NULL && counts == NULL);
    CHECK(leases[0] == NULL && n == 999 && a == -7 && b == -7 && c == -7);
    CHECK_OK(asyncop_spec_free(spec));
}

static void closed_lease(asyncop_lease *l) {
    int64_t i64 = -7;
    int32_t i32 = -7, st = -7, present = -7;
    size_t len = 999;
    char buf[64];
    uint8_t bytes[64];

    CHECK_RC(CLOSED, asyncop_lease_id(l, &i64));
    CHECK_RC(CLOSED, asyncop_lease_lock_token(l, &i64));
    CHECK_RC(CLOSED, asyncop_lease_operation_type(l, &i32));
    CHECK_RC(CLOSED, asyncop_lease_attempt(l, &i32));
    CHECK_RC(CLOSED, asyncop_lease_expires_at(l, &i64));
    CHECK_RC(CLOSED, asyncop_lease_name(l, buf, sizeof buf, &len));
    CHECK_RC(CLOSED, asyncop_lease_name(l, NULL, 0, &len));
    CHECK_RC(CLOSED, asyncop_lease_host_id(l, buf, sizeof buf, &len));
    CHECK_RC(CLOSED, asyncop_lease_data(l, bytes, sizeof bytes, &len));
    CHECK_RC(CLOSED, asyncop_lease_dependency_token(l, buf, sizeof buf, &len, &present));
    CHECK_RC(CLOSED, asyncop_lease_correlation_id(l, buf, sizeof buf, &len, &present));
    CHECK_RC(CLOSED, asyncop_lease_renew(l, &st));
    CHECK_RC(CLOSED, asyncop_lease_complete(l, &st));
    CHECK_RC(CLOSED, asyncop_lease_fail(l, 1, "m", &st));
    CHECK_RC(CLOSED, asyncop_lease_retry(l, 1, "m", ASYNCOP_TIME_NONE, &st));
    CHECK_RC(CLOSED, asyncop_lease_suspend(l, 1, "m", &st));
    CHECK_RC(CLOSED, asyncop_lease_acknowledge_pause(l, &st));
    CHECK_RC(CLOSED, asyncop_lease_acknowledge_cancel(l, &st));
    CHECK_RC(CLOSED, asyncop_lease_report(l, ASYNCOP_OUTCOME_SUCCEEDED, 0, NULL, NULL,
                                          ASYNCOP_TIME_NONE, &st));
    CHECK(i64 == -7 && i32 == -7 && st == -7 && present == -7 && len == 999);
    CHECK_OK(asyncop_lease_free(l));
    CHECK_RC(CLOSED, asyncop_lease_free(l));
}

static void closed_operation(asyncop_operation *op) {
    int64_t i64 = -7;
    int32_t i32 = -7, present = -7;
    size_t len = 999;
    char buf[64];
    uint8_t bytes[64];

    CHECK_RC(CLOSED, asyncop_operation_id(op, &i64));
    CHECK_RC(CLOSED, asyncop_operation_operation_type(op, &i32));
    CHECK_RC(CLOSED, asyncop_operation_state(op, &i32));
    CHECK_RC(CLOSED, asyncop_operation_status(op, &i32));
    CHECK_RC(CLOSED, asyncop_operation_lock_token(op, &i64));
    CHECK_RC(CLOSED, asyncop_operation_retry_count(op, &i32));
    CHECK_RC(CLOSED, asyncop_operation_created_on(op, &i64));
    CHECK_RC(CLOSED, asyncop_operation_modified_on(op, &i64));
    CHECK_RC(CLOSED, asyncop_operation_postpone_until(op, &i64, &present));
    CHECK_RC(CLOSED, asyncop_operation_lease_expires_at(op, &i64, &present));
    CHECK_RC(CLOSED, asyncop_operation_error_code(op, &i32, &present));
    CHECK_RC(CLOSED, asyncop_operation_started_on(op, &i64, &present));
    CHECK_RC(CLOSED, asyncop_operation_completed_on(op, &i64, &present));
    CHECK_RC(CLOSED, asyncop_operation_execution_time_span(op, &i64, &present));
    CHECK_RC(CLOSED, asyncop_operation_name(op, buf, sizeof buf, &len));
    CHECK_RC(CLOSED, asyncop_operation_data(op, bytes, sizeof bytes, &len));
    CHECK_RC(CLOSED, asyncop_operation_dependency_token(op, buf, sizeof buf, &len, &present));
    CHECK_RC(CLOSED, asyncop_operation_host_id(op, buf, sizeof buf, &len, &present));
    CHECK_RC(CLOSED, asyncop_operation_message(op, buf, sizeof buf, &len, &present));
    CHECK_RC(CLOSED, asyncop_operation_friendly_message(op, buf, sizeof buf, &len, &present));
    CHECK_RC(CLOSED, asyncop_operation_correlation_id(op, buf, sizeof buf, &len, &present));
    CHECK(i64 == -7 && i32 == -7 && present == -7 && len == 999);
    CHECK_OK(asyncop_operation_free(op));
    CHECK_RC(CLOSED, asyncop_operation_free(op));
}

static void closed_list(asyncop_operation_list *list) {
    size_t n = 999;
    asyncop_operation *op = NULL;
    CHECK_RC(CLOSED, asyncop_operation_list_count(list, &n));
    CHECK_RC(CLOSED, asyncop_operation_list_get(list, 0, &op));
    CHECK(n == 999 && op == NULL);
    CHECK_OK(asyncop_operation_list_free(list));
    CHECK_RC(CLOSED, asyncop_operation_list_free(list));
}

static void closed_counts(asyncop_counts *counts) {
    size_t n = 999;
    int32_t st = -7, su = -7, ty = -7;
    int64_t cnt = -7;
    CHECK_RC(CLOSED, asyncop_counts_count(counts, &n));
    CHECK_RC(CLOSED, asyncop_counts_get(counts, 0, &st, &su, &ty, &cnt));
    CHECK(n == 999 && st == -7 && su == -7 && ty == -7 && cnt == -7);
    CHECK_OK(asyncop_counts_free(counts));
    CHECK_RC(CLOSED, asyncop_counts_free(counts));
}

static void freed_options_and_specs(const char *path, const asyncop_queue *q) {
    asyncop_options *o = NULL;
    asyncop_spec *s = NULL;
    asyncop_queue *out_q = NULL;
    const asyncop_spec *specs[1];
    int64_t ids[1] = {-7};
    const int32_t types[1] = {5};
    const uint8_t data[1] = {1};
    int64_t total = test_total(q);

    REQUIRE_OK(asyncop_options_new(&o));
    CHECK_OK(asyncop_options_free(o));
    CHECK_RC(CLOSED, asyncop_options_set_durability(o, ASYNCOP_DURABILITY_NORMAL));
    CHECK_RC(CLOSED, asyncop_options_set_busy_timeout_ms(o, 10));
    CHECK_RC(CLOSED, asyncop_options_set_lease_ms(o, 1000));
    CHECK_RC(CLOSED, asyncop_options_set_restricted_types(o, types, 1));
    CHECK_RC(CLOSED, asyncop_options_set_max_attempts(o, 2));
    CHECK_RC(CLOSED, asyncop_options_set_backoff_ms(o, 1, 2));
    CHECK_RC(CLOSED, asyncop_options_set_allow_delete_any(o, 1));
    CHECK_RC(CLOSED, asyncop_queue_open(path, o, &out_q));
    CHECK(out_q == NULL);

    REQUIRE_OK(asyncop_spec_new("s", 1, &s));
    CHECK_OK(asyncop_spec_free(s));
    CHECK_RC(CLOSED, asyncop_spec_set_data(s, data, 1));
    CHECK_RC(CLOSED, asyncop_spec_set_dependency_token(s, "t"));
    CHECK_RC(CLOSED, asyncop_spec_set_postpone_until(s, ASYNCOP_TIME_NONE));
    CHECK_RC(CLOSED, asyncop_spec_set_correlation_id(s, "c"));
    specs[0] = s;
    CHECK_RC(CLOSED, asyncop_queue_submit_many(q, specs, 1, ids));
    CHECK(ids[0] == -7);
    CHECK(test_total(q) == total);
}

int main(void) {
    char path[600];
    asyncop_queue *q, *q2;
    asyncop_lease *l;
    asyncop_operation *op = NULL;
    asyncop_operation_list *list = NULL;
    asyncop_counts *counts = NULL;
    int64_t id, locked_id;
    const uint8_t data[2] = {7, 8};

    test_begin("closed_handle", 120);
    test_path(path, sizeof path, "q.db");
    q = test_open(path, NULL);
    q2 = test_open(path, NULL);
    REQUIRE_OK(asyncop_queue_submit(q, "op", 1, data, sizeof data, "tok", ASYNCOP_TIME_NONE,
                                    "corr", &locked_id));
    id = test_submit(q, "other", 2);
    l = test_claim(q, "host", 1);
    REQUIRE_OK(asyncop_queue_retrieve(q, locked_id, &op));
    REQUIRE_OK(asyncop_queue_query(q, ASYNCOP_ANY, ASYNCOP_ANY, ASYNCOP_ANY, NULL, NULL, NULL, NULL,
                                   ASYNCOP_TIME_NONE, 0, -1, 0, &list));
    REQUIRE_OK(asyncop_queue_counts(q, &counts));

    freed_options_and_specs(path, q);

    CHECK_OK(asyncop_queue_close(q));
    closed_queue(q, id);
    closed_lease(l);
    closed_operation(op);
    closed_list(list);
    closed_counts(counts);

    /* The other handle on the file is fine; the lease of the closed queue was
     * not ended by the close: the operation is still running. */
    CHECK_STATE(q2, locked_id, ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_IN_PROGRESS);
    CHECK_STATE(q2, id, ASYNCOP_STATE_READY, ASYNCOP_STATUS_WAITING_FOR_RESOURCES);
    CHECK(test_total(q2) == 2);

    /* Handles obtained from q2 stay valid until q2 is closed. */
    REQUIRE_OK(asyncop_queue_retrieve(q2, id, &op));
    {
        int64_t got = 0;
        CHECK_OK(asyncop_operation_id(op, &got));
        CHECK(got == id);
    }
    CHECK_OK(asyncop_queue_close(q2));
    {
        int64_t got = -7;
        CHECK_RC(CLOSED, asyncop_operation_id(op, &got));
        CHECK(got == -7);
    }
    CHECK_OK(asyncop_operation_free(op));
    return test_end();
}
