/*
 * worker_renewal: the worker renews the leases of running handlers, so a
 * handler that runs for three leases keeps its operation: with a 300 ms
 * lease (1200 ms under valgrind's scale) and a handler running ~3 leases,
 *   another host polling all along claims nothing,
 *   the handler's stop_requested stays NONE (the lease is never lost),
 *   the operation ends 3/30 Succeeded after one attempt (retry_count 0),
 *   and the worker counted one completion, no lease lost, no error.
 */
#define _POSIX_C_SOURCE 200809L
#include "worker_util.h"

enum { TYPE_LONG = 5 };

typedef struct {
    int64_t run_ms;
    int started, finished, lost, attempt;
} long_job;

static int32_t run_long(const asyncop_lease *lease, void *user_data) {
    long_job *j = (long_job *)user_data;
    int64_t end = test_mono_ms() + j->run_ms;
    int32_t reason = ASYNCOP_STOP_NONE, attempt = -1;
    if (asyncop_lease_attempt(lease, &attempt) == ASYNCOP_OK) j->attempt = attempt;
    (void)__sync_lock_test_and_set(&j->started, 1);
    while (test_mono_ms() < end) {
        if (asyncop_lease_stop_requested(lease, &reason) != ASYNCOP_OK || reason != ASYNCOP_STOP_NONE) {
            (void)__sync_lock_test_and_set(&j->lost, 1);
            break;
        }
        test_sleep_ms(10);
    }
    (void)__sync_lock_test_and_set(&j->finished, 1);
    return ASYNCOP_WORKER_SUCCEEDED;
}

int main(void) {
    int64_t lease_ms = test_scale() < 1.0 ? 1200 : 300;
    asyncop_queue *q, *other;
    asyncop_worker *w;
    long_job job;
    int64_t id, end;
    int polls = 0, stolen = 0;

    test_begin("worker_renewal", 120);
    memset(&job, 0, sizeof job);
    job.run_ms = 3 * lease_ms;
    q = wu_open("renew.db", lease_ms);
    other = wu_open_again("renew.db");
    id = test_submit(q, "long", TYPE_LONG);

    w = wu_worker(q, "host-r", 1);
    CHECK_OK(asyncop_worker_set_prefetch(w, 1));
    CHECK_OK(asyncop_worker_register(w, TYPE_LONG, run_long, &job));
    REQUIRE_OK(asyncop_worker_start(w));

    end = test_mono_ms() + 20000;
    while (!__sync_fetch_and_add(&job.started, 0) && test_mono_ms() < end) test_sleep_ms(2);
    REQUIRE(job.started);
    /* Another host polls while the handler runs: the renewed lease never expires. */
    while (!__sync_fetch_and_add(&job.finished, 0) && test_mono_ms() < end) {
        asyncop_lease *l[1] = {NULL};
        size_t n = 0;
        CHECK_OK(asyncop_queue_poll(other, "thief", NULL, 0, 0, l, 1, &n));
        if (n > 0) {
            stolen++;
            CHECK_OK(asyncop_lease_free(l[0]));
        }
        polls++;
        test_sleep_ms(20);
    }
    CHECK(job.finished);
    CHECK(polls >= 3);
    CHECK(stolen == 0);
    CHECK(job.lost == 0);
    CHECK(job.attempt == 1);
    CHECK(wu_wait_status(q, id, ASYNCOP_STATUS_SUCCEEDED, 20000));
    wu_stop_free(w);
    CHECK_STATE(q, id, ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED);
    CHECK(wu_retry_count(q, id) == 0);
    CHECK_OK(asyncop_queue_close(other));
    CHECK_OK(asyncop_queue_close(q));
    return test_end();
}
