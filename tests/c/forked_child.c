/*
 * forked_child: handles do not survive fork().
 * The parent opens a queue, submits, holds a lease and a snapshot, list,
 * counts, options and spec, then forks. In the child every call on an
 * inherited handle gives ASYNCOP_ERR_FORKED (before any lock, so a parent
 * thread busy in the library at fork time cannot block it), closing/freeing
 * inherited handles returns OK (a no-op), and the child then opens its own
 * queue on the same file, sees the parent's operations, submits and completes
 * an operation and exits 0. A grandchild gets FORKED for the child's handles.
 * The parent afterwards: its handles still work (the lease renews and
 * completes), it sees the child's operation, can submit/poll/complete, and
 * the file reopens with everything in it (plus `PRAGMA integrity_check` via
 * the sqlite3 command-line tool when one is installed).
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <pthread.h>

#define FORKED ASYNCOP_ERR_FORKED

struct inherited {
    asyncop_queue *q;
    asyncop_lease *l;
    asyncop_operation *op;
    asyncop_operation_list *list;
    asyncop_counts *counts;
    asyncop_options *o;
    asyncop_spec *s;
    int64_t ready_id, locked_id;
};

static void forked_queue(asyncop_queue *q, int64_t id, asyncop_spec *s) {
    asyncop_operation *op = NULL;
    asyncop_operation_list *list = NULL;
    asyncop_counts *counts = NULL;
    asyncop_lease *leases[1] = {NULL};
    const asyncop_spec *specs[1];
    int64_t out = -7, ids[1] = {-7}, a = -7, b = -7, c = -7;
    size_t n = 999;
    specs[0] = s;

    CHECK_RC(FORKED, asyncop_queue_now(q, &out));
    CHECK_RC(FORKED, asyncop_queue_submit(q, "n", 1, NULL, 0, NULL, ASYNCOP_TIME_NONE, NULL, &out));
    CHECK_RC(FORKED, asyncop_queue_submit_many(q, specs, 1, ids));
    CHECK_RC(FORKED, asyncop_queue_retrieve(q, id, &op));
    CHECK_RC(FORKED, asyncop_queue_query(q, ASYNCOP_ANY, ASYNCOP_ANY, ASYNCOP_ANY, NULL, NULL, NULL, NULL,
                                         ASYNCOP_TIME_NONE, 0, -1, 0, &list));
    CHECK_RC(FORKED, asyncop_queue_counts(q, &counts));
    CHECK_RC(FORKED, asyncop_queue_cancel(q, id));
    CHECK_RC(FORKED, asyncop_queue_pause(q, id));
    CHECK_RC(FORKED, asyncop_queue_resume(q, id));
    CHECK_RC(FORKED, asyncop_queue_postpone(q, id, test_wall_ms() + 60000));
    CHECK_RC(FORKED, asyncop_queue_set_postpone_until(q, id, test_wall_ms() + 60000));
    CHECK_RC(FORKED, asyncop_queue_delete(q, id));
    CHECK_RC(FORKED, asyncop_queue_set_state(q, id, 3, ASYNCOP_STATUS_NONE));
    CHECK_RC(FORKED, asyncop_queue_poll(q, "child", NULL, 0, 0, leases, 1, &n));
    CHECK_RC(FORKED, asyncop_queue_poll(q, "child", NULL, 0, 100, leases, 1, &n));
    CHECK_RC(FORKED, asyncop_queue_wait_for(q, id, 100, &op));
    CHECK_RC(FORKED, asyncop_queue_run_maintenance(q, &a, &b, &c));
    CHECK(out == -7 && ids[0] == -7 && op == NULL && list == NULL && counts == NULL);
    CHECK(leases[0] == NULL && n == 999 && a == -7);
}

static void forked_lease(asyncop_lease *l) {
    int64_t i64 = -7;
    int32_t i32 = -7, st = -7, present = -7;
    size_t len = 999;
    char buf[64];
    uint8_t bytes[64];
    CHECK_RC(FORKED, asyncop_lease_id(l, &i64));
    CHECK_RC(FORKED, asyncop_lease_lock_token(l, &i64));
    CHECK_RC(FORKED, asyncop_lease_operation_type(l, &i32));
    CHECK_RC(FORKED, asyncop_lease_attempt(l, &i32));
    CHECK_RC(FORKED, asyncop_lease_expires_at(l, &i64));
    CHECK_RC(FORKED, asyncop_lease_name(l, buf, sizeof buf, &len));
    CHECK_RC(FORKED, asyncop_lease_host_id(l, buf, sizeof buf, &len));
    CHECK_RC(FORKED, asyncop_lease_data(l, bytes, sizeof bytes, &len));
    CHECK_RC(FORKED, asyncop_lease_dependency_token(l, buf, sizeof buf, &len, &present));
    CHECK_RC(FORKED, asyncop_lease_correlation_id(l, buf, sizeof buf, &len, &present));
    CHECK_RC(FORKED, asyncop_lease_renew(l, &st));
    CHECK_RC(FORKED, asyncop_lease_complete(l, &st));
    CHECK_RC(FORKED, asyncop_lease_fail(l, 1, "m", &st));
    CHECK_RC(FORKED, asyncop_lease_retry(l, 1, "m", ASYNCOP_TIME_NONE, &st));
    CHECK_RC(FORKED, asyncop_lease_suspend(l, 1, "m", &st));
    CHECK_RC(FORKED, asyncop_lease_acknowledge_pause(l, &st));
    CHECK_RC(FORKED, asyncop_lease_acknowledge_cancel(l, &st));
    CHECK_RC(FORKED, asyncop_lease_report(l, ASYNCOP_OUTCOME_SUCCEEDED, 0, NULL, NULL,
                                          ASYNCOP_TIME_NONE, &st));
    CHECK(i64 == -7 && i32 == -7 && st == -7 && present == -7 && len == 999);
}

static void forked_results(asyncop_operation *op, asyncop_operation_list *list,
                           asyncop_counts *counts) {
    int64_t i64 = -7;
    int32_t i32 = -7, present = -7;
    size_t len = 999;
    char buf[64];
    uint8_t bytes[64];
    asyncop_operation *got = NULL;
    int64_t cnt = -7;
    CHECK_RC(FORKED, asyncop_operation_id(op, &i64));
    CHECK_RC(FORKED, asyncop_operation_operation_type(op, &i32));
    CHECK_RC(FORKED, asyncop_operation_state(op, &i32));
    CHECK_RC(FORKED, asyncop_operation_status(op, &i32));
    CHECK_RC(FORKED, asyncop_operation_lock_token(op, &i64));
    CHECK_RC(FORKED, asyncop_operation_retry_count(op, &i32));
    CHECK_RC(FORKED, asyncop_operation_created_on(op, &i64));
    CHECK_RC(FORKED, asyncop_operation_modified_on(op, &i64));
    CHECK_RC(FORKED, asyncop_operation_postpone_until(op, &i64, &present));
    CHECK_RC(FORKED, asyncop_operation_lease_expires_at(op, &i64, &present));
    CHECK_RC(FORKED, asyncop_operation_error_code(op, &i32, &present));
    CHECK_RC(FORKED, asyncop_operation_started_on(op, &i64, &present));
    CHECK_RC(FORKED, asyncop_operation_completed_on(op, &i64, &present));
    CHECK_RC(FORKED, asyncop_operation_execution_time_span(op, &i64, &present));
    CHECK_RC(FORKED, asyncop_operation_name(op, buf, sizeof buf, &len));
    CHECK_RC(FORKED, asyncop_operation_data(op, bytes, sizeof bytes, &len));
    CHECK_RC(FORKED, asyncop_operation_dependency_token(op, buf, sizeof buf, &len, &present));
    CHECK_RC(FORKED, asyncop_operation_host_id(op, buf, sizeof buf, &len, &present));
    CHECK_RC(FORKED, asyncop_operation_message(op, buf, sizeof buf, &len, &present));
    CHECK_RC(FORKED, asyncop_operation_friendly_message(op, buf, sizeof buf, &len, &present));
    CHECK_RC(FORKED, asyncop_operation_correlation_id(op, buf, sizeof buf, &len, &present));
    CHECK_RC(FORKED, asyncop_operation_list_count(list, &len));
    CHECK_RC(FORKED, asyncop_operation_list_get(list, 0, &got));
    CHECK_RC(FORKED, asyncop_counts_count(counts, &len));
    CHECK_RC(FORKED, asyncop_counts_get(counts, 0, &i32, &i32, &i32, &cnt));
    CHECK(i64 == -7 && i32 == -7 && present == -7 && len == 999 && got == NULL && cnt == -7);
}

static void forked_builders(asyncop_options *o, asyncop_spec *s, const char *path) {
    asyncop_queue *q = NULL;
    const int32_t types[1] = {5};
    const uint8_t data[1] = {1};
    CHECK_RC(FORKED, asyncop_options_set_durability(o, ASYNCOP_DURABILITY_NORMAL));
    CHECK_RC(FORKED, asyncop_options_set_busy_timeout_ms(o, 10));
    CHECK_RC(FORKED, asyncop_options_set_lease_ms(o, 1000));
    CHECK_RC(FORKED, asyncop_options_set_restricted_types(o, types, 1));
    CHECK_RC(FORKED, asyncop_options_set_max_attempts(o, 2));
    CHECK_RC(FORKED, asyncop_options_set_backoff_ms(o, 1, 2));
    CHECK_RC(FORKED, asyncop_options_set_allow_delete_any(o, 1));
    CHECK_RC(FORKED, asyncop_queue_open(path, o, &q)); /* inherited options */
    CHECK(q == NULL);
    CHECK_RC(FORKED, asyncop_spec_set_data(s, data, 1));
    CHECK_RC(FORKED, asyncop_spec_set_dependency_token(s, "t"));
    CHECK_RC(FORKED, asyncop_spec_set_postpone_until(s, ASYNCOP_TIME_NONE));
    CHECK_RC(FORKED, asyncop_spec_set_correlation_id(s, "c"));
}

