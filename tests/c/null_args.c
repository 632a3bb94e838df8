/*
 * null_args: NULL for every pointer parameter of every function gives
 * ASYNCOP_ERR_NULL_ARG (with a message), writes no out-parameter and changes
 * nothing; the documented-optional pointers (options in open, data with length
 * 0, dependency_token/correlation_id in submit and in specs, name and
 * dependency_token filters in query, types with length 0, report messages)
 * accept NULL; NULL handles to close/free are a no-op returning OK.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#define NULL_ARG ASYNCOP_ERR_NULL_ARG

static void options_and_specs(void) {
    asyncop_options *o = NULL;
    asyncop_spec *s = NULL;
    const int32_t types[2] = {9, 10};
    const uint8_t data[3] = {1, 2, 3};

    CHECK_RC(NULL_ARG, asyncop_options_new(NULL));
    REQUIRE_OK(asyncop_options_new(&o));
    CHECK_RC(NULL_ARG, asyncop_options_set_durability(NULL, ASYNCOP_DURABILITY_NORMAL));
    CHECK_RC(NULL_ARG, asyncop_options_set_busy_timeout_ms(NULL, 100));
    CHECK_RC(NULL_ARG, asyncop_options_set_lease_ms(NULL, 1000));
    CHECK_RC(NULL_ARG, asyncop_options_set_restricted_types(NULL, types, 2));
    CHECK_RC(NULL_ARG, asyncop_options_set_restricted_types(o, NULL, 2));
    CHECK_OK(asyncop_options_set_restricted_types(o, NULL, 0)); /* "len 0 means none" */
    CHECK_RC(NULL_ARG, asyncop_options_set_max_attempts(NULL, 2));
    CHECK_RC(NULL_ARG, asyncop_options_set_backoff_ms(NULL, 1, 2));
    CHECK_RC(NULL_ARG, asyncop_options_set_allow_delete_any(NULL, 1));
    CHECK_OK(asyncop_options_free(NULL));
    CHECK_OK(asyncop_options_free(o));

    CHECK_RC(NULL_ARG, asyncop_spec_new(NULL, 1, &s));
    CHECK(s == NULL);
    CHECK_RC(NULL_ARG, asyncop_spec_new("name", 1, NULL));
    REQUIRE_OK(asyncop_spec_new("name", 1, &s));
    CHECK_RC(NULL_ARG, asyncop_spec_set_data(NULL, data, sizeof data));
    CHECK_RC(NULL_ARG, asyncop_spec_set_data(s, NULL, 3));
    CHECK_OK(asyncop_spec_set_data(s, NULL, 0));
    CHECK_RC(NULL_ARG, asyncop_spec_set_dependency_token(NULL, "tok"));
    CHECK_OK(asyncop_spec_set_dependency_token(s, NULL));
    CHECK_RC(NULL_ARG, asyncop_spec_set_postpone_until(NULL, ASYNCOP_TIME_NONE));
    CHECK_RC(NULL_ARG, asyncop_spec_set_correlation_id(NULL, "corr"));
    CHECK_OK(asyncop_spec_set_correlation_id(s, NULL));
    CHECK_OK(asyncop_spec_free(NULL));
    CHECK_OK(asyncop_spec_free(s));
}

