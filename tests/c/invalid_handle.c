/*
 * invalid_handle: a forged token (a small integer such as 0x1234, a pointer
 * to stack or heap memory, all bits set, a real token plus an offset) and a
 * real handle of another type cast to the wrong type give
 * ASYNCOP_ERR_INVALID_HANDLE from every function, close and free included,
 * without a crash and without touching the real object behind a cast handle.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#define INVALID ASYNCOP_ERR_INVALID_HANDLE

/* Every function that takes a queue, with a bad queue handle. */
static void bad_queue(const char *what, asyncop_queue *q, int64_t id) {
    asyncop_operation *op = NULL;
    asyncop_operation_list *list = NULL;
    asyncop_counts *counts = NULL;
    asyncop_lease *leases[1] = {NULL};
    asyncop_spec *spec = NULL;
    const asyncop_spec *specs[1];
    int64_t out = -7, ids[1] = {-7}, a = -7, b = -7, c = -7;
    size_t n = 999;

    printf("  queue functions with %s\n", what);
    REQUIRE_OK(asyncop_spec_new("s", 1, &spec));
    specs[0] = spec;
    CHECK_RC(INVALID, asyncop_queue_now(q, &out));
    CHECK_RC(INVALID, asyncop_queue_submit(q, "n", 1, NULL, 0, NULL, ASYNCOP_TIME_NONE, NULL, &out));
    CHECK_RC(INVALID, asyncop_queue_submit_many(q, specs, 1, ids));
    CHECK_RC(INVALID, asyncop_queue_retrieve(q, id, &op));
    CHECK_RC(INVALID, asyncop_queue_query(q, ASYNCOP_ANY, ASYNCOP_ANY, ASYNCOP_ANY, NULL, NULL, NULL, NULL,
                                          ASYNCOP_TIME_NONE, 0, -1, 0, &list));
    CHECK_RC(INVALID, asyncop_queue_counts(q, &counts));
    CHECK_RC(INVALID, asyncop_queue_cancel(q, id));
    CHECK_RC(INVALID, asyncop_queue_pause(q, id));
    CHECK_RC(INVALID, asyncop_queue_resume(q, id));
    CHECK_RC(INVALID, asyncop_queue_postpone(q, id, test_wall_ms() + 60000));
    CHECK_RC(INVALID, asyncop_queue_set_postpone_until(q, id, test_wall_ms() + 60000));
    CHECK_RC(INVALID, asyncop_queue_delete(q, id));
    CHECK_RC(INVALID, asyncop_queue_set_state(q, id, 3, ASYNCOP_STATUS_NONE));
    CHECK_RC(INVALID, asyncop_queue_poll(q, "h", NULL, 0, 0, leases, 1, &n));
    CHECK_RC(INVALID, asyncop_queue_wait_for(q, id, 0, &op));
    CHECK_RC(INVALID, asyncop_queue_run_maintenance(q, &a, &b, &c));
    CHECK_RC(INVALID, asyncop_queue_close(q));
    CHECK(out == -7 && ids[0] == -7 && op == NULL && list == NULL && counts == NULL);
    CHECK(leases[0] == NULL && n == 999 && a == -7);
    CHECK_OK(asyncop_spec_free(spec));
}

static void bad_lease(const char *what, asyncop_lease *l) {
    int64_t i64 = -7;
    int32_t i32 = -7, st = -7, present = -7;
    size_t len = 999;
    char buf[64];
    uint8_t bytes[64];

    printf("  lease functions with %s\n", what);
    CHECK_RC(INVALID, asyncop_lease_id(l, &i64));
    CHECK_RC(INVALID, asyncop_lease_lock_token(l, &i64));
    CHECK_RC(INVALID, asyncop_lease_operation_type(l, &i32));
    CHECK_RC(INVALID, asyncop_lease_attempt(l, &i32));
    CHECK_RC(INVALID, asyncop_lease_expires_at(l, &i64));
    CHECK_RC(INVALID, asyncop_lease_name(l, buf, sizeof buf, &len));
    CHECK_RC(INVALID, asyncop_lease_host_id(l, buf, sizeof buf, &len));
    CHECK_RC(INVALID, asyncop_lease_data(l, bytes, sizeof bytes, &len));
    CHECK_RC(INVALID, asyncop_lease_dependency_token(l, buf, sizeof buf, &len, &present));
    CHECK_RC(INVALID, asyncop_lease_correlation_id(l, buf, sizeof buf, &len, &present));
    CHECK_RC(INVALID, asyncop_lease_renew(l, &st));
    CHECK_RC(INVALID, asyncop_lease_complete(l, &st));
    CHECK_RC(INVALID, asyncop_lease_fail(l, 1, "m", &st));
    CHECK_RC(INVALID, asyncop_lease_retry(l, 1, "m", ASYNCOP_TIME_NONE, &st));
    CHECK_RC(INVALID, asyncop_lease_suspend(l, 1, "m", &st));
    CHECK_RC(INVALID, asyncop_lease_acknowledge_pause(l, &st));
    CHECK_RC(INVALID, asyncop_lease_acknowledge_cancel(l, &st));
    CHECK_RC(INVALID, asyncop_lease_report(l, ASYNCOP_OUTCOME_SUCCEEDED, 0, NULL, NULL,
                                           ASYNCOP_TIME_NONE, &st));
    CHECK_RC(INVALID, asyncop_lease_free(l));
    CHECK(i64 == -7 && i32 == -7 && st == -7 && present == -7 && len == 999);
}

