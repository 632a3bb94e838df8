/*
 * lifecycle: a whole life cycle through the C API, asserting exact states,
 * statuses and attributes at each step.
 *   open with options (durability NORMAL, lease, restricted types, max
 *   attempts 3, back-off 1..4 ms, busy timeout); submit and submit_many with
 *   specs (data, dependency token, postpone, correlation id); every attribute
 *   getter; query with each filter and list get; counts; poll (FIFO,
 *   dependency tokens, type filter); lease getters; renew; pause -> renew
 *   reports PAUSING -> acknowledge_pause -> Suspended; resume; postpone while
 *   running; cancel while running -> CANCELING -> acknowledge_cancel; retry
 *   with back-off until the budget is spent (run_maintenance promotes); fail;
 *   report with a friendly message; suspend + resume; a lease that expires
 *   (LEASE_LOST, recovered by maintenance, retry_count + 1); fencing of stale
 *   leases; wait_for (timeout and completion from another thread); message
 *   truncation at 100,000 characters; delete; close and reopen.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <pthread.h>

#define LEASE_MS 30000

static int64_t now_ms(const asyncop_queue *q) {
    int64_t t = 0;
    CHECK_OK(asyncop_queue_now(q, &t));
    return t;
}

/* The text of an optional text attribute, "" if absent; *present set. */
static const char *op_text(asyncop_status (*fn)(const asyncop_operation *, char *, size_t, size_t *,
                                                int32_t *),
                           const asyncop_operation *op, char *buf, size_t cap, int32_t *present) {
    size_t len = 0;
    buf[0] = '\0';
    CHECK_OK(fn(op, buf, cap, &len, present));
    CHECK(strlen(buf) == len);
    return buf;
}

static int64_t opt_i64(asyncop_status (*fn)(const asyncop_operation *, int64_t *, int32_t *),
                       const asyncop_operation *op, int32_t *present) {
    int64_t v = -7;
    CHECK_OK(fn(op, &v, present));
    if (!*present) CHECK(v == 0);
    return v;
}

static asyncop_operation *get(const asyncop_queue *q, int64_t id) {
    asyncop_operation *op = NULL;
    REQUIRE_OK(asyncop_queue_retrieve(q, id, &op));
    return op;
}

/* Every attribute of a freshly submitted operation. */
static void check_new_operation(const asyncop_queue *q, int64_t id, const char *name, int32_t type,
                                const uint8_t *data, size_t data_len, const char *token,
                                const char *corr, int64_t t0, int64_t t1) {
    asyncop_operation *op = get(q, id);
    char buf[512];
    uint8_t bytes[512];
    int32_t i32 = -7, present = -7;
    int64_t i64 = -7, created = 0, modified = 0;
    size_t len = 0;

    CHECK_OK(asyncop_operation_id(op, &i64));
    CHECK(i64 == id);
    CHECK_OK(asyncop_operation_name(op, buf, sizeof buf, &len));
    CHECK(strcmp(buf, name) == 0 && len == strlen(name));
    CHECK_OK(asyncop_operation_operation_type(op, &i32));
    CHECK(i32 == type);
    CHECK_OK(asyncop_operation_state(op, &i32));
    CHECK(i32 == ASYNCOP_STATE_READY);
    CHECK_OK(asyncop_operation_status(op, &i32));
    CHECK(i32 == ASYNCOP_STATUS_WAITING_FOR_RESOURCES);
    CHECK_OK(asyncop_operation_data(op, bytes, sizeof bytes, &len));
    CHECK(len == data_len && (data_len == 0 || memcmp(bytes, data, data_len) == 0));
    op_text(asyncop_operation_dependency_token, op, buf, sizeof buf, &present);
    CHECK(present == (token != NULL) && strcmp(buf, token ? token : "") == 0);
    op_text(asyncop_operation_correlation_id, op, buf, sizeof buf, &present);
    CHECK(present == (corr != NULL) && strcmp(buf, corr ? corr : "") == 0);
    op_text(asyncop_operation_host_id, op, buf, sizeof buf, &present);
    CHECK(present == 0 && buf[0] == '\0');
    op_text(asyncop_operation_message, op, buf, sizeof buf, &present);
    CHECK(present == 0);
    op_text(asyncop_operation_friendly_message, op, buf, sizeof buf, &present);
    CHECK(present == 0);
    opt_i64(asyncop_operation_postpone_until, op, &present);
    CHECK(present == 0);
    opt_i64(asyncop_operation_lease_expires_at, op, &present);
    CHECK(present == 0);
    opt_i64(asyncop_operation_started_on, op, &present);
    CHECK(present == 0);
    opt_i64(asyncop_operation_completed_on, op, &present);
    CHECK(present == 0);
    opt_i64(asyncop_operation_execution_time_span, op, &present);
    CHECK(present == 0);
    CHECK_OK(asyncop_operation_error_code(op, &i32, &present));
    CHECK(present == 0 && i32 == 0);
    CHECK_OK(asyncop_operation_lock_token(op, &i64));
    CHECK(i64 == 0);
    CHECK_OK(asyncop_operation_retry_count(op, &i32));
    CHECK(i32 == 0);
    CHECK_OK(asyncop_operation_created_on(op, &created));
    CHECK_OK(asyncop_operation_modified_on(op, &modified));
    CHECK(created >= t0 && created <= t1);
    CHECK(modified == created);
    CHECK_OK(asyncop_operation_free(op));
}