static void queue_functions(asyncop_queue *q, int64_t ready_id) {
    asyncop_operation *op = NULL;
    asyncop_operation_list *list = NULL;
    asyncop_counts *counts = NULL;
    asyncop_lease *leases[2] = {NULL, NULL};
    asyncop_spec *spec = NULL;
    const asyncop_spec *specs[2] = {NULL, NULL};
    int64_t ids[2] = {-7, -7};
    int64_t id = -7, now = -7, a = -7, b = -7, c = -7;
    size_t n = 999;
    const int32_t types[1] = {1};
    const uint8_t data[3] = {1, 2, 3};
    char path[600];
    int64_t total = test_total(q);
    test_snap before = test_snapshot(q, ready_id);

    /* open: path and out_queue are required, options optional. */
    CHECK_RC(NULL_ARG, asyncop_queue_open(NULL, NULL, &q));
    test_path(path, sizeof path, "never.db");
    CHECK_RC(NULL_ARG, asyncop_queue_open(path, NULL, NULL));
    CHECK(!test_file_exists(path)); /* refused before touching the file system */
    CHECK_OK(asyncop_queue_close(NULL));

    CHECK_RC(NULL_ARG, asyncop_queue_now(NULL, &now));
    CHECK_RC(NULL_ARG, asyncop_queue_now(q, NULL));
    CHECK(now == -7);

    CHECK_RC(NULL_ARG, asyncop_queue_submit(NULL, "n", 1, data, 3, NULL, ASYNCOP_TIME_NONE, NULL, &id));
    CHECK_RC(NULL_ARG, asyncop_queue_submit(q, NULL, 1, data, 3, NULL, ASYNCOP_TIME_NONE, NULL, &id));
    CHECK_RC(NULL_ARG, asyncop_queue_submit(q, "n", 1, NULL, 3, NULL, ASYNCOP_TIME_NONE, NULL, &id));
    CHECK_RC(NULL_ARG, asyncop_queue_submit(q, "n", 1, data, 3, NULL, ASYNCOP_TIME_NONE, NULL, NULL));
    CHECK(id == -7);
    CHECK(test_total(q) == total);

    REQUIRE_OK(asyncop_spec_new("many", 1, &spec));
    specs[0] = spec;
    specs[1] = NULL;
    CHECK_RC(NULL_ARG, asyncop_queue_submit_many(NULL, specs, 1, ids));
    CHECK_RC(NULL_ARG, asyncop_queue_submit_many(q, NULL, 1, ids));
    CHECK_RC(NULL_ARG, asyncop_queue_submit_many(q, specs, 2, ids)); /* a NULL element */
    CHECK_RC(NULL_ARG, asyncop_queue_submit_many(q, specs, 1, NULL));
    CHECK(ids[0] == -7 && ids[1] == -7);
    CHECK(test_total(q) == total); /* all or none */
    CHECK_OK(asyncop_spec_free(spec));

    CHECK_RC(NULL_ARG, asyncop_queue_retrieve(NULL, ready_id, &op));
    CHECK_RC(NULL_ARG, asyncop_queue_retrieve(q, ready_id, NULL));
    CHECK(op == NULL);

    CHECK_RC(NULL_ARG, asyncop_queue_query(NULL, ASYNCOP_ANY, ASYNCOP_ANY, ASYNCOP_ANY, NULL, NULL, NULL, NULL,
                                           ASYNCOP_TIME_NONE, 0, -1, 0, &list));
    CHECK_RC(NULL_ARG, asyncop_queue_query(q, ASYNCOP_ANY, ASYNCOP_ANY, ASYNCOP_ANY, NULL, NULL, NULL, NULL,
                                           ASYNCOP_TIME_NONE, 0, -1, 0, NULL));
    CHECK(list == NULL);

    CHECK_RC(NULL_ARG, asyncop_queue_counts(NULL, &counts));
    CHECK_RC(NULL_ARG, asyncop_queue_counts(q, NULL));
    CHECK(counts == NULL);

    CHECK_RC(NULL_ARG, asyncop_queue_cancel(NULL, ready_id));
    CHECK_RC(NULL_ARG, asyncop_queue_pause(NULL, ready_id));
    CHECK_RC(NULL_ARG, asyncop_queue_resume(NULL, ready_id));
    CHECK_RC(NULL_ARG, asyncop_queue_postpone(NULL, ready_id, test_wall_ms() + 60000));
    CHECK_RC(NULL_ARG, asyncop_queue_set_postpone_until(NULL, ready_id, test_wall_ms() + 60000));
    CHECK_RC(NULL_ARG, asyncop_queue_delete(NULL, ready_id));
    CHECK_RC(NULL_ARG, asyncop_queue_set_state(NULL, ready_id, 3, ASYNCOP_STATUS_NONE));

    CHECK_RC(NULL_ARG, asyncop_queue_poll(NULL, "h", NULL, 0, 0, leases, 2, &n));
    CHECK_RC(NULL_ARG, asyncop_queue_poll(q, NULL, NULL, 0, 0, leases, 2, &n));
    CHECK_RC(NULL_ARG, asyncop_queue_poll(q, "h", NULL, 1, 0, leases, 2, &n));
    CHECK_RC(NULL_ARG, asyncop_queue_poll(q, "h", types, 1, 0, NULL, 2, &n));
    CHECK_RC(NULL_ARG, asyncop_queue_poll(q, "h", types, 1, 0, leases, 2, NULL));
    CHECK(n == 999);
    CHECK(leases[0] == NULL && leases[1] == NULL);

    CHECK_RC(NULL_ARG, asyncop_queue_wait_for(NULL, ready_id, 0, &op));
    CHECK_RC(NULL_ARG, asyncop_queue_wait_for(q, ready_id, 0, NULL));
    CHECK(op == NULL);

    CHECK_RC(NULL_ARG, asyncop_queue_run_maintenance(NULL, &a, &b, &c));
    CHECK_RC(NULL_ARG, asyncop_queue_run_maintenance(q, NULL, &b, &c));
    CHECK_RC(NULL_ARG, asyncop_queue_run_maintenance(q, &a, NULL, &c));
    CHECK_RC(NULL_ARG, asyncop_queue_run_maintenance(q, &a, &b, NULL));
    CHECK(a == -7 && b == -7 && c == -7);

    /* Nothing of the above touched the operation. */
    CHECK(test_snap_equal(before, test_snapshot(q, ready_id)));
    CHECK(test_total(q) == total);
}

