/*
 * worker_stop: stopping running handlers.
 *   a cancel of a running operation -> its handler sees ASYNCOP_STOP_CANCEL,
 *     returns ASYNCOP_WORKER_STOPPED -> 3/32 Canceled (counter CANCELED)
 *   a pause -> ASYNCOP_STOP_PAUSE -> 1/10 Suspended (counter PAUSED)
 *   asyncop_worker_stop without a timeout lets a running handler finish: 3/30
 *   asyncop_worker_stop(100 ms) with a handler that runs until asked:
 *     out_stopped 0, asyncop_worker_stop_requested 1, the handler stops and its
 *     operation is released for a retry; the prefetched one that never started
 *     is given back without running (counter RELEASED); stop(-1) then gives 1
 */
#define _POSIX_C_SOURCE 200809L
#include "worker_util.h"

enum { TYPE_WAITS = 1, TYPE_SLOW = 2, TYPE_UNTIL_SHUTDOWN = 3 };

typedef struct {
    asyncop_worker *worker;
    int started, runs;
    int32_t reason;
} probe;

static void wait_started(probe *p, int want) {
    int64_t end = test_mono_ms() + 20000;
    while (__sync_fetch_and_add(&p->started, 0) < want && test_mono_ms() < end) test_sleep_ms(2);
    REQUIRE(__sync_fetch_and_add(&p->started, 0) >= want);
}

/* Runs until its lease says stop, then stops at this safe point. */
static int32_t until_stop_requested(const asyncop_lease *lease, void *user_data) {
    probe *p = (probe *)user_data;
    int32_t reason = ASYNCOP_STOP_NONE;
    int64_t end = test_mono_ms() + 30000;
    (void)__sync_fetch_and_add(&p->started, 1);
    while (reason == ASYNCOP_STOP_NONE && test_mono_ms() < end) {
        if (asyncop_lease_stop_requested(lease, &reason) != ASYNCOP_OK) return ASYNCOP_WORKER_RETRY;
        test_sleep_ms(5);
    }
    (void)__sync_lock_test_and_set(&p->reason, reason);
    return ASYNCOP_WORKER_STOPPED;
}

static int32_t slow_success(const asyncop_lease *lease, void *user_data) {
    probe *p = (probe *)user_data;
    (void)lease;
    (void)__sync_fetch_and_add(&p->started, 1);
    test_sleep_ms(200);
    return ASYNCOP_WORKER_SUCCEEDED;
}

/* Runs until the worker's stop times out (the worker comes in user_data). */
static int32_t until_shutdown(const asyncop_lease *lease, void *user_data) {
    probe *p = (probe *)user_data;
    int32_t asked = 0;
    int64_t end = test_mono_ms() + 30000;
    (void)lease;
    (void)__sync_fetch_and_add(&p->started, 1);
    (void)__sync_fetch_and_add(&p->runs, 1);
    while (!asked && test_mono_ms() < end) {
        if (asyncop_worker_stop_requested(p->worker, &asked) != ASYNCOP_OK) return ASYNCOP_WORKER_RETRY;
        test_sleep_ms(5);
    }
    return ASYNCOP_WORKER_STOPPED;
}

static void user_stops(asyncop_queue *q) {
    asyncop_queue *user = wu_open_again("stop.db");
    asyncop_worker *w = wu_worker(q, "host-s", 2);
    probe p;
    int64_t canceled, paused;
    memset(&p, 0, sizeof p);
    CHECK_OK(asyncop_worker_register(w, TYPE_WAITS, until_stop_requested, &p));
    REQUIRE_OK(asyncop_worker_start(w));

    canceled = test_submit(q, "cancel-me", TYPE_WAITS);
    wait_started(&p, 1);
    CHECK_OK(asyncop_queue_cancel(user, canceled));
    CHECK(wu_wait_status(q, canceled, ASYNCOP_STATUS_CANCELED, 20000));
    CHECK(__sync_fetch_and_add(&p.reason, 0) == ASYNCOP_STOP_CANCEL);
    CHECK(wu_wait_count(w, ASYNCOP_WORKER_COUNT_CANCELED, 1, 5000) == 1);

    paused = test_submit(q, "pause-me", TYPE_WAITS);
    wait_started(&p, 2);
    CHECK_OK(asyncop_queue_pause(user, paused));
    CHECK(wu_wait_status(q, paused, ASYNCOP_STATUS_WAITING, 20000));
    CHECK_STATE(q, paused, ASYNCOP_STATE_SUSPENDED, ASYNCOP_STATUS_WAITING);
    CHECK(__sync_fetch_and_add(&p.reason, 0) == ASYNCOP_STOP_PAUSE);
    CHECK(wu_wait_count(w, ASYNCOP_WORKER_COUNT_PAUSED, 1, 5000) == 1);
    CHECK(wu_count(w, ASYNCOP_WORKER_COUNT_ERRORS) == 0);
    wu_stop_free(w);
    CHECK_OK(asyncop_queue_close(user));
}