/* Ids of a query, into ids[] (at most cap); returns the count. */
static size_t query_ids(const asyncop_queue *q, int32_t state, int32_t status, int32_t type,
                        const char *name, const char *token, int64_t completed_before,
                        int64_t after_id, int64_t limit, int64_t offset, int64_t *ids,
                        size_t cap) {
    asyncop_operation_list *list = NULL;
    size_t n = 0, i;
    REQUIRE_OK(asyncop_queue_query(q, state, status, type, name, token, NULL, NULL, completed_before, after_id,
                                   limit, offset, &list));
    CHECK_OK(asyncop_operation_list_count(list, &n));
    for (i = 0; i < n && i < cap; i++) {
        asyncop_operation *op = NULL;
        ids[i] = -1;
        CHECK_OK(asyncop_operation_list_get(list, i, &op));
        CHECK_OK(asyncop_operation_id(op, &ids[i]));
        CHECK_OK(asyncop_operation_free(op));
        if (i > 0) CHECK(ids[i] > ids[i - 1]); /* ascending id */
    }
    CHECK_OK(asyncop_operation_list_free(list));
    return n;
}

#define CHECK_IDS(n, ids, ...)                                                               \
    do {                                                                                     \
        const int64_t want_ids_[] = {__VA_ARGS__};                                           \
        size_t k_, want_n_ = sizeof want_ids_ / sizeof want_ids_[0];                          \
        CHECK((n) == want_n_);                                                               \
        for (k_ = 0; k_ < want_n_ && k_ < (n); k_++) CHECK((ids)[k_] == want_ids_[k_]);      \
    } while (0)

struct completer {
    const asyncop_queue *q;
    int32_t type;
    int delay_ms;
    int32_t rc, status;
};

static void *complete_later(void *arg) {
    struct completer *c = (struct completer *)arg;
    asyncop_lease *leases[1] = {NULL};
    size_t n = 0;
    test_sleep_ms(c->delay_ms);
    c->rc = asyncop_queue_poll(c->q, "helper", &c->type, 1, 2000, leases, 1, &n);
    if (c->rc == ASYNCOP_OK && n == 1) {
        c->rc = asyncop_lease_complete(leases[0], &c->status);
        if (asyncop_lease_free(leases[0]) != ASYNCOP_OK) c->rc = -1;
    } else if (c->rc == ASYNCOP_OK) {
        c->rc = -2;
    }
    return NULL;
}