static void lease_functions(asyncop_lease *l, const asyncop_queue *q) {
    int64_t i64 = -7;
    int32_t i32 = -7, st = -7, present = -7;
    size_t len = 999;
    char buf[64];
    uint8_t bytes[64];
    int64_t id = test_lease_id(l);
    test_snap before = test_snapshot(q, id);

    CHECK_OK(asyncop_lease_free(NULL));
    CHECK_RC(NULL_ARG, asyncop_lease_id(NULL, &i64));
    CHECK_RC(NULL_ARG, asyncop_lease_id(l, NULL));
    CHECK_RC(NULL_ARG, asyncop_lease_lock_token(NULL, &i64));
    CHECK_RC(NULL_ARG, asyncop_lease_lock_token(l, NULL));
    CHECK_RC(NULL_ARG, asyncop_lease_operation_type(NULL, &i32));
    CHECK_RC(NULL_ARG, asyncop_lease_operation_type(l, NULL));
    CHECK_RC(NULL_ARG, asyncop_lease_attempt(NULL, &i32));
    CHECK_RC(NULL_ARG, asyncop_lease_attempt(l, NULL));
    CHECK_RC(NULL_ARG, asyncop_lease_expires_at(NULL, &i64));
    CHECK_RC(NULL_ARG, asyncop_lease_expires_at(l, NULL));
    CHECK(i64 == -7 && i32 == -7);

    CHECK_RC(NULL_ARG, asyncop_lease_name(NULL, buf, sizeof buf, &len));
    CHECK_RC(NULL_ARG, asyncop_lease_name(l, buf, sizeof buf, NULL));
    CHECK_RC(NULL_ARG, asyncop_lease_name(l, NULL, 16, &len));
    CHECK_RC(NULL_ARG, asyncop_lease_host_id(NULL, buf, sizeof buf, &len));
    CHECK_RC(NULL_ARG, asyncop_lease_host_id(l, buf, sizeof buf, NULL));
    CHECK_RC(NULL_ARG, asyncop_lease_host_id(l, NULL, 16, &len));
    CHECK_RC(NULL_ARG, asyncop_lease_data(NULL, bytes, sizeof bytes, &len));
    CHECK_RC(NULL_ARG, asyncop_lease_data(l, bytes, sizeof bytes, NULL));
    CHECK_RC(NULL_ARG, asyncop_lease_data(l, NULL, 16, &len));
    CHECK_RC(NULL_ARG, asyncop_lease_dependency_token(NULL, buf, sizeof buf, &len, &present));
    CHECK_RC(NULL_ARG, asyncop_lease_dependency_token(l, buf, sizeof buf, NULL, &present));
    CHECK_RC(NULL_ARG, asyncop_lease_dependency_token(l, buf, sizeof buf, &len, NULL));
    CHECK_RC(NULL_ARG, asyncop_lease_dependency_token(l, NULL, 16, &len, &present));
    CHECK_RC(NULL_ARG, asyncop_lease_correlation_id(NULL, buf, sizeof buf, &len, &present));
    CHECK_RC(NULL_ARG, asyncop_lease_correlation_id(l, buf, sizeof buf, NULL, &present));
    CHECK_RC(NULL_ARG, asyncop_lease_correlation_id(l, buf, sizeof buf, &len, NULL));
    CHECK_RC(NULL_ARG, asyncop_lease_correlation_id(l, NULL, 16, &len, &present));
    CHECK(len == 999 && present == -7);

    CHECK_RC(NULL_ARG, asyncop_lease_renew(NULL, &st));
    CHECK_RC(NULL_ARG, asyncop_lease_renew(l, NULL));
    CHECK_RC(NULL_ARG, asyncop_lease_complete(NULL, &st));
    CHECK_RC(NULL_ARG, asyncop_lease_complete(l, NULL));
    CHECK_RC(NULL_ARG, asyncop_lease_fail(NULL, 1, "m", &st));
    CHECK_RC(NULL_ARG, asyncop_lease_fail(l, 1, "m", NULL));
    CHECK_RC(NULL_ARG, asyncop_lease_retry(NULL, 1, "m", ASYNCOP_TIME_NONE, &st));
    CHECK_RC(NULL_ARG, asyncop_lease_retry(l, 1, "m", ASYNCOP_TIME_NONE, NULL));
    CHECK_RC(NULL_ARG, asyncop_lease_suspend(NULL, 1, "m", &st));
    CHECK_RC(NULL_ARG, asyncop_lease_suspend(l, 1, "m", NULL));
    CHECK_RC(NULL_ARG, asyncop_lease_acknowledge_pause(NULL, &st));
    CHECK_RC(NULL_ARG, asyncop_lease_acknowledge_pause(l, NULL));
    CHECK_RC(NULL_ARG, asyncop_lease_acknowledge_cancel(NULL, &st));
    CHECK_RC(NULL_ARG, asyncop_lease_acknowledge_cancel(l, NULL));
    CHECK_RC(NULL_ARG, asyncop_lease_report(NULL, ASYNCOP_OUTCOME_SUCCEEDED, 0, "m", "f",
                                            ASYNCOP_TIME_NONE, &st));
    CHECK_RC(NULL_ARG, asyncop_lease_report(l, ASYNCOP_OUTCOME_SUCCEEDED, 0, "m", "f",
                                            ASYNCOP_TIME_NONE, NULL));
    CHECK(st == -7);

    /* No host call went through: the operation is still running under this lease. */
    CHECK(test_snap_equal(before, test_snapshot(q, id)));
    CHECK_STATE(q, id, ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_IN_PROGRESS);
    CHECK_OK(asyncop_lease_renew(l, &st));
    CHECK(st == ASYNCOP_STATUS_IN_PROGRESS);
}

