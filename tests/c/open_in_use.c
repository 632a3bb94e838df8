/*
 * open_in_use: a queue file that other handles are using always opens.
 * While reader threads keep read transactions open on the file (so WAL
 * checkpoints stay partial) and a writer keeps adding operations, and then
 * while other processes read and write it, opening another handle on the
 * file succeeds every time (never ASYNCOP_ERR_CORRUPT: a live file whose
 * main part lags behind its WAL is not "truncated"), and the new handle sees
 * the operation submitted just before.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <pthread.h>
#include <sys/select.h>

#define READERS 4

struct shared {
    const asyncop_queue *q;
    int64_t id;
    volatile int stop;
    int32_t worst;
};

static void *reader_main(void *arg) {
    struct shared *s = (struct shared *)arg;
    /* Reading without a pause keeps snapshots open all the time, so WAL
     * checkpoints stay partial. Under valgrind (a small scale) spinning
     * threads would starve the others: pause a little there. */
    int pause_ms = test_scale() < 1.0 ? 1 : 0;
    while (!__sync_fetch_and_add(&s->stop, 0)) {
        asyncop_operation *op = NULL;
        int32_t rc = asyncop_queue_retrieve(s->q, s->id, &op);
        if (rc == ASYNCOP_OK) rc = asyncop_operation_free(op);
        if (rc != ASYNCOP_OK) s->worst = rc;
        if (pause_ms) test_sleep_ms(pause_ms);
    }
    return NULL;
}

/* Opens the file once more; the new handle must see `id`. Returns 1 if fine. */
static int open_once(const char *path, int64_t id, int round, int *reported) {
    asyncop_queue *c = NULL;
    asyncop_operation *op = NULL;
    int32_t rc = asyncop_queue_open(path, NULL, &c);
    if (rc != ASYNCOP_OK) {
        char msg[512];
        (void)asyncop_last_error_message(msg, sizeof msg);
        if ((*reported)++ < 3)
            fprintf(stderr, "    round %d: asyncop_queue_open gave %s: %s\n", round,
                    asyncop_status_name(rc), msg);
        return 0;
    }
    rc = asyncop_queue_retrieve(c, id, &op);
    CHECK_RC(ASYNCOP_OK, rc);
    if (rc == ASYNCOP_OK) CHECK_OK(asyncop_operation_free(op));
    CHECK_OK(asyncop_queue_close(c));
    return rc == ASYNCOP_OK;
}

static void with_threads(const char *path, int rounds) {
    asyncop_queue *q = test_open(path, NULL);
    struct shared s;
    pthread_t t[READERS];
    int i, failed = 0, reported = 0;

    s.q = q;
    s.id = test_submit(q, "read all the time", 1);
    s.stop = 0;
    s.worst = ASYNCOP_OK;
    for (i = 0; i < READERS; i++) REQUIRE(pthread_create(&t[i], NULL, reader_main, &s) == 0);
    for (i = 0; i < rounds; i++) {
        int64_t id = test_submit(q, "grows the file", 2);
        if (!open_once(path, id, i, &reported)) failed++;
    }
    (void)__sync_lock_test_and_set(&s.stop, 1);
    for (i = 0; i < READERS; i++) REQUIRE(pthread_join(t[i], NULL) == 0);
    CHECK(s.worst == ASYNCOP_OK);
    if (failed) fprintf(stderr, "    %d of %d opens failed (reader threads)\n", failed, rounds);
    CHECK(failed == 0);
    printf("  %d opens beside %d reader threads and a writer: %d failed\n", rounds, READERS, failed);
    CHECK_OK(asyncop_queue_close(q));
}

/* A process that reads the file until `stop_fd` reaches EOF (and now and
 * then writes, paced: SQLite's busy wait is not fair to other writers). */
static int busy_process(const char *path, int stop_fd, int index) {
    asyncop_queue *q = test_open(path, NULL);
    int64_t id = test_submit(q, "busy process", 10 + index);
    int pause_ms = test_scale() < 1.0 ? 1 : 0;
    long n = 0;
    for (;;) {
        char c;
        asyncop_operation *op = NULL;
        fd_set set;
        struct timeval tv = {0, 0};
        FD_ZERO(&set);
        FD_SET(stop_fd, &set);
        if (select(stop_fd + 1, &set, NULL, NULL, &tv) > 0 && read(stop_fd, &c, 1) <= 0) break;
        CHECK_OK(asyncop_queue_retrieve(q, id, &op));
        CHECK_OK(asyncop_operation_free(op));
        if (index == 1 && ++n % 20 == 0) {
            int64_t next;
            int32_t rc = asyncop_queue_submit(q, "busy process", 11, NULL, 0, NULL,
                                              ASYNCOP_TIME_NONE, NULL, &next);
            if (rc == ASYNCOP_OK) id = next;
            else if (rc != ASYNCOP_ERR_BUSY) CHECK_RC(ASYNCOP_OK, rc);
            test_sleep_ms(1);
        }
        if (pause_ms) test_sleep_ms(pause_ms);
    }
    CHECK_OK(asyncop_queue_close(q));
    return test_failure_count() ? 1 : 0;
}

static void with_processes(const char *path, int rounds) {
    asyncop_queue *q = test_open(path, NULL);
    int stop[2], i, failed = 0, reported = 0;
    pid_t pids[2];

    REQUIRE(pipe(stop) == 0);
    for (i = 0; i < 2; i++) {
        pids[i] = fork();
        REQUIRE(pids[i] >= 0);
        if (pids[i] == 0) {
            test_forked_child();
            close(stop[1]);
            _exit(busy_process(path, stop[0], i));
        }
    }
    close(stop[0]);
    test_sleep_ms(50);
    for (i = 0; i < rounds; i++) {
        int64_t id = test_submit(q, "from the parent", 3);
        if (!open_once(path, id, i, &reported)) failed++;
    }
    close(stop[1]); /* EOF: the busy processes stop */
    for (i = 0; i < 2; i++) {
        int status = test_wait_child(pids[i], 60000);
        CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    if (failed) fprintf(stderr, "    %d of %d opens failed (busy processes)\n", failed, rounds);
    CHECK(failed == 0);
    printf("  %d opens beside two reading processes (one also writing): %d failed\n", rounds, failed);
    CHECK_OK(asyncop_queue_close(q));
}

int main(void) {
    char path[600];
    test_begin("open_in_use", 240);
    with_threads(test_path(path, sizeof path, "threads.db"), test_scaled(1000, 40));
    with_processes(test_path(path, sizeof path, "processes.db"), test_scaled(250, 30));
    return test_end();
}