/* Runs in the child; returns the exit code. */
static int child(struct inherited *in, const char *path) {
    asyncop_queue *q;
    asyncop_lease *l;
    asyncop_operation *op = NULL;
    char host[64];
    size_t len = 0;
    int32_t st = 0, present = 0;
    int64_t id;
    pid_t grandchild;

    forked_queue(in->q, in->ready_id, in->s);
    forked_lease(in->l);
    forked_results(in->op, in->list, in->counts);
    forked_builders(in->o, in->s, path);

    /* Releasing inherited handles is a harmless no-op, and stays one. */
    CHECK_OK(asyncop_lease_free(in->l));
    CHECK_OK(asyncop_operation_free(in->op));
    CHECK_OK(asyncop_operation_list_free(in->list));
    CHECK_OK(asyncop_counts_free(in->counts));
    CHECK_OK(asyncop_options_free(in->o));
    CHECK_OK(asyncop_spec_free(in->s));
    CHECK_OK(asyncop_queue_close(in->q));
    CHECK_OK(asyncop_queue_close(in->q));
    {
        int64_t now = -7;
        CHECK_RC(FORKED, asyncop_queue_now(in->q, &now)); /* still inherited, not closed */
    }

    /* The child's own queue on the same file. */
    q = test_open(path, NULL);
    CHECK_STATE(q, in->ready_id, ASYNCOP_STATE_READY, ASYNCOP_STATUS_WAITING_FOR_RESOURCES);
    CHECK_STATE(q, in->locked_id, ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_IN_PROGRESS);
    REQUIRE_OK(asyncop_queue_retrieve(q, in->locked_id, &op));
    CHECK_OK(asyncop_operation_host_id(op, host, sizeof host, &len, &present));
    CHECK(present == 1 && strcmp(host, "parent") == 0);
    CHECK_OK(asyncop_operation_free(op));
    id = test_submit(q, "from the child", 77);
    l = test_claim(q, "child", 77);
    CHECK(test_lease_id(l) == id);
    CHECK_OK(asyncop_lease_complete(l, &st));
    CHECK(st == ASYNCOP_STATUS_SUCCEEDED);

    /* A grandchild: the child's handles are inherited in turn. */
    grandchild = fork();
    if (grandchild == 0) {
        int64_t now = -7;
        test_forked_child();
        int32_t s2 = -7;
        CHECK_RC(FORKED, asyncop_queue_now(q, &now));
        CHECK_RC(FORKED, asyncop_lease_renew(l, &s2));
        CHECK_OK(asyncop_lease_free(l));
        CHECK_OK(asyncop_queue_close(q));
        _exit(test_failure_count() ? 1 : 0);
    }
    CHECK(grandchild > 0);
    if (grandchild > 0) {
        int status = test_wait_child(grandchild, 20000);
        CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }

    CHECK_OK(asyncop_lease_free(l));
    CHECK_OK(asyncop_queue_close(q));
    return test_failure_count() ? 1 : 0;
}