static void operation_functions(const asyncop_operation *op) {
    int64_t i64 = -7;
    int32_t i32 = -7, present = -7;
    size_t len = 999;
    char buf[64];
    uint8_t bytes[64];

    CHECK_OK(asyncop_operation_free(NULL));
#define SCALAR(fn, var)                                                                      \
    CHECK_RC(NULL_ARG, fn(NULL, &var));                                                      \
    CHECK_RC(NULL_ARG, fn(op, NULL))
    SCALAR(asyncop_operation_id, i64);
    SCALAR(asyncop_operation_operation_type, i32);
    SCALAR(asyncop_operation_state, i32);
    SCALAR(asyncop_operation_status, i32);
    SCALAR(asyncop_operation_lock_token, i64);
    SCALAR(asyncop_operation_retry_count, i32);
    SCALAR(asyncop_operation_created_on, i64);
    SCALAR(asyncop_operation_modified_on, i64);
#undef SCALAR
#define OPTIONAL(fn, var)                                                                    \
    CHECK_RC(NULL_ARG, fn(NULL, &var, &present));                                            \
    CHECK_RC(NULL_ARG, fn(op, NULL, &present));                                              \
    CHECK_RC(NULL_ARG, fn(op, &var, NULL))
    OPTIONAL(asyncop_operation_postpone_until, i64);
    OPTIONAL(asyncop_operation_lease_expires_at, i64);
    OPTIONAL(asyncop_operation_error_code, i32);
    OPTIONAL(asyncop_operation_started_on, i64);
    OPTIONAL(asyncop_operation_completed_on, i64);
    OPTIONAL(asyncop_operation_execution_time_span, i64);
#undef OPTIONAL
    CHECK(i64 == -7 && i32 == -7 && present == -7);

    CHECK_RC(NULL_ARG, asyncop_operation_name(NULL, buf, sizeof buf, &len));
    CHECK_RC(NULL_ARG, asyncop_operation_name(op, buf, sizeof buf, NULL));
    CHECK_RC(NULL_ARG, asyncop_operation_name(op, NULL, 16, &len));
    CHECK_RC(NULL_ARG, asyncop_operation_data(NULL, bytes, sizeof bytes, &len));
    CHECK_RC(NULL_ARG, asyncop_operation_data(op, bytes, sizeof bytes, NULL));
    CHECK_RC(NULL_ARG, asyncop_operation_data(op, NULL, 16, &len));
#define OPTIONAL_TEXT(fn)                                                                    \
    CHECK_RC(NULL_ARG, fn(NULL, buf, sizeof buf, &len, &present));                           \
    CHECK_RC(NULL_ARG, fn(op, buf, sizeof buf, NULL, &present));                             \
    CHECK_RC(NULL_ARG, fn(op, buf, sizeof buf, &len, NULL));                                 \
    CHECK_RC(NULL_ARG, fn(op, NULL, 16, &len, &present))
    OPTIONAL_TEXT(asyncop_operation_dependency_token);
    OPTIONAL_TEXT(asyncop_operation_host_id);
    OPTIONAL_TEXT(asyncop_operation_message);
    OPTIONAL_TEXT(asyncop_operation_friendly_message);
    OPTIONAL_TEXT(asyncop_operation_correlation_id);
#undef OPTIONAL_TEXT
    CHECK(len == 999 && present == -7);
}

