/*
 * worker_jobs: the C worker helper (asyncop_worker_*) runs callbacks per
 * operation type, so a C program writes no poll loop and no renewal:
 *   two registered types, N jobs, 3 threads, prefetch 16 -> all 3/30, each
 *     handler called once per job of its type, on 2+ threads, counters right
 *   a type without handler stays Ready (not claimed) ...
 *   ... and with claim_unhandled 1 fails with 0x80044303
 *   ASYNCOP_WORKER_RETRY -> retried (retry_count 1), _FAIL -> 3/31,
 *   _SUSPEND -> 1/10, an unknown result -> retried
 *   a handler that completes with an output itself -> the worker adds nothing
 *   the lease a handler gets is readable (id, type, data) and stop_requested NONE
 */
#define _POSIX_C_SOURCE 200809L
#include "worker_util.h"

#include <pthread.h>

enum { TYPE_A = 1, TYPE_B = 2, TYPE_OTHER = 9, TYPE_OUTCOMES = 3, MAX_THREADS_SEEN = 64 };

typedef struct {
    int calls[3];
    int bad_reads;
    pthread_mutex_t mu;
    pthread_t seen[MAX_THREADS_SEEN];
    int n_seen;
} tally;

static void note_thread(tally *t) {
    int i, known = 0;
    pthread_t self = pthread_self();
    pthread_mutex_lock(&t->mu);
    for (i = 0; i < t->n_seen; i++)
        if (pthread_equal(t->seen[i], self)) known = 1;
    if (!known && t->n_seen < MAX_THREADS_SEEN) t->seen[t->n_seen++] = self;
    pthread_mutex_unlock(&t->mu);
}

/* Checks what a handler can read from its lease; counts the call. */
static int32_t count_job(const asyncop_lease *lease, void *user_data) {
    tally *t = (tally *)user_data;
    int32_t type = -1, reason = -1, attempt = -1;
    int64_t id = -1;
    if (asyncop_lease_operation_type(lease, &type) != ASYNCOP_OK || (type != TYPE_A && type != TYPE_B) ||
        asyncop_lease_id(lease, &id) != ASYNCOP_OK || id <= 0 ||
        asyncop_lease_attempt(lease, &attempt) != ASYNCOP_OK || attempt != 1 ||
        asyncop_lease_stop_requested(lease, &reason) != ASYNCOP_OK || reason != ASYNCOP_STOP_NONE)
        (void)__sync_fetch_and_add(&t->bad_reads, 1);
    else
        (void)__sync_fetch_and_add(&t->calls[type], 1);
    note_thread(t);
    test_sleep_ms(2); /* long enough for the other threads to take their share */
    return ASYNCOP_WORKER_SUCCEEDED;
}

/* The job's name says which result to return ("succeed", "retry", ...). */
static int32_t by_name(const asyncop_lease *lease, void *user_data) {
    char name[64];
    size_t len = 0;
    int32_t st = 0;
    (void)user_data;
    if (asyncop_lease_name(lease, name, sizeof name, &len) != ASYNCOP_OK) return ASYNCOP_WORKER_RETRY;
    if (strcmp(name, "retry") == 0) return ASYNCOP_WORKER_RETRY;
    if (strcmp(name, "fail") == 0) return ASYNCOP_WORKER_FAIL;
    if (strcmp(name, "suspend") == 0) return ASYNCOP_WORKER_SUSPEND;
    if (strcmp(name, "unknown") == 0) return 77;
    if (strcmp(name, "output") == 0) {
        /* Ends the lease itself: whatever it returns, the worker adds nothing. */
        if (asyncop_lease_complete_output(lease, (const uint8_t *)"42", 2, &st) != ASYNCOP_OK) return ASYNCOP_WORKER_FAIL;
        return ASYNCOP_WORKER_FAIL;
    }
    return ASYNCOP_WORKER_SUCCEEDED;
}