static void bad_operation(const char *what, asyncop_operation *op) {
    int64_t i64 = -7;
    int32_t i32 = -7, present = -7;
    size_t len = 999;
    char buf[64];
    uint8_t bytes[64];

    printf("  operation functions with %s\n", what);
    CHECK_RC(INVALID, asyncop_operation_id(op, &i64));
    CHECK_RC(INVALID, asyncop_operation_operation_type(op, &i32));
    CHECK_RC(INVALID, asyncop_operation_state(op, &i32));
    CHECK_RC(INVALID, asyncop_operation_status(op, &i32));
    CHECK_RC(INVALID, asyncop_operation_lock_token(op, &i64));
    CHECK_RC(INVALID, asyncop_operation_retry_count(op, &i32));
    CHECK_RC(INVALID, asyncop_operation_created_on(op, &i64));
    CHECK_RC(INVALID, asyncop_operation_modified_on(op, &i64));
    CHECK_RC(INVALID, asyncop_operation_postpone_until(op, &i64, &present));
    CHECK_RC(INVALID, asyncop_operation_lease_expires_at(op, &i64, &present));
    CHECK_RC(INVALID, asyncop_operation_error_code(op, &i32, &present));
    CHECK_RC(INVALID, asyncop_operation_started_on(op, &i64, &present));
    CHECK_RC(INVALID, asyncop_operation_completed_on(op, &i64, &present));
    CHECK_RC(INVALID, asyncop_operation_execution_time_span(op, &i64, &present));
    CHECK_RC(INVALID, asyncop_operation_name(op, buf, sizeof buf, &len));
    CHECK_RC(INVALID, asyncop_operation_data(op, bytes, sizeof bytes, &len));
    CHECK_RC(INVALID, asyncop_operation_dependency_token(op, buf, sizeof buf, &len, &present));
    CHECK_RC(INVALID, asyncop_operation_host_id(op, buf, sizeof buf, &len, &present));
    CHECK_RC(INVALID, asyncop_operation_message(op, buf, sizeof buf, &len, &present));
    CHECK_RC(INVALID, asyncop_operation_friendly_message(op, buf, sizeof buf, &len, &present));
    CHECK_RC(INVALID, asyncop_operation_correlation_id(op, buf, sizeof buf, &len, &present));
    CHECK_RC(INVALID, asyncop_operation_free(op));
    CHECK(i64 == -7 && i32 == -7 && present == -7 && len == 999);
}

static void bad_list(const char *what, asyncop_operation_list *list) {
    size_t n = 999;
    asyncop_operation *op = NULL;
    printf("  list functions with %s\n", what);
    CHECK_RC(INVALID, asyncop_operation_list_count(list, &n));
    CHECK_RC(INVALID, asyncop_operation_list_get(list, 0, &op));
    CHECK_RC(INVALID, asyncop_operation_list_free(list));
    CHECK(n == 999 && op == NULL);
}

static void bad_counts(const char *what, asyncop_counts *counts) {
    size_t n = 999;
    int32_t st = -7, su = -7, ty = -7;
    int64_t cnt = -7;
    printf("  counts functions with %s\n", what);
    CHECK_RC(INVALID, asyncop_counts_count(counts, &n));
    CHECK_RC(INVALID, asyncop_counts_get(counts, 0, &st, &su, &ty, &cnt));
    CHECK_RC(INVALID, asyncop_counts_free(counts));
    CHECK(n == 999 && st == -7 && cnt == -7);
}