static void list_and_counts(const asyncop_queue *q) {
    asyncop_operation_list *list = NULL;
    asyncop_counts *counts = NULL;
    asyncop_operation *op = NULL;
    size_t n = 999;
    int32_t st = -7, su = -7, ty = -7;
    int64_t cnt = -7;

    /* name and dependency_token filters are optional: NULL means any. */
    REQUIRE_OK(asyncop_queue_query(q, ASYNCOP_ANY, ASYNCOP_ANY, ASYNCOP_ANY, NULL, NULL, NULL, NULL,
                                   ASYNCOP_TIME_NONE, 0, -1, 0, &list));
    CHECK_RC(NULL_ARG, asyncop_operation_list_count(NULL, &n));
    CHECK_RC(NULL_ARG, asyncop_operation_list_count(list, NULL));
    CHECK_RC(NULL_ARG, asyncop_operation_list_get(NULL, 0, &op));
    CHECK_RC(NULL_ARG, asyncop_operation_list_get(list, 0, NULL));
    CHECK(n == 999 && op == NULL);
    CHECK_OK(asyncop_operation_list_free(NULL));
    CHECK_OK(asyncop_operation_list_free(list));

    REQUIRE_OK(asyncop_queue_counts(q, &counts));
    CHECK_RC(NULL_ARG, asyncop_counts_count(NULL, &n));
    CHECK_RC(NULL_ARG, asyncop_counts_count(counts, NULL));
    CHECK_RC(NULL_ARG, asyncop_counts_get(NULL, 0, &st, &su, &ty, &cnt));
    CHECK_RC(NULL_ARG, asyncop_counts_get(counts, 0, NULL, &su, &ty, &cnt));
    CHECK_RC(NULL_ARG, asyncop_counts_get(counts, 0, &st, NULL, &ty, &cnt));
    CHECK_RC(NULL_ARG, asyncop_counts_get(counts, 0, &st, &su, NULL, &cnt));
    CHECK_RC(NULL_ARG, asyncop_counts_get(counts, 0, &st, &su, &ty, NULL));
    /* Written only on success: none of the other out-parameters moved. */
    CHECK(n == 999 && st == -7 && su == -7 && ty == -7 && cnt == -7);
    CHECK_OK(asyncop_counts_free(NULL));
    CHECK_OK(asyncop_counts_free(counts));
}

