/*
 * worker_args: the C worker helper's refusals, each a code with a message:
 *   NULL worker / queue / host_id / out / handler -> NULL_ARG
 *   threads 0 or 1025, prefetch 0 or 257, poll wait 0, renew_every 0,
 *     timeout < -1 -> INVALID_ARG; claim_unhandled 2, an unknown counter -> OUT_OF_RANGE
 *   start without a handler, start twice, a setter or register after start,
 *     renew_every not below the lease (at start) -> INVALID_ARG
 *   a worker never started: stop gives 1, free works
 *   free(NULL) OK, a second free CLOSED_HANDLE, a queue handle as a worker INVALID_HANDLE
 *   from inside a handler: asyncop_worker_stop only asks (out 0 at once),
 *     asyncop_worker_free is refused with INVALID_ARG; the job still completes
 *   a closed queue: asyncop_worker_new CLOSED_HANDLE, stop/count/free still work
 */
#define _POSIX_C_SOURCE 200809L
#include "worker_util.h"

typedef struct {
    asyncop_worker *worker;
    int32_t stop_rc, stopped, free_rc, done;
} inside;

static int32_t noop(const asyncop_lease *lease, void *user_data) {
    (void)lease;
    (void)user_data;
    return ASYNCOP_WORKER_SUCCEEDED;
}

static int32_t stops_itself(const asyncop_lease *lease, void *user_data) {
    inside *in = (inside *)user_data;
    (void)lease;
    in->stop_rc = asyncop_worker_stop(in->worker, -1, &in->stopped);
    in->free_rc = asyncop_worker_free(in->worker);
    (void)__sync_lock_test_and_set(&in->done, 1);
    return ASYNCOP_WORKER_SUCCEEDED;
}

int main(void) {
    asyncop_queue *q, *closed;
    asyncop_worker *w = NULL, *w2 = NULL;
    int32_t stopped = -1;
    int64_t n = -1, id;
    inside in;

    test_begin("worker_args", 120);
    q = wu_open("args.db", 1000);

    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_worker_new(NULL, "h", 1, &w));
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_worker_new(q, NULL, 1, &w));
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_worker_new(q, "h", 1, NULL));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_worker_new(q, "", 1, &w));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_worker_new(q, "h", 0, &w));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_worker_new(q, "h", 1025, &w));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_worker_new(q, "h", -3, &w));
    CHECK_RC(ASYNCOP_ERR_UTF8, asyncop_worker_new(q, "\xff", 1, &w));
    CHECK(w == NULL); /* out-params are written only on success */

    REQUIRE_OK(asyncop_worker_new(q, "h", 1, &w));
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_worker_register(NULL, 1, noop, NULL));
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_worker_register(w, 1, NULL, NULL));
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_worker_start(NULL));
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_worker_stop(NULL, 0, &stopped));
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_worker_stop(w, 0, NULL));
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_worker_count(w, ASYNCOP_WORKER_COUNT_COMPLETED, NULL));
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_worker_stop_requested(w, NULL));
    CHECK_RC(ASYNCOP_ERR_OUT_OF_RANGE, asyncop_worker_count(w, 12, &n));
    CHECK_RC(ASYNCOP_ERR_OUT_OF_RANGE, asyncop_worker_count(w, -1, &n));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_worker_set_prefetch(w, 0));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_worker_set_prefetch(w, 257));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_worker_set_prefetch(w, -1));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_worker_set_poll_wait_ms(w, 0));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_worker_set_poll_wait_ms(w, -5));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_worker_set_renew_every_ms(w, 0));
    CHECK_RC(ASYNCOP_ERR_OUT_OF_RANGE, asyncop_worker_set_claim_unhandled(w, 2));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_worker_stop(w, -2, &stopped));
    CHECK_RC(ASYNCOP_ERR_INVALID_HANDLE, asyncop_worker_start((asyncop_worker *)q));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_worker_start(w)); /* no handler */
    CHECK_OK(asyncop_worker_register(w, 1, noop, NULL));
    CHECK_OK(asyncop_worker_set_renew_every_ms(w, 1000)); /* = the lease: refused at start */
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_worker_start(w));
    CHECK_OK(asyncop_worker_set_renew_every_ms(w, 300));
    CHECK_OK(asyncop_worker_set_prefetch(w, 4));
    CHECK_OK(asyncop_worker_set_claim_unhandled(w, 0));
    REQUIRE_OK(asyncop_worker_start(w));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_worker_start(w));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_worker_register(w, 2, noop, NULL));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_worker_set_prefetch(w, 2));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_worker_set_poll_wait_ms(w, 10));
    CHECK_OK(asyncop_worker_stop(w, 5000, &stopped));
    CHECK(stopped == 1);
    CHECK_OK(asyncop_worker_stop(w, 0, &stopped)); /* stopping a stopped worker: 1 again */
    CHECK(stopped == 1);
    CHECK_OK(asyncop_worker_free(w));
    CHECK_RC(ASYNCOP_ERR_CLOSED_HANDLE, asyncop_worker_free(w));
    CHECK_RC(ASYNCOP_ERR_CLOSED_HANDLE, asyncop_worker_count(w, 0, &n));
    CHECK_OK(asyncop_worker_free(NULL));

    /* Never started: stop gives 1 at once. */
    REQUIRE_OK(asyncop_worker_new(q, "h2", 2, &w2));
    CHECK_OK(asyncop_worker_stop(w2, 0, &stopped));
    CHECK(stopped == 1);
    CHECK_OK(asyncop_worker_free(w2));

    /* From inside a handler: stop only asks, free is refused. */
    memset(&in, 0, sizeof in);
    in.stop_rc = in.free_rc = -1;
    id = test_submit(q, "self-stop", 7);
    REQUIRE_OK(asyncop_worker_new(q, "h3", 1, &in.worker));
    CHECK_OK(asyncop_worker_set_poll_wait_ms(in.worker, 50));
    CHECK_OK(asyncop_worker_register(in.worker, 7, stops_itself, &in));
    REQUIRE_OK(asyncop_worker_start(in.worker));
    {
        int64_t end = test_mono_ms() + 20000;
        while (!__sync_fetch_and_add(&in.done, 0) && test_mono_ms() < end) test_sleep_ms(2);
    }
    CHECK(in.done);
    CHECK(in.stop_rc == ASYNCOP_OK && in.stopped == 0);
    CHECK(in.free_rc == ASYNCOP_ERR_INVALID_ARG);
    wu_stop_free(in.worker);
    CHECK_STATE(q, id, ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED);

    /* A closed queue. */
    closed = wu_open_again("args.db");
    REQUIRE_OK(asyncop_worker_new(closed, "h4", 1, &w));
    CHECK_OK(asyncop_worker_register(w, 1, noop, NULL));
    REQUIRE_OK(asyncop_worker_start(w));
    CHECK_OK(asyncop_queue_close(closed));
    CHECK_RC(ASYNCOP_ERR_CLOSED_HANDLE, asyncop_worker_new(closed, "h5", 1, &w2));
    CHECK_OK(asyncop_worker_count(w, ASYNCOP_WORKER_COUNT_ERRORS, &n));
    CHECK_OK(asyncop_worker_stop(w, 10000, &stopped));
    CHECK(stopped == 1);
    CHECK_OK(asyncop_worker_free(w));

    CHECK_OK(asyncop_queue_close(q));
    return test_end();
}