static void bad_options(const char *what, asyncop_options *o, const char *path) {
    asyncop_queue *q = NULL;
    const int32_t types[1] = {5};
    printf("  options functions with %s\n", what);
    CHECK_RC(INVALID, asyncop_options_set_durability(o, ASYNCOP_DURABILITY_NORMAL));
    CHECK_RC(INVALID, asyncop_options_set_busy_timeout_ms(o, 10));
    CHECK_RC(INVALID, asyncop_options_set_lease_ms(o, 1000));
    CHECK_RC(INVALID, asyncop_options_set_restricted_types(o, types, 1));
    CHECK_RC(INVALID, asyncop_options_set_max_attempts(o, 2));
    CHECK_RC(INVALID, asyncop_options_set_backoff_ms(o, 1, 2));
    CHECK_RC(INVALID, asyncop_options_set_allow_delete_any(o, 1));
    CHECK_RC(INVALID, asyncop_queue_open(path, o, &q));
    CHECK_RC(INVALID, asyncop_options_free(o));
    CHECK(q == NULL);
}

static void bad_spec(const char *what, asyncop_spec *s, const asyncop_queue *q) {
    const asyncop_spec *specs[1];
    int64_t ids[1] = {-7};
    const uint8_t data[1] = {1};
    int64_t total = test_total(q);
    printf("  spec functions with %s\n", what);
    CHECK_RC(INVALID, asyncop_spec_set_data(s, data, 1));
    CHECK_RC(INVALID, asyncop_spec_set_dependency_token(s, "t"));
    CHECK_RC(INVALID, asyncop_spec_set_postpone_until(s, ASYNCOP_TIME_NONE));
    CHECK_RC(INVALID, asyncop_spec_set_correlation_id(s, "c"));
    specs[0] = s;
    CHECK_RC(INVALID, asyncop_queue_submit_many(q, specs, 1, ids));
    CHECK_RC(INVALID, asyncop_spec_free(s));
    CHECK(ids[0] == -7);
    CHECK(test_total(q) == total);
}

/* A forged value as every handle type. */
static void forged(const char *what, uintptr_t v, const asyncop_queue *real_q, int64_t id,
                   const char *path) {
    bad_queue(what, (asyncop_queue *)v, id);
    bad_lease(what, (asyncop_lease *)v);
    bad_operation(what, (asyncop_operation *)v);
    bad_list(what, (asyncop_operation_list *)v);
    bad_counts(what, (asyncop_counts *)v);
    bad_options(what, (asyncop_options *)v, path);
    bad_spec(what, (asyncop_spec *)v, real_q);
}

/* One call and the release of every handle type, for forged values that are
 * the same bug class many times over. */
static void forged_brief(const char *what, uintptr_t v) {
    int64_t i64 = -7;
    size_t n = 999;
    printf("  one call per handle type with %s\n", what);
    CHECK_RC(INVALID, asyncop_queue_now((asyncop_queue *)v, &i64));
    CHECK_RC(INVALID, asyncop_queue_close((asyncop_queue *)v));
    CHECK_RC(INVALID, asyncop_lease_id((asyncop_lease *)v, &i64));
    CHECK_RC(INVALID, asyncop_lease_free((asyncop_lease *)v));
    CHECK_RC(INVALID, asyncop_operation_id((asyncop_operation *)v, &i64));
    CHECK_RC(INVALID, asyncop_operation_free((asyncop_operation *)v));
    CHECK_RC(INVALID, asyncop_operation_list_count((asyncop_operation_list *)v, &n));
    CHECK_RC(INVALID, asyncop_operation_list_free((asyncop_operation_list *)v));
    CHECK_RC(INVALID, asyncop_counts_count((asyncop_counts *)v, &n));
    CHECK_RC(INVALID, asyncop_counts_free((asyncop_counts *)v));
    CHECK_RC(INVALID, asyncop_options_set_lease_ms((asyncop_options *)v, 1000));
    CHECK_RC(INVALID, asyncop_options_free((asyncop_options *)v));
    CHECK_RC(INVALID, asyncop_spec_set_postpone_until((asyncop_spec *)v, ASYNCOP_TIME_NONE));
    CHECK_RC(INVALID, asyncop_spec_free((asyncop_spec *)v));
    CHECK(i64 == -7 && n == 999);
}