/* A parent thread that keeps calling into the library while the fork happens. */
struct busy {
    const asyncop_queue *q;
    int64_t id;
    int stop;
    int32_t worst;
    long calls;
};

static void *busy_reader(void *arg) {
    struct busy *b = (struct busy *)arg;
    int pause_ms = test_scale() < 1.0 ? 1 : 0; /* valgrind: do not starve the others */
    while (!__sync_fetch_and_add(&b->stop, 0)) {
        asyncop_operation *op = NULL;
        int32_t rc = asyncop_queue_retrieve(b->q, b->id, &op);
        if (rc != ASYNCOP_OK) b->worst = rc;
        else if (asyncop_operation_free(op) != ASYNCOP_OK) b->worst = -1;
        (void)__sync_fetch_and_add(&b->calls, 1);
        if (pause_ms) test_sleep_ms(pause_ms);
    }
    return NULL;
}

static void integrity_check(const char *path) {
    char cmd[800], line[256];
    FILE *p;
    if (system("command -v sqlite3 >/dev/null 2>&1") != 0) {
        printf("  (no sqlite3 tool: PRAGMA integrity_check skipped)\n");
        return;
    }
    snprintf(cmd, sizeof cmd, "sqlite3 '%s' 'PRAGMA integrity_check;' 2>&1", path);
    p = popen(cmd, "r");
    REQUIRE(p != NULL);
    line[0] = '\0';
    if (fgets(line, sizeof line, p) == NULL) line[0] = '\0';
    CHECK(pclose(p) == 0);
    line[strcspn(line, "\n")] = '\0';
    if (strcmp(line, "ok") != 0) {
        fprintf(stderr, "    integrity_check: %s\n", line);
        CHECK(!"integrity_check failed");
    }
    printf("  PRAGMA integrity_check: %s\n", line);
}