int main(void) {
    char path[600], buf[512];
    asyncop_options *o = NULL;
    asyncop_queue *q, *q_short;
    asyncop_spec *specs_owned[3];
    const asyncop_spec *specs[3];
    asyncop_lease *leases[8];
    asyncop_lease *l, *l_old;
    asyncop_operation *op;
    int64_t ids[16], id1, idA, idB, idC, idD, idE, idF, t0, t1, later, i64;
    int64_t recovered = -1, poisoned = -1, promoted = -1;
    int32_t st = -7, i32 = -7, present = -7;
    size_t n = 0, i, len = 0;
    const int32_t restricted[2] = {9, 42};
    const uint8_t data1[6] = {'a', 0, 'b', 0, 0xff, 0x80};
    const uint8_t dataA[3] = {1, 2, 3};

    test_begin("lifecycle", 120);
    test_queue_target(path, sizeof path, "life.db");

    /* --- open with options ------------------------------------------------ */
    REQUIRE_OK(asyncop_options_new(&o));
    CHECK_OK(asyncop_options_set_durability(o, ASYNCOP_DURABILITY_NORMAL));
    CHECK_OK(asyncop_options_set_busy_timeout_ms(o, 10000));
    CHECK_OK(asyncop_options_set_lease_ms(o, LEASE_MS));
    CHECK_OK(asyncop_options_set_restricted_types(o, restricted, 2));
    CHECK_OK(asyncop_options_set_max_attempts(o, 3));
    CHECK_OK(asyncop_options_set_backoff_ms(o, 1, 4));
    CHECK_OK(asyncop_options_set_allow_delete_any(o, 0));
    /* Invalid option values are refused. */
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_options_set_lease_ms(o, 0));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_options_set_lease_ms(o, -5));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_options_set_busy_timeout_ms(o, -1));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_options_set_max_attempts(o, 0));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_options_set_backoff_ms(o, -1, 4));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_options_set_backoff_ms(o, 1, -4));
    q = test_open(path, o);
    CHECK_OK(asyncop_options_free(o)); /* open copied it */

    /* The queue clock is UTC ms. */
    t0 = now_ms(q);
    CHECK(t0 > 1600000000000LL);
    CHECK(t0 - test_wall_ms() < 2000 && test_wall_ms() - t0 < 2000);

    /* --- submit and submit_many ------------------------------------------ */
    REQUIRE_OK(asyncop_queue_submit(q, "alpha", 5, data1, sizeof data1, "tok", ASYNCOP_TIME_NONE,
                                    "corr-1", &id1));
    t1 = now_ms(q);
    check_new_operation(q, id1, "alpha", 5, data1, sizeof data1, "tok", "corr-1", t0, t1);

    later = now_ms(q) + 3600 * 1000;
    REQUIRE_OK(asyncop_spec_new("A", 6, &specs_owned[0]));
    CHECK_OK(asyncop_spec_set_data(specs_owned[0], dataA, sizeof dataA));
    REQUIRE_OK(asyncop_spec_new("B", 6, &specs_owned[1]));
    CHECK_OK(asyncop_spec_set_postpone_until(specs_owned[1], later));
    REQUIRE_OK(asyncop_spec_new("C", 7, &specs_owned[2]));
    CHECK_OK(asyncop_spec_set_dependency_token(specs_owned[2], "tok"));
    CHECK_OK(asyncop_spec_set_correlation_id(specs_owned[2], "corr-1"));
    for (i = 0; i < 3; i++) specs[i] = specs_owned[i];
    t0 = now_ms(q);
    REQUIRE_OK(asyncop_queue_submit_many(q, specs, 3, ids));
    t1 = now_ms(q);
    idA = ids[0];
    idB = ids[1];
    idC = ids[2];
    CHECK(id1 < idA && idA < idB && idB < idC);
    for (i = 0; i < 3; i++) CHECK_OK(asyncop_spec_free(specs_owned[i])); /* copied */
    check_new_operation(q, idA, "A", 6, dataA, sizeof dataA, NULL, NULL, t0, t1);
    check_new_operation(q, idC, "C", 7, NULL, 0, "tok", "corr-1", t0, t1);
    op = get(q, idB);
    CHECK_OK(asyncop_operation_state(op, &i32));
    CHECK(i32 == ASYNCOP_STATE_SUSPENDED);
    CHECK_OK(asyncop_operation_status(op, &i32));
    CHECK(i32 == ASYNCOP_STATUS_WAITING);
    CHECK(opt_i64(asyncop_operation_postpone_until, op, &present) == later && present == 1);
    CHECK_OK(asyncop_operation_free(op));
    /* An empty batch is fine. */
    CHECK_OK(asyncop_queue_submit_many(q, specs, 0, ids));
    /* A postpone_until in the past gives Ready without a time. */
    REQUIRE_OK(asyncop_queue_submit(q, "past", 8, NULL, 0, NULL, t0 - 1000, NULL, &idD));
    {
        test_snap s = test_snapshot(q, idD);
        CHECK(s.state == 0 && s.status == 0 && s.pu_present == 0);
    }
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG,
             asyncop_queue_submit(q, "bad type", 0, NULL, 0, NULL, ASYNCOP_TIME_NONE, NULL, &i64));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG,
             asyncop_queue_submit(q, "bad type", -3, NULL, 0, NULL, ASYNCOP_TIME_NONE, NULL, &i64));

    /* --- query and counts -------------------------------------------------- */
    n = query_ids(q, ASYNCOP_ANY, ASYNCOP_ANY, ASYNCOP_ANY, NULL, NULL, ASYNCOP_TIME_NONE, 0, -1, 0,
                  ids, 16);
    CHECK_IDS(n, ids, id1, idA, idB, idC, idD);
    n = query_ids(q, ASYNCOP_STATE_READY, ASYNCOP_ANY, ASYNCOP_ANY, NULL, NULL, ASYNCOP_TIME_NONE,
                  0, -1, 0, ids, 16);
    CHECK_IDS(n, ids, id1, idA, idC, idD);
    n = query_ids(q, ASYNCOP_ANY, ASYNCOP_STATUS_WAITING, ASYNCOP_ANY, NULL, NULL,
                  ASYNCOP_TIME_NONE, 0, -1, 0, ids, 16);
    CHECK_IDS(n, ids, idB);
    n = query_ids(q, ASYNCOP_STATE_SUSPENDED, ASYNCOP_STATUS_WAITING, 6, NULL, NULL,
                  ASYNCOP_TIME_NONE, 0, -1, 0, ids, 16);
    CHECK_IDS(n, ids, idB);
    n = query_ids(q, ASYNCOP_ANY, ASYNCOP_ANY, 6, NULL, NULL, ASYNCOP_TIME_NONE, 0, -1, 0, ids, 16);
    CHECK_IDS(n, ids, idA, idB);
    n = query_ids(q, ASYNCOP_ANY, ASYNCOP_ANY, ASYNCOP_ANY, "alpha", NULL, ASYNCOP_TIME_NONE, 0, -1,
                  0, ids, 16);
    CHECK_IDS(n, ids, id1);
    n = query_ids(q, ASYNCOP_ANY, ASYNCOP_ANY, ASYNCOP_ANY, NULL, "tok", ASYNCOP_TIME_NONE, 0, -1,
                  0, ids, 16);
    CHECK_IDS(n, ids, id1, idC);
    n = query_ids(q, ASYNCOP_ANY, ASYNCOP_ANY, ASYNCOP_ANY, NULL, NULL, ASYNCOP_TIME_NONE, id1, -1,
                  0, ids, 16);
    CHECK_IDS(n, ids, idA, idB, idC, idD);
    n = query_ids(q, ASYNCOP_ANY, ASYNCOP_ANY, ASYNCOP_ANY, NULL, NULL, ASYNCOP_TIME_NONE, 0, 2, 1,
                  ids, 16);
    CHECK_IDS(n, ids, idA, idB);
    n = query_ids(q, ASYNCOP_ANY, ASYNCOP_ANY, ASYNCOP_ANY, NULL, NULL, ASYNCOP_TIME_NONE, 0, 0, 0,
                  ids, 16);
    CHECK(n == 0);
    n = query_ids(q, ASYNCOP_STATE_COMPLETED, ASYNCOP_ANY, ASYNCOP_ANY, NULL, NULL,
                  ASYNCOP_TIME_NONE, 0, -1, 0, ids, 16);
    CHECK(n == 0);
    {
        /* Counts: (0,0,5) 1, (0,0,6) 1, (0,0,7) 1, (0,0,8) 1, (1,10,6) 1, sorted. */
        asyncop_counts *c = NULL;
        static const int32_t want[5][3] = {{0, 0, 5}, {0, 0, 6}, {0, 0, 7}, {0, 0, 8}, {1, 10, 6}};
        REQUIRE_OK(asyncop_queue_counts(q, &c));
        CHECK_OK(asyncop_counts_count(c, &n));
        CHECK(n == 5);
        for (i = 0; i < n && i < 5; i++) {
            int32_t s1 = -1, s2 = -1, ty = -1;
            int64_t cnt = -1;
            CHECK_OK(asyncop_counts_get(c, i, &s1, &s2, &ty, &cnt));
            CHECK(s1 == want[i][0] && s2 == want[i][1] && ty == want[i][2] && cnt == 1);
        }
        CHECK_OK(asyncop_counts_free(c));
    }

    /* --- poll: FIFO, dependency token, type filter ------------------------ */
    {
        const int32_t types[2] = {5, 7};
        t0 = now_ms(q);
        REQUIRE_OK(asyncop_queue_poll(q, "host-1", types, 2, 0, leases, 8, &n));
        t1 = now_ms(q);
        /* alpha (5) is claimed; C (7) waits behind alpha's token "tok". */
        REQUIRE(n == 1);
        l = leases[0];
    }
    CHECK(test_lease_id(l) == id1);
    CHECK_OK(asyncop_lease_lock_token(l, &i64));
    CHECK(i64 == 1);
    CHECK_OK(asyncop_lease_operation_type(l, &i32));
    CHECK(i32 == 5);
    CHECK_OK(asyncop_lease_attempt(l, &i32));
    CHECK(i32 == 1);
    CHECK_OK(asyncop_lease_expires_at(l, &i64));
    CHECK(i64 >= t0 + LEASE_MS && i64 <= t1 + LEASE_MS);
    CHECK_OK(asyncop_lease_name(l, buf, sizeof buf, &len));
    CHECK(strcmp(buf, "alpha") == 0);
    CHECK_OK(asyncop_lease_host_id(l, buf, sizeof buf, &len));
    CHECK(strcmp(buf, "host-1") == 0);
    {
        uint8_t bytes[16];
        CHECK_OK(asyncop_lease_data(l, bytes, sizeof bytes, &len));
        CHECK(len == sizeof data1 && memcmp(bytes, data1, len) == 0);
    }
    CHECK_OK(asyncop_lease_dependency_token(l, buf, sizeof buf, &len, &present));
    CHECK(present == 1 && strcmp(buf, "tok") == 0);
    CHECK_OK(asyncop_lease_correlation_id(l, buf, sizeof buf, &len, &present));
    CHECK(present == 1 && strcmp(buf, "corr-1") == 0);
    op = get(q, id1);
    CHECK_OK(asyncop_operation_state(op, &i32));
    CHECK(i32 == ASYNCOP_STATE_LOCKED);
    CHECK_OK(asyncop_operation_status(op, &i32));
    CHECK(i32 == ASYNCOP_STATUS_IN_PROGRESS);
    CHECK(strcmp(op_text(asyncop_operation_host_id, op, buf, sizeof buf, &present), "host-1") == 0);
    CHECK(present == 1);
    CHECK(opt_i64(asyncop_operation_lease_expires_at, op, &present) >= t0 + LEASE_MS && present);
    i64 = opt_i64(asyncop_operation_started_on, op, &present);
    CHECK(present == 1 && i64 >= t0 && i64 <= t1);
    CHECK_OK(asyncop_operation_free(op));

    /* renew: IN_PROGRESS; modified_on does not move. */
    {
        test_snap before = test_snapshot(q, id1);
        test_sleep_ms(3);
        CHECK_OK(asyncop_lease_renew(l, &st));
        CHECK(st == ASYNCOP_STATUS_IN_PROGRESS);
        CHECK(test_snapshot(q, id1).modified_on == before.modified_on);
    }

    /* --- pause -> PAUSING -> acknowledge_pause -> Suspended --------------- */
    CHECK_OK(asyncop_queue_pause(q, id1));
    CHECK_STATE(q, id1, ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_PAUSING);
    CHECK_OK(asyncop_lease_renew(l, &st));
    CHECK(st == ASYNCOP_STATUS_PAUSING);
    CHECK_OK(asyncop_lease_acknowledge_pause(l, &st));
    CHECK(st == ASYNCOP_STATUS_WAITING);
    op = get(q, id1);
    CHECK_OK(asyncop_operation_state(op, &i32));
    CHECK(i32 == ASYNCOP_STATE_SUSPENDED);
    opt_i64(asyncop_operation_postpone_until, op, &present);
    CHECK(present == 0); /* paused: no time */
    op_text(asyncop_operation_host_id, op, buf, sizeof buf, &present);
    CHECK(present == 0);
    opt_i64(asyncop_operation_lease_expires_at, op, &present);
    CHECK(present == 0);
    i64 = opt_i64(asyncop_operation_execution_time_span, op, &present);
    CHECK(present == 1 && i64 >= 0);
    CHECK_OK(asyncop_operation_free(op));
    /* The finished lease is fenced off. */
    CHECK_RC(ASYNCOP_ERR_LEASE_LOST, asyncop_lease_renew(l, &st));
    CHECK_RC(ASYNCOP_ERR_LEASE_LOST, asyncop_lease_complete(l, &st));
    CHECK_STATE(q, id1, ASYNCOP_STATE_SUSPENDED, ASYNCOP_STATUS_WAITING);
    CHECK_OK(asyncop_lease_free(l));

    /* Suspended: not claimable, even with the token free. */
    {
        const int32_t t5[1] = {5};
        REQUIRE_OK(asyncop_queue_poll(q, "host-1", t5, 1, 0, leases, 8, &n));
        CHECK(n == 0);
    }

    /* --- resume, claim again, postpone while running ---------------------- */
    CHECK_OK(asyncop_queue_resume(q, id1));
    CHECK_STATE(q, id1, ASYNCOP_STATE_READY, ASYNCOP_STATUS_WAITING_FOR_RESOURCES);
    l = test_claim(q, "host-2", 5);
    CHECK(test_lease_id(l) == id1);
    CHECK_OK(asyncop_lease_lock_token(l, &i64));
    CHECK(i64 == 2);
    CHECK_OK(asyncop_lease_attempt(l, &i32));
    CHECK(i32 == 1); /* a pause is not a retry */
    later = now_ms(q) + 3600 * 1000;
    CHECK_OK(asyncop_queue_postpone(q, id1, later));
    {
        test_snap s = test_snapshot(q, id1);
        CHECK(s.state == 2 && s.status == 21 && s.pu_present == 1 && s.pu == later);
    }
    CHECK_OK(asyncop_lease_renew(l, &st));
    CHECK(st == ASYNCOP_STATUS_PAUSING);
    CHECK_OK(asyncop_lease_acknowledge_pause(l, &st));
    CHECK(st == ASYNCOP_STATUS_WAITING);
    {
        test_snap s = test_snapshot(q, id1);
        CHECK(s.state == 1 && s.status == 10 && s.pu_present == 1 && s.pu == later);
    }
    CHECK_OK(asyncop_lease_free(l));
    CHECK_OK(asyncop_queue_resume(q, id1));

    /* --- cancel while running -> CANCELING -> acknowledge_cancel ----------- */
    l = test_claim(q, "host-1", 5);
    CHECK(test_lease_id(l) == id1);
    CHECK_OK(asyncop_queue_cancel(q, id1));
    CHECK_STATE(q, id1, ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_CANCELING);
    CHECK_OK(asyncop_lease_renew(l, &st));
    CHECK(st == ASYNCOP_STATUS_CANCELING);
    CHECK_OK(asyncop_lease_acknowledge_cancel(l, &st));
    CHECK(st == ASYNCOP_STATUS_CANCELED);
    op = get(q, id1);
    CHECK_OK(asyncop_operation_status(op, &i32));
    CHECK(i32 == ASYNCOP_STATUS_CANCELED);
    i64 = opt_i64(asyncop_operation_completed_on, op, &present);
    CHECK(present == 1 && i64 >= t0);
    CHECK_OK(asyncop_operation_lock_token(op, &i64));
    CHECK(i64 == 3);
    CHECK_OK(asyncop_operation_free(op));
    CHECK_OK(asyncop_lease_free(l));

    /* --- retry with back-off until the budget (3 attempts) is spent ------- */
    for (i = 1; i <= 3; i++) {
        l = test_claim(q, "host-1", 6); /* A, oldest of type 6 (B is postponed) */
        CHECK(test_lease_id(l) == idA);
        CHECK_OK(asyncop_lease_attempt(l, &i32));
        CHECK(i32 == (int32_t)i);
        CHECK_OK(asyncop_lease_retry(l, 123, "try later", ASYNCOP_TIME_NONE, &st));
        op = get(q, idA);
        CHECK_OK(asyncop_operation_retry_count(op, &i32));
        CHECK(i32 == (int32_t)i);
        CHECK_OK(asyncop_operation_error_code(op, &i32, &present));
        CHECK(present == 1 && i32 == 123);
        CHECK(strcmp(op_text(asyncop_operation_message, op, buf, sizeof buf, &present),
                     "try later") == 0);
        CHECK_OK(asyncop_operation_free(op));
        CHECK_OK(asyncop_lease_free(l));
        if (i < 3) {
            test_snap s = test_snapshot(q, idA);
            CHECK(st == ASYNCOP_STATUS_WAITING);
            CHECK(s.state == 1 && s.status == 10 && s.pu_present == 1);
            test_sleep_ms(10); /* back-off is 1, then 2 ms */
            CHECK_OK(asyncop_queue_run_maintenance(q, &recovered, &poisoned, &promoted));
            CHECK(recovered == 0 && poisoned == 0 && promoted == 1);
            CHECK_STATE(q, idA, ASYNCOP_STATE_READY, ASYNCOP_STATUS_WAITING_FOR_RESOURCES);
        } else {
            CHECK(st == ASYNCOP_STATUS_FAILED); /* retry_count 3 >= max_attempts 3 */
            CHECK_STATE(q, idA, ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_FAILED);
        }
    }

    /* --- C, no longer blocked by alpha's token: fail ----------------------- */
    l = test_claim(q, "host-1", 7);
    CHECK(test_lease_id(l) == idC);
    CHECK_OK(asyncop_lease_fail(l, ASYNCOP_ERR_TYPE_NOT_RECOGNIZED, "no handler", &st));
    CHECK(st == ASYNCOP_STATUS_FAILED);
    op = get(q, idC);
    CHECK_OK(asyncop_operation_error_code(op, &i32, &present));
    CHECK(present == 1 && i32 == (int32_t)0x80044303u);
    CHECK(strcmp(op_text(asyncop_operation_message, op, buf, sizeof buf, &present), "no handler") == 0);
    CHECK_OK(asyncop_operation_free(op));
    CHECK_OK(asyncop_lease_free(l));

    /* --- B (postponed): resume, report Succeeded with a friendly message --- */
    CHECK_OK(asyncop_queue_resume(q, idB));
    l = test_claim(q, "host-1", 6);
    CHECK(test_lease_id(l) == idB);
    CHECK_OK(asyncop_lease_report(l, ASYNCOP_OUTCOME_SUCCEEDED, 0, "tech detail", "All done",
                                  ASYNCOP_TIME_NONE, &st));
    CHECK(st == ASYNCOP_STATUS_SUCCEEDED);
    op = get(q, idB);
    CHECK(strcmp(op_text(asyncop_operation_friendly_message, op, buf, sizeof buf, &present),
                 "All done") == 0 && present == 1);
    CHECK(strcmp(op_text(asyncop_operation_message, op, buf, sizeof buf, &present),
                 "tech detail") == 0 && present == 1);
    CHECK_OK(asyncop_operation_error_code(op, &i32, &present));
    CHECK(present == 0);
    opt_i64(asyncop_operation_postpone_until, op, &present);
    CHECK(present == 0);
    CHECK_OK(asyncop_operation_free(op));
    CHECK_OK(asyncop_lease_free(l));

    /* --- D: suspend (no time) -> resume -> complete ------------------------ */
    l = test_claim(q, "host-1", 8);
    CHECK(test_lease_id(l) == idD);
    CHECK_OK(asyncop_lease_suspend(l, 7, "need input", &st));
    CHECK(st == ASYNCOP_STATUS_WAITING);
    {
        test_snap s = test_snapshot(q, idD);
        CHECK(s.state == 1 && s.status == 10 && s.pu_present == 0 && s.retry_count == 0);
    }
    CHECK_OK(asyncop_lease_free(l));
    CHECK_OK(asyncop_queue_resume(q, idD));
    l = test_claim(q, "host-1", 8);
    CHECK_OK(asyncop_lease_complete(l, &st));
    CHECK(st == ASYNCOP_STATUS_SUCCEEDED);
    op = get(q, idD);
    CHECK_OK(asyncop_operation_error_code(op, &i32, &present));
    CHECK(present == 0); /* the outcome replaced the error fields */
    CHECK_OK(asyncop_operation_free(op));
    CHECK_OK(asyncop_lease_free(l));

    /* --- a lease that expires ----------------------------------------------- */
    {
        asyncop_options *so = NULL;
        REQUIRE_OK(asyncop_options_new(&so));
        CHECK_OK(asyncop_options_set_lease_ms(so, 300));
        q_short = test_open(path, so); /* same file, a host with a short lease */
        CHECK_OK(asyncop_options_free(so));
    }
    idF = test_submit(q, "expires", 99);
    l_old = test_claim(q_short, "short-host", 99);
    CHECK(test_lease_id(l_old) == idF);
    test_sleep_ms(400);
    CHECK_RC(ASYNCOP_ERR_LEASE_LOST, asyncop_lease_renew(l_old, &st)); /* lost at expiry */
    CHECK_STATE(q, idF, ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_IN_PROGRESS); /* not yet recovered */
    CHECK_OK(asyncop_queue_run_maintenance(q, &recovered, &poisoned, &promoted));
    CHECK(recovered == 1 && poisoned == 0);
    op = get(q, idF);
    CHECK_OK(asyncop_operation_state(op, &i32));
    CHECK(i32 == ASYNCOP_STATE_READY);
    CHECK_OK(asyncop_operation_retry_count(op, &i32));
    CHECK(i32 == 1);
    CHECK_OK(asyncop_operation_error_code(op, &i32, &present));
    CHECK(present == 1 && i32 == ASYNCOP_ERR_LEASE_LOST);
    op_text(asyncop_operation_message, op, buf, sizeof buf, &present);
    CHECK(present == 1 && strstr(buf, "short-host") != NULL); /* names the host */
    CHECK_OK(asyncop_operation_free(op));
    l = test_claim(q, "host-1", 99);
    CHECK_OK(asyncop_lease_attempt(l, &i32));
    CHECK(i32 == 2);
    CHECK_OK(asyncop_lease_lock_token(l, &i64));
    CHECK(i64 == 2);
    /* The old lease stays fenced off although the operation runs again. */
    CHECK_RC(ASYNCOP_ERR_LEASE_LOST, asyncop_lease_complete(l_old, &st));
    CHECK_RC(ASYNCOP_ERR_LEASE_LOST, asyncop_lease_fail(l_old, 1, "late", &st));
    CHECK_STATE(q, idF, ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_IN_PROGRESS);
    CHECK_OK(asyncop_lease_complete(l, &st));
    CHECK(st == ASYNCOP_STATUS_SUCCEEDED);
    CHECK_OK(asyncop_lease_free(l));
    CHECK_OK(asyncop_lease_free(l_old));
    CHECK_OK(asyncop_queue_close(q_short));

    /* --- wait_for: a timeout, then a completion by another thread --------- */
    idE = test_submit(q, "waited", 77);
    {
        int64_t start = test_mono_ms();
        op = NULL;
        CHECK_OK(asyncop_queue_wait_for(q, idE, 100, &op));
        CHECK(test_mono_ms() - start >= 90);
        CHECK_OK(asyncop_operation_state(op, &i32));
        CHECK(i32 == ASYNCOP_STATE_READY); /* timed out: the latest snapshot */
        CHECK_OK(asyncop_operation_free(op));
    }
    {
        pthread_t t;
        struct completer c;
        int64_t start = test_mono_ms();
        c.q = q;
        c.type = 77;
        c.delay_ms = 100;
        c.rc = -99;
        c.status = -99;
        REQUIRE(pthread_create(&t, NULL, complete_later, &c) == 0);
        op = NULL;
        CHECK_OK(asyncop_queue_wait_for(q, idE, 20000, &op));
        CHECK(test_mono_ms() - start < 15000);
        CHECK_OK(asyncop_operation_state(op, &i32));
        CHECK(i32 == ASYNCOP_STATE_COMPLETED);
        CHECK_OK(asyncop_operation_status(op, &i32));
        CHECK(i32 == ASYNCOP_STATUS_SUCCEEDED);
        CHECK_OK(asyncop_operation_free(op));
        REQUIRE(pthread_join(t, NULL) == 0);
        CHECK(c.rc == ASYNCOP_OK && c.status == ASYNCOP_STATUS_SUCCEEDED);
    }
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_queue_wait_for(q, idE, -1, &op));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_queue_wait_for(q, 0, 10, &op));
    CHECK_RC(ASYNCOP_ERR_NOT_FOUND, asyncop_queue_wait_for(q, 999999, 10, &op));
    /* Invalid poll arguments. */
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_queue_poll(q, "h", NULL, 0, 0, leases, 0, &n));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_queue_poll(q, "h", NULL, 0, -1, leases, 1, &n));

    /* --- a message over 100,000 characters is cut, not refused ------------ */
    {
        const size_t big = 100010;
        char *msg = (char *)malloc(big + 1);
        char *back = (char *)malloc(big + 1);
        int64_t idG = test_submit(q, "long message", 55);
        REQUIRE(msg != NULL && back != NULL);
        memset(msg, 'm', big);
        msg[big] = '\0';
        l = test_claim(q, "host-1", 55);
        CHECK_OK(asyncop_lease_fail(l, 1, msg, &st));
        CHECK(st == ASYNCOP_STATUS_FAILED);
        op = get(q, idG);
        len = 0;
        CHECK_RC(ASYNCOP_ERR_BUFFER_TOO_SMALL, asyncop_operation_message(op, NULL, 0, &len, &present));
        CHECK(len == 100000);
        CHECK_OK(asyncop_operation_message(op, back, big + 1, &len, &present));
        CHECK(len == 100000 && present == 1 && memcmp(back, msg, len) == 0);
        CHECK_OK(asyncop_operation_free(op));
        CHECK_OK(asyncop_lease_free(l));
        free(msg);
        free(back);
    }

    /* --- completed_before, delete, final counts ------------------------- */
    n = query_ids(q, ASYNCOP_STATE_COMPLETED, ASYNCOP_ANY, ASYNCOP_ANY, NULL, NULL,
                  now_ms(q) + 1, 0, -1, 0, ids, 16);
    CHECK(n == 8); /* alpha, A, B, C, D, F, E, G */
    n = query_ids(q, ASYNCOP_ANY, ASYNCOP_ANY, ASYNCOP_ANY, NULL, NULL, t0 - 100000, 0, -1, 0,
                  ids, 16);
    CHECK(n == 0);
    CHECK(test_count_in(q, ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED) == 4);
    CHECK(test_count_in(q, ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_FAILED) == 3);
    CHECK(test_count_in(q, ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_CANCELED) == 1);
    CHECK(test_total(q) == 8);
    CHECK_OK(asyncop_queue_delete(q, idA));
    CHECK_OK(asyncop_queue_delete(q, idB));
    CHECK_RC(ASYNCOP_ERR_NOT_FOUND, asyncop_queue_retrieve(q, idA, &op));
    CHECK(test_total(q) == 6);

    CHECK_OK(asyncop_queue_close(q));

    /* --- reopen: everything is still there, the settings too ---------------- */
    q = test_open(path, NULL);
    CHECK(test_total(q) == 6);
    CHECK_STATE(q, id1, ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_CANCELED);
    {
        int64_t idR = test_submit(q, "restricted 42", 42);
        CHECK_RC(ASYNCOP_ERR_CANNOT_CANCEL, asyncop_queue_cancel(q, idR)); /* from the file */
        idR = test_submit(q, "9 is restricted too", 9);
        CHECK_RC(ASYNCOP_ERR_CANNOT_CANCEL, asyncop_queue_cancel(q, idR));
        idR = test_submit(q, "16 is not, here", 16);
        CHECK_OK(asyncop_queue_cancel(q, idR));
    }
    CHECK_OK(asyncop_queue_close(q));
    return test_end();
}