int main(void) {
    char path[600], other_path[600];
    asyncop_queue *q;
    asyncop_lease *l;
    asyncop_operation *op = NULL;
    asyncop_operation_list *list = NULL;
    asyncop_counts *counts = NULL;
    asyncop_options *o = NULL;
    asyncop_spec *s = NULL;
    int64_t id, locked_id;
    int stack_var = 0;
    void *heap = malloc(64);

    test_begin("invalid_handle", 120);
    test_path(path, sizeof path, "q.db");
    test_path(other_path, sizeof other_path, "never.db");
    q = test_open(path, NULL);
    locked_id = test_submit(q, "locked", 1);
    id = test_submit(q, "ready", 2);
    l = test_claim(q, "host", 1);
    REQUIRE_OK(asyncop_queue_retrieve(q, id, &op));
    REQUIRE_OK(asyncop_queue_query(q, ASYNCOP_ANY, ASYNCOP_ANY, ASYNCOP_ANY, NULL, NULL, NULL, NULL,
                                   ASYNCOP_TIME_NONE, 0, -1, 0, &list));
    REQUIRE_OK(asyncop_queue_counts(q, &counts));
    REQUIRE_OK(asyncop_options_new(&o));
    REQUIRE_OK(asyncop_spec_new("spec", 3, &s));

    /* Forged tokens: never issued. */
    forged("0x1234", (uintptr_t)0x1234, q, id, other_path);
    forged("0xdeadbeef", (uintptr_t)0xdeadbeefUL, q, id, other_path);
    forged("a stack address", (uintptr_t)&stack_var, q, id, other_path);
    forged("a heap address", (uintptr_t)heap, q, id, other_path);
    forged("a real queue token + 4096", (uintptr_t)q + 4096, q, id, other_path);
    /* High bits set: still forged, in a process that never forked (not
     * ASYNCOP_ERR_FORKED), and their close/free must not report OK. */
    forged_brief("all bits set", ~(uintptr_t)0);
    forged_brief("0x0100000000000001", (uintptr_t)0x0100000000000001ULL);
    forged_brief("0x8000000000001234", (uintptr_t)0x8000000000001234ULL);
    CHECK(!test_file_exists(other_path));

    /* A real handle of another type, cast to the wrong type. */
    bad_queue("a lease handle", (asyncop_queue *)l, id);
    bad_queue("an options handle", (asyncop_queue *)o, id);
    bad_lease("a queue handle", (asyncop_lease *)q);
    bad_lease("an operation handle", (asyncop_lease *)op);
    bad_operation("a list handle", (asyncop_operation *)list);
    bad_operation("a lease handle", (asyncop_operation *)l);
    bad_list("an operation handle", (asyncop_operation_list *)op);
    bad_list("a counts handle", (asyncop_operation_list *)counts);
    bad_counts("a list handle", (asyncop_counts *)list);
    bad_counts("a queue handle", (asyncop_counts *)q);
    bad_options("a spec handle", (asyncop_options *)s, other_path);
    bad_options("a queue handle", (asyncop_options *)q, other_path);
    bad_spec("an options handle", (asyncop_spec *)o, q);
    bad_spec("a lease handle", (asyncop_spec *)l, q);
    CHECK(!test_file_exists(other_path));

    /* None of the real objects was freed or changed by the wrong-type calls. */
    {
        int64_t got = 0, now = 0;
        size_t n = 0;
        int32_t st = 0;
        CHECK_OK(asyncop_queue_now(q, &now));
        CHECK_OK(asyncop_operation_id(op, &got));
        CHECK(got == id);
        CHECK_OK(asyncop_operation_list_count(list, &n));
        CHECK(n == 2);
        CHECK_OK(asyncop_counts_count(counts, &n));
        CHECK(n == 2);
        CHECK_OK(asyncop_options_set_lease_ms(o, 5000));
        CHECK_OK(asyncop_spec_set_postpone_until(s, ASYNCOP_TIME_NONE));
        CHECK_STATE(q, locked_id, ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_IN_PROGRESS);
        CHECK_STATE(q, id, ASYNCOP_STATE_READY, ASYNCOP_STATUS_WAITING_FOR_RESOURCES);
        CHECK_OK(asyncop_lease_complete(l, &st));
        CHECK(st == ASYNCOP_STATUS_SUCCEEDED);
    }
    CHECK_OK(asyncop_lease_free(l));
    CHECK_OK(asyncop_operation_free(op));
    CHECK_OK(asyncop_operation_list_free(list));
    CHECK_OK(asyncop_counts_free(counts));
    CHECK_OK(asyncop_options_free(o));
    CHECK_OK(asyncop_spec_free(s));
    CHECK_OK(asyncop_queue_close(q));
    free(heap);
    return test_end();
}
