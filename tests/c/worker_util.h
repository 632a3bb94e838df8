/*
 * worker_util.h: helpers of the C worker helper's tests (worker_*.c):
 * a queue with a chosen lease, a worker set up and started in one call,
 * waiting for a counter or an operation's state.
 */
#ifndef ASYNCOP_TEST_WORKER_UTIL_H
#define ASYNCOP_TEST_WORKER_UTIL_H

#include "common.h"

/* The targets wu_open chose, by name, for wu_open_again. */
static struct {
    char name[32];
    char target[1024];
} wu_targets_[8];

/* A queue whose lease is `lease_ms` (0: the default): a file in the test dir,
 * or a fresh PostgreSQL schema in tests/c/run's postgres mode (store.h). */
static inline asyncop_queue *wu_open(const char *name, int64_t lease_ms) {
    asyncop_options *o = NULL;
    asyncop_queue *q;
    size_t i;
    for (i = 0; i < sizeof wu_targets_ / sizeof wu_targets_[0]; i++)
        if (wu_targets_[i].name[0] == '\0') break;
    REQUIRE(i < sizeof wu_targets_ / sizeof wu_targets_[0]);
    snprintf(wu_targets_[i].name, sizeof wu_targets_[i].name, "%s", name);
    (void)test_queue_target(wu_targets_[i].target, sizeof wu_targets_[i].target, name);
    REQUIRE_OK(asyncop_options_new(&o));
    if (lease_ms > 0) REQUIRE_OK(asyncop_options_set_lease_ms(o, lease_ms));
    q = test_open(wu_targets_[i].target, o);
    CHECK_OK(asyncop_options_free(o));
    return q;
}

/* A second handle on the queue wu_open opened as `name` (another "host"). */
static inline asyncop_queue *wu_open_again(const char *name) {
    size_t i;
    for (i = 0; i < sizeof wu_targets_ / sizeof wu_targets_[0]; i++)
        if (strcmp(wu_targets_[i].name, name) == 0) return test_open(wu_targets_[i].target, NULL);
    REQUIRE(!"wu_open_again: no queue of that name");
    return NULL;
}

/* A worker of `q` with a short poll wait (stops are noticed quickly). */
static inline asyncop_worker *wu_worker(const asyncop_queue *q, const char *host, int32_t threads) {
    asyncop_worker *w = NULL;
    REQUIRE_OK(asyncop_worker_new(q, host, threads, &w));
    REQUIRE(w != NULL);
    REQUIRE_OK(asyncop_worker_set_poll_wait_ms(w, 50));
    return w;
}

static inline int64_t wu_count(const asyncop_worker *w, int32_t which) {
    int64_t n = -1;
    CHECK_OK(asyncop_worker_count(w, which, &n));
    return n;
}

/* Waits up to `timeout_ms` for counter `which` to reach `want`; its value. */
static inline int64_t wu_wait_count(const asyncop_worker *w, int32_t which, int64_t want,
                                    int64_t timeout_ms) {
    int64_t end = test_mono_ms() + timeout_ms, n = wu_count(w, which);
    while (n < want && test_mono_ms() < end) {
        test_sleep_ms(5);
        n = wu_count(w, which);
    }
    return n;
}

/* Waits up to `timeout_ms` for operation `id` to reach status `status`. */
static inline int wu_wait_status(const asyncop_queue *q, int64_t id, int32_t status,
                                 int64_t timeout_ms) {
    int64_t end = test_mono_ms() + timeout_ms;
    for (;;) {
        test_snap s = test_snapshot(q, id);
        if (s.status == status) return 1;
        if (test_mono_ms() >= end) return 0;
        test_sleep_ms(5);
    }
}

/* Stops `w` with no limit (1 once its threads ended) and frees it. */
static inline void wu_stop_free(asyncop_worker *w) {
    int32_t stopped = -1;
    CHECK_OK(asyncop_worker_stop(w, -1, &stopped));
    CHECK(stopped == 1);
    CHECK_OK(asyncop_worker_free(w));
}

/* The operation's retry count. */
static inline int32_t wu_retry_count(const asyncop_queue *q, int64_t id) {
    return test_snapshot(q, id).retry_count;
}

#endif
