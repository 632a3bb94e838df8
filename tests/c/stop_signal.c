/*
 * stop_signal: a running handler learns at once that its operation was
 * canceled or paused (asyncop_lease_stop_requested, asyncop_lease_wait_stop):
 *   nothing asked                  -> ASYNCOP_STOP_NONE (wait returns at its timeout)
 *   cancel through another handle  -> ASYNCOP_STOP_CANCEL well within 5 s; acknowledge -> 3/32
 *   pause                          -> ASYNCOP_STOP_PAUSE; acknowledge -> 1/10
 *   an outcome / a free of the lease while a thread waits -> the wait returns NONE
 *   NULL out_reason -> NULL_ARG; timeout < 0 -> INVALID_ARG; NULL lease -> NULL_ARG
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <pthread.h>

typedef struct {
    asyncop_lease *lease;
    int32_t rc;
    int32_t reason;
    int64_t returned_ms;
} waiter;

static void *wait_stop_thread(void *arg) {
    waiter *w = (waiter *)arg;
    w->rc = asyncop_lease_wait_stop(w->lease, 20000, &w->reason);
    w->returned_ms = test_mono_ms();
    return NULL;
}

int main(void) {
    char path[600];
    asyncop_queue *q, *other;
    asyncop_lease *l;
    int64_t id, t0;
    int32_t reason = -1, st = 0;

    test_begin("stop_signal", 120);
    q = test_open(test_queue_target(path, sizeof path, "stop.db"), NULL);
    other = test_open(path, NULL);

    /* Nothing asked: NONE at once, and after a short wait. */
    id = test_submit(q, "cancel-me", 1);
    l = test_claim(q, "host", 1);
    CHECK(test_lease_id(l) == id);
    CHECK_OK(asyncop_lease_stop_requested(l, &reason));
    CHECK(reason == ASYNCOP_STOP_NONE);
    reason = -1;
    t0 = test_mono_ms();
    CHECK_OK(asyncop_lease_wait_stop(l, 30, &reason));
    CHECK(reason == ASYNCOP_STOP_NONE);
    CHECK(test_mono_ms() - t0 >= 25);

    /* Bad arguments. */
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_lease_stop_requested(l, NULL));
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_lease_wait_stop(l, 10, NULL));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_lease_wait_stop(l, -1, &reason));
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_lease_stop_requested(NULL, &reason));

    /* A cancel through another handle reaches the waiting lease. */
    CHECK_OK(asyncop_queue_cancel(other, id));
    t0 = test_mono_ms();
    CHECK_OK(asyncop_lease_wait_stop(l, 5000, &reason));
    CHECK(reason == ASYNCOP_STOP_CANCEL);
    CHECK(test_mono_ms() - t0 < 5000);
    CHECK_OK(asyncop_lease_stop_requested(l, &reason));
    CHECK(reason == ASYNCOP_STOP_CANCEL);
    CHECK_OK(asyncop_lease_acknowledge_cancel(l, &st));
    CHECK(st == ASYNCOP_STATUS_CANCELED);
    CHECK_STATE(q, id, ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_CANCELED);
    CHECK_OK(asyncop_lease_free(l));

    /* A pause. */
    id = test_submit(q, "pause-me", 1);
    l = test_claim(q, "host", 1);
    CHECK_OK(asyncop_lease_stop_requested(l, &reason));
    CHECK(reason == ASYNCOP_STOP_NONE);
    CHECK_OK(asyncop_queue_pause(q, id));
    CHECK_OK(asyncop_lease_wait_stop(l, 5000, &reason));
    CHECK(reason == ASYNCOP_STOP_PAUSE);
    CHECK_OK(asyncop_lease_acknowledge_pause(l, &st));
    CHECK(st == ASYNCOP_STATUS_WAITING);
    CHECK_OK(asyncop_lease_free(l));
    CHECK_OK(asyncop_queue_resume(q, id));

    /* A thread blocked in wait_stop returns when the lease's outcome is reported. */
    {
        waiter w;
        pthread_t t;
        int64_t done_at;
        l = test_claim(q, "host", 1);
        /* Watched from here on, before the waiter starts. */
        CHECK_OK(asyncop_lease_stop_requested(l, &reason));
        CHECK(reason == ASYNCOP_STOP_NONE);
        w.lease = l;
        w.rc = -1;
        w.reason = -1;
        REQUIRE(pthread_create(&t, NULL, wait_stop_thread, &w) == 0);
        test_sleep_ms(50);
        CHECK_OK(asyncop_lease_complete(l, &st));
        done_at = test_mono_ms();
        REQUIRE(pthread_join(t, NULL) == 0);
        CHECK(w.rc == ASYNCOP_OK);
        CHECK(w.reason == ASYNCOP_STOP_NONE);
        CHECK(w.returned_ms - done_at < 5000);
        CHECK_OK(asyncop_lease_free(l));
    }

    /* ... and when the lease handle is freed. */
    {
        waiter w;
        pthread_t t;
        (void)test_submit(q, "freed", 1);
        l = test_claim(q, "host", 1);
        CHECK_OK(asyncop_lease_stop_requested(l, &reason));
        w.lease = l;
        w.rc = -1;
        w.reason = -1;
        REQUIRE(pthread_create(&t, NULL, wait_stop_thread, &w) == 0);
        test_sleep_ms(50);
        t0 = test_mono_ms();
        CHECK_OK(asyncop_lease_free(l));
        REQUIRE(pthread_join(t, NULL) == 0);
        CHECK(w.rc == ASYNCOP_OK);
        CHECK(w.reason == ASYNCOP_STOP_NONE);
        CHECK(w.returned_ms - t0 < 5000);
    }

    CHECK_OK(asyncop_queue_close(other));
    CHECK_OK(asyncop_queue_close(q));
    return test_end();
}