static void many_jobs(void) {
    asyncop_queue *q = wu_open("jobs.db", 0);
    asyncop_worker *w;
    tally t;
    int n = test_scaled(200, 20), i;
    int64_t other;
    memset(&t, 0, sizeof t);
    pthread_mutex_init(&t.mu, NULL);
    for (i = 0; i < n; i++) (void)test_submit(q, "job", i % 2 ? TYPE_B : TYPE_A);
    other = test_submit(q, "nobody's", TYPE_OTHER);

    w = wu_worker(q, "host-c", 3);
    CHECK_OK(asyncop_worker_register(w, TYPE_A, count_job, &t));
    CHECK_OK(asyncop_worker_register(w, TYPE_B, count_job, &t));
    CHECK(wu_count(w, ASYNCOP_WORKER_COUNT_PROCESSED) == 0);
    REQUIRE_OK(asyncop_worker_start(w));
    CHECK(wu_wait_count(w, ASYNCOP_WORKER_COUNT_COMPLETED, n, 60000) == n);
    wu_stop_free(w);

    CHECK(test_count_in(q, ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED) == n);
    CHECK(t.calls[TYPE_A] == (n + 1) / 2);
    CHECK(t.calls[TYPE_B] == n / 2);
    CHECK(t.bad_reads == 0);
    if (n >= 50) CHECK(t.n_seen >= 2); /* the work was spread over the threads */
    /* The type without handler was never claimed. */
    CHECK_STATE(q, other, ASYNCOP_STATE_READY, ASYNCOP_STATUS_WAITING_FOR_RESOURCES);

    /* claim_unhandled: another worker claims it and fails it with 0x80044303. */
    w = wu_worker(q, "host-d", 1);
    CHECK_OK(asyncop_worker_register(w, TYPE_A, count_job, &t));
    CHECK_OK(asyncop_worker_set_claim_unhandled(w, 1));
    REQUIRE_OK(asyncop_worker_start(w));
    CHECK(wu_wait_count(w, ASYNCOP_WORKER_COUNT_UNRECOGNIZED, 1, 20000) == 1);
    wu_stop_free(w);
    CHECK_STATE(q, other, ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_FAILED);
    {
        asyncop_operation *op = NULL;
        int32_t code = 0, present = 0;
        REQUIRE_OK(asyncop_queue_retrieve(q, other, &op));
        CHECK_OK(asyncop_operation_error_code(op, &code, &present));
        CHECK(present == 1 && code == ASYNCOP_ERR_TYPE_NOT_RECOGNIZED);
        CHECK_OK(asyncop_operation_free(op));
    }
    pthread_mutex_destroy(&t.mu);
    CHECK_OK(asyncop_queue_close(q));
}

static void outcomes(void) {
    asyncop_queue *q = wu_open("outcomes.db", 0);
    asyncop_worker *w;
    int64_t ok = test_submit(q, "succeed", TYPE_OUTCOMES), retry = test_submit(q, "retry", TYPE_OUTCOMES),
            fail = test_submit(q, "fail", TYPE_OUTCOMES), suspend = test_submit(q, "suspend", TYPE_OUTCOMES),
            unknown = test_submit(q, "unknown", TYPE_OUTCOMES), output = test_submit(q, "output", TYPE_OUTCOMES);
    uint8_t buf[8];
    size_t len = 0;
    asyncop_operation *op = NULL;

    w = wu_worker(q, "host-o", 2);
    CHECK_OK(asyncop_worker_register(w, TYPE_OUTCOMES, by_name, NULL));
    REQUIRE_OK(asyncop_worker_start(w));
    CHECK(wu_wait_count(w, ASYNCOP_WORKER_COUNT_PROCESSED, 6, 20000) == 6);
    {
        int32_t stopped = -1; /* stopped: counters final; the retried ones are not due again yet */
        CHECK_OK(asyncop_worker_stop(w, -1, &stopped));
        CHECK(stopped == 1);
    }
    CHECK(wu_count(w, ASYNCOP_WORKER_COUNT_COMPLETED) == 1);
    CHECK(wu_count(w, ASYNCOP_WORKER_COUNT_RETRIED) == 2);
    CHECK(wu_count(w, ASYNCOP_WORKER_COUNT_FAILED) == 1);
    CHECK(wu_count(w, ASYNCOP_WORKER_COUNT_SUSPENDED) == 1);
    CHECK(wu_count(w, ASYNCOP_WORKER_COUNT_HANDLED) == 1);
    CHECK(wu_count(w, ASYNCOP_WORKER_COUNT_ERRORS) == 0);
    CHECK_OK(asyncop_worker_free(w));
    CHECK_STATE(q, ok, ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED);
    CHECK_STATE(q, fail, ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_FAILED);
    CHECK_STATE(q, suspend, ASYNCOP_STATE_SUSPENDED, ASYNCOP_STATUS_WAITING);
    CHECK(wu_retry_count(q, retry) == 1);
    CHECK(test_snapshot(q, retry).state != ASYNCOP_STATE_COMPLETED);
    CHECK(wu_retry_count(q, unknown) == 1);
    CHECK_STATE(q, output, ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED);
    REQUIRE_OK(asyncop_queue_retrieve(q, output, &op));
    {
        int32_t present = 0;
        CHECK_OK(asyncop_operation_output(op, buf, sizeof buf, &len, &present));
        CHECK(present == 1 && len == 2 && memcmp(buf, "42", 2) == 0);
    }
    CHECK_OK(asyncop_operation_free(op));
    CHECK_OK(asyncop_queue_close(q));
}

int main(void) {
    test_begin("worker_jobs", 240);
    many_jobs();
    outcomes();
    return test_end();
}