int main(void) {
    char path[600];
    struct inherited in;
    asyncop_lease *l;
    int32_t st = 0;
    int64_t child_id = -1, after_id;
    pid_t pid;
    int status, round;
    struct busy busy;
    pthread_t busy_thread;

    test_begin("forked_child", 240);
    test_path(path, sizeof path, "shared.db");
    memset(&in, 0, sizeof in);
    in.q = test_open(path, NULL);
    in.locked_id = test_submit(in.q, "locked by the parent", 1);
    in.ready_id = test_submit(in.q, "ready", 2);
    in.l = test_claim(in.q, "parent", 1);
    REQUIRE_OK(asyncop_queue_retrieve(in.q, in.ready_id, &in.op));
    REQUIRE_OK(asyncop_queue_query(in.q, ASYNCOP_ANY, ASYNCOP_ANY, ASYNCOP_ANY, NULL, NULL, NULL, NULL,
                                   ASYNCOP_TIME_NONE, 0, -1, 0, &in.list));
    REQUIRE_OK(asyncop_queue_counts(in.q, &in.counts));
    REQUIRE_OK(asyncop_options_new(&in.o));
    REQUIRE_OK(asyncop_spec_new("spec", 3, &in.s));

    /* Fork while another parent thread is inside the library. */
    busy.q = in.q;
    busy.id = in.ready_id;
    busy.stop = 0;
    busy.worst = ASYNCOP_OK;
    busy.calls = 0;
    REQUIRE(pthread_create(&busy_thread, NULL, busy_reader, &busy) == 0);
    while (__sync_fetch_and_add(&busy.calls, 0) < 10) test_sleep_ms(1);
    for (round = 0; round < 2; round++) {
        pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            test_forked_child();
            _exit(child(&in, path));
        }
        status = test_wait_child(pid, 30000);
        CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
        if (status != -1 && WIFSIGNALED(status))
            fprintf(stderr, "    child killed by signal %d\n", WTERMSIG(status));
    }
    (void)__sync_lock_test_and_set(&busy.stop, 1);
    REQUIRE(pthread_join(busy_thread, NULL) == 0);
    if (busy.worst != ASYNCOP_OK)
        fprintf(stderr, "    the busy thread got %s\n", asyncop_status_name(busy.worst));
    CHECK(busy.worst == ASYNCOP_OK);

    /* The parent's handles still work. */
    CHECK_OK(asyncop_lease_renew(in.l, &st));
    CHECK(st == ASYNCOP_STATUS_IN_PROGRESS);
    {
        int64_t i64 = 0;
        CHECK_OK(asyncop_operation_id(in.op, &i64));
        CHECK(i64 == in.ready_id);
        CHECK_OK(asyncop_options_set_lease_ms(in.o, 1000));
        CHECK_OK(asyncop_spec_set_postpone_until(in.s, ASYNCOP_TIME_NONE));
    }
    CHECK_OK(asyncop_lease_complete(in.l, &st));
    CHECK(st == ASYNCOP_STATUS_SUCCEEDED);
    {
        int64_t ids[4];
        asyncop_operation_list *list = NULL;
        size_t n = 0, i;
        REQUIRE_OK(asyncop_queue_query(in.q, ASYNCOP_ANY, ASYNCOP_ANY, 77, NULL, NULL, NULL, NULL,
                                       ASYNCOP_TIME_NONE, 0, -1, 0, &list));
        CHECK_OK(asyncop_operation_list_count(list, &n));
        CHECK(n == 2); /* one per child */
        for (i = 0; i < n && i < 4; i++) {
            asyncop_operation *op = NULL;
            CHECK_OK(asyncop_operation_list_get(list, i, &op));
            CHECK_OK(asyncop_operation_id(op, &ids[i]));
            CHECK_OK(asyncop_operation_free(op));
            CHECK_STATE(in.q, ids[i], ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED);
            child_id = ids[i];
        }
        CHECK_OK(asyncop_operation_list_free(list));
    }
    l = test_claim(in.q, "parent", 2);
    CHECK(test_lease_id(l) == in.ready_id);
    CHECK_OK(asyncop_lease_complete(l, &st));
    CHECK_OK(asyncop_lease_free(l));
    after_id = test_submit(in.q, "after the children", 3);
    CHECK(after_id > child_id);
    l = test_claim(in.q, "parent", 3);
    CHECK_OK(asyncop_lease_complete(l, &st));
    CHECK_OK(asyncop_lease_free(l));
    CHECK(test_total(in.q) == 5);
    CHECK(test_count_in(in.q, ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED) == 5);

    CHECK_OK(asyncop_lease_free(in.l));
    CHECK_OK(asyncop_operation_free(in.op));
    CHECK_OK(asyncop_operation_list_free(in.list));
    CHECK_OK(asyncop_counts_free(in.counts));
    CHECK_OK(asyncop_options_free(in.o));
    CHECK_OK(asyncop_spec_free(in.s));
    CHECK_OK(asyncop_queue_close(in.q));

    /* The file reopens with everything in it. */
    in.q = test_open(path, NULL);
    CHECK(test_total(in.q) == 5);
    CHECK_STATE(in.q, child_id, ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED);
    CHECK_OK(asyncop_queue_close(in.q));
    integrity_check(path);
    return test_end();
}