static void graceful_stop(asyncop_queue *q) {
    asyncop_worker *w = wu_worker(q, "host-g", 1);
    probe p;
    int32_t stopped = -1;
    int64_t id;
    memset(&p, 0, sizeof p);
    CHECK_OK(asyncop_worker_register(w, TYPE_SLOW, slow_success, &p));
    REQUIRE_OK(asyncop_worker_start(w));
    id = test_submit(q, "slow", TYPE_SLOW);
    wait_started(&p, 1);
    CHECK_OK(asyncop_worker_stop(w, -1, &stopped)); /* waits for the running handler */
    CHECK(stopped == 1);
    CHECK_STATE(q, id, ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED);
    CHECK(wu_count(w, ASYNCOP_WORKER_COUNT_COMPLETED) == 1);
    CHECK_OK(asyncop_worker_free(w));
}

static void stop_timeout(asyncop_queue *q) {
    asyncop_worker *w = wu_worker(q, "host-t", 1);
    probe p;
    int32_t stopped = -1, asked = -1;
    int64_t first, second, t0;
    memset(&p, 0, sizeof p);
    p.worker = w;
    first = test_submit(q, "first", TYPE_UNTIL_SHUTDOWN);
    second = test_submit(q, "second", TYPE_UNTIL_SHUTDOWN);
    CHECK_OK(asyncop_worker_set_prefetch(w, 2)); /* one poll claims both: the second waits its turn */
    CHECK_OK(asyncop_worker_register(w, TYPE_UNTIL_SHUTDOWN, until_shutdown, &p));
    REQUIRE_OK(asyncop_worker_start(w));
    wait_started(&p, 1);
    CHECK_OK(asyncop_worker_stop_requested(w, &asked));
    CHECK(asked == 0);
    t0 = test_mono_ms();
    CHECK_OK(asyncop_worker_stop(w, 100, &stopped));
    CHECK(stopped == 0);
    CHECK(test_mono_ms() - t0 >= 90);
    CHECK_OK(asyncop_worker_stop_requested(w, &asked));
    CHECK(asked == 1);
    CHECK_OK(asyncop_worker_stop(w, -1, &stopped));
    CHECK(stopped == 1);
    CHECK(__sync_fetch_and_add(&p.runs, 0) == 1); /* the prefetched job never ran */
    CHECK(wu_count(w, ASYNCOP_WORKER_COUNT_RETRIED) == 1);
    CHECK(wu_count(w, ASYNCOP_WORKER_COUNT_RELEASED) == 1);
    CHECK(test_snapshot(q, first).state != ASYNCOP_STATE_LOCKED);
    CHECK(test_snapshot(q, second).state != ASYNCOP_STATE_LOCKED);
    CHECK(wu_retry_count(q, first) == 1);
    CHECK(wu_retry_count(q, second) == 1);
    CHECK_OK(asyncop_worker_free(w));
}

int main(void) {
    asyncop_queue *q;
    test_begin("worker_stop", 180);
    q = wu_open("stop.db", 0);
    user_stops(q);
    graceful_stop(q);
    stop_timeout(q);
    CHECK_OK(asyncop_queue_close(q));
    return test_end();
}