int main(void) {
    char path[600];
    asyncop_queue *q, *q2 = NULL;
    asyncop_lease *leases[4] = {NULL, NULL, NULL, NULL};
    asyncop_operation *op = NULL;
    size_t n = 0, i;
    int32_t st = -7;
    int64_t id, ready_id;
    const uint8_t data[4] = {0, 1, 2, 3};

    test_begin("null_args", 120);
    options_and_specs();

    q = test_open(test_path(path, sizeof path, "q.db"), NULL);
    /* The optional pointers of submit: data with length 0, token and correlation id. */
    CHECK_OK(asyncop_queue_submit(q, "opt", 1, NULL, 0, NULL, ASYNCOP_TIME_NONE, NULL, &id));
    CHECK(id > 0);
    for (i = 0; i < 3; i++) {
        CHECK_OK(asyncop_queue_submit(q, "full", 1, data, sizeof data, "tok", ASYNCOP_TIME_NONE,
                                      "corr", &id));
    }
    ready_id = test_submit(q, "stays ready", 2);

    /* options may be NULL in open (the defaults). */
    CHECK_OK(asyncop_queue_open(path, NULL, &q2));
    CHECK_OK(asyncop_queue_close(q2));
    /* A count of 0 with NULL types polls every type. */
    {
        const int32_t one[1] = {1};
        REQUIRE_OK(asyncop_queue_poll(q, "host", one, 1, 0, leases, 4, &n));
        REQUIRE(n == 2); /* "opt" and the first "full"; the others wait behind "tok" */
    }
    queue_functions(q, ready_id);
    lease_functions(leases[0], q);

    REQUIRE_OK(asyncop_queue_retrieve(q, test_lease_id(leases[0]), &op));
    operation_functions(op);
    CHECK_OK(asyncop_operation_free(op));
    list_and_counts(q);

    /* The optional texts of host outcomes accept NULL. */
    CHECK_OK(asyncop_lease_fail(leases[0], 0, NULL, &st));
    CHECK(st == ASYNCOP_STATUS_FAILED);
    CHECK_OK(asyncop_lease_report(leases[1], ASYNCOP_OUTCOME_SUCCEEDED, 0, NULL, NULL,
                                  ASYNCOP_TIME_NONE, &st));
    CHECK(st == ASYNCOP_STATUS_SUCCEEDED);
    for (i = 0; i < n; i++) CHECK_OK(asyncop_lease_free(leases[i]));
    /* retry and suspend with a NULL message; poll with NULL types and a count of 0. */
    REQUIRE_OK(asyncop_queue_poll(q, "host", NULL, 0, 0, leases, 1, &n));
    REQUIRE(n == 1);
    CHECK_OK(asyncop_lease_retry(leases[0], 0, NULL, ASYNCOP_TIME_NONE, &st));
    CHECK(st == ASYNCOP_STATUS_WAITING);
    CHECK_OK(asyncop_lease_free(leases[0]));
    REQUIRE_OK(asyncop_queue_poll(q, "host", NULL, 0, 0, leases, 1, &n));
    REQUIRE(n == 1);
    CHECK_OK(asyncop_lease_suspend(leases[0], 0, NULL, &st));
    CHECK(st == ASYNCOP_STATUS_WAITING);
    CHECK_OK(asyncop_lease_free(leases[0]));

    CHECK_OK(asyncop_queue_close(q));
    return test_end();
}
