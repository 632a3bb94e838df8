/*
 * threads: one queue shared by many threads.
 * 6 worker threads (3 on the shared handle, 3 on handles of their own) poll
 * with a wait and complete 3000 operations (x ASYNCOP_TEST_SCALE) while a
 * submitter thread adds them (submit and submit_many) and a reader thread
 * runs counts and queries. Every operation is completed exactly once
 * (completions counted per id under a mutex) and the final counts are one
 * group (3, 30, type) with every operation in it.
 * Also: the last error message is per thread; a poll waiting on one thread
 * is woken by a submit on another; a poll waiting on one thread returns when
 * another thread closes its queue; calls racing a close on other threads get
 * OK or CLOSED_HANDLE, never a crash.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <pthread.h>

#define WORKERS 6
#define TYPE 11

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static int total_ops;
static unsigned char *completed_per_id; /* index = id */
static int completed;                   /* under mutex */
static int submitted;                   /* under mutex */
static int submitting_done;             /* under mutex */
static int bad_ids;                     /* under mutex */

static int done(void) {
    int d;
    pthread_mutex_lock(&mutex);
    d = completed >= total_ops;
    pthread_mutex_unlock(&mutex);
    return d;
}

struct worker {
    int index;
    const asyncop_queue *shared;
    const char *path;
    int completions;
    int polls;
};

static void *worker_main(void *arg) {
    struct worker *w = (struct worker *)arg;
    asyncop_queue *own = NULL;
    const asyncop_queue *q = w->shared;
    char host[32];
    int64_t deadline = test_mono_ms() + 150000;

    snprintf(host, sizeof host, "worker-%d", w->index);
    if (w->index % 2 == 1) {
        asyncop_options *o = NULL;
        REQUIRE_OK(asyncop_options_new(&o));
        CHECK_OK(asyncop_options_set_durability(o, ASYNCOP_DURABILITY_NORMAL));
        own = test_open(w->path, o);
        CHECK_OK(asyncop_options_free(o));
        q = own;
    }
    while (!done() && test_mono_ms() < deadline) {
        asyncop_lease *leases[8];
        size_t n = 0, i;
        int32_t rc = asyncop_queue_poll(q, host, NULL, 0, 200, leases, 8, &n);
        w->polls++;
        if (rc == ASYNCOP_ERR_BUSY) continue;
        CHECK_RC(ASYNCOP_OK, rc);
        if (rc != ASYNCOP_OK) break;
        for (i = 0; i < n; i++) {
            int64_t id = test_lease_id(leases[i]);
            int32_t st = 0;
            int32_t crc = asyncop_lease_complete(leases[i], &st);
            CHECK_RC(ASYNCOP_OK, crc);
            if (crc == ASYNCOP_OK) {
                CHECK(st == ASYNCOP_STATUS_SUCCEEDED);
                pthread_mutex_lock(&mutex);
                if (id >= 1 && id <= total_ops) {
                    completed_per_id[id]++;
                } else {
                    bad_ids++;
                }
                completed++;
                pthread_mutex_unlock(&mutex);
                w->completions++;
            }
            CHECK_OK(asyncop_lease_free(leases[i]));
        }
    }
    if (own != NULL) CHECK_OK(asyncop_queue_close(own));
    return NULL;
}

static void *submitter_main(void *arg) {
    const asyncop_queue *q = (const asyncop_queue *)arg;
    int next = 0;
    while (next < total_ops) {
        if (next % 200 < 100) {
            /* a batch of up to 50 through submit_many */
            asyncop_spec *owned[50];
            const asyncop_spec *specs[50];
            int64_t ids[50];
            int k, batch = total_ops - next < 50 ? total_ops - next : 50;
            for (k = 0; k < batch; k++) {
                REQUIRE_OK(asyncop_spec_new("job", TYPE, &owned[k]));
                specs[k] = owned[k];
            }
            CHECK_OK(asyncop_queue_submit_many(q, specs, (size_t)batch, ids));
            for (k = 0; k < batch; k++) CHECK_OK(asyncop_spec_free(owned[k]));
            next += batch;
        } else {
            int64_t id;
            CHECK_OK(asyncop_queue_submit(q, "job", TYPE, NULL, 0, NULL, ASYNCOP_TIME_NONE, NULL,
                                          &id));
            next++;
        }
        pthread_mutex_lock(&mutex);
        submitted = next;
        pthread_mutex_unlock(&mutex);
    }
    pthread_mutex_lock(&mutex);
    submitting_done = 1;
    pthread_mutex_unlock(&mutex);
    return NULL;
}

static void *reader_main(void *arg) {
    const asyncop_queue *q = (const asyncop_queue *)arg;
    long reads = 0;
    while (!done()) {
        asyncop_operation_list *list = NULL;
        int64_t total = test_total(q);
        CHECK(total >= 0 && total <= total_ops);
        CHECK_OK(asyncop_queue_query(q, ASYNCOP_STATE_LOCKED, ASYNCOP_ANY, ASYNCOP_ANY, NULL, NULL, NULL, NULL,
                                     ASYNCOP_TIME_NONE, 0, 10, 0, &list));
        CHECK_OK(asyncop_operation_list_free(list));
        reads++;
        test_sleep_ms(5);
    }
    return (void *)(intptr_t)reads;
}

/* The last error message belongs to the thread that failed. */
struct err_thread {
    const asyncop_queue *q;
    char message[256];
};

static void *error_thread_main(void *arg) {
    struct err_thread *e = (struct err_thread *)arg;
    int64_t now = 0;
    CHECK(asyncop_last_error_message(NULL, 0) == 0); /* fresh thread: empty */
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_queue_cancel(e->q, -5));
    (void)asyncop_last_error_message(e->message, sizeof e->message);
    test_sleep_ms(50); /* the main thread fails meanwhile */
    {
        char again[256];
        (void)asyncop_last_error_message(again, sizeof again);
        CHECK(strcmp(again, e->message) == 0);
    }
    CHECK_OK(asyncop_queue_now(e->q, &now));
    CHECK(asyncop_last_error_message(NULL, 0) == 0);
    return NULL;
}

static void per_thread_errors(const asyncop_queue *q) {
    pthread_t t;
    struct err_thread e;
    asyncop_operation *op = NULL;
    char mine[256];
    e.q = q;
    e.message[0] = '\0';
    CHECK_RC(ASYNCOP_ERR_NOT_FOUND, asyncop_queue_retrieve(q, 987654321, &op));
    (void)asyncop_last_error_message(mine, sizeof mine);
    REQUIRE(pthread_create(&t, NULL, error_thread_main, &e) == 0);
    test_sleep_ms(20);
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_queue_retrieve(q, 1, NULL));
    (void)asyncop_last_error_message(mine, sizeof mine);
    REQUIRE(pthread_join(t, NULL) == 0);
    {
        char again[256];
        (void)asyncop_last_error_message(again, sizeof again);
        CHECK(strcmp(again, mine) == 0); /* not the other thread's message */
        CHECK(strcmp(again, e.message) != 0);
    }
}

/* A poll waiting on one thread while another thread closes the queue. */
struct waiter {
    asyncop_queue *q;
    int32_t rc;
    size_t n;
    int64_t elapsed;
};

static void *waiter_main(void *arg) {
    struct waiter *w = (struct waiter *)arg;
    asyncop_lease *leases[1] = {NULL};
    const int32_t type[1] = {4242};
    int64_t start = test_mono_ms();
    w->n = 999;
    w->rc = asyncop_queue_poll(w->q, "waiter", type, 1, 30000, leases, 1, &w->n);
    w->elapsed = test_mono_ms() - start;
    return NULL;
}

struct racer {
    asyncop_queue *q;
    int64_t id;
    int32_t bad;
    long ok, closed;
};

static void *racer_main(void *arg) {
    struct racer *r = (struct racer *)arg;
    for (;;) {
        asyncop_operation *op = NULL;
        int32_t rc = asyncop_queue_retrieve(r->q, r->id, &op);
        if (rc == ASYNCOP_OK) {
            int32_t state = -1, grc = asyncop_operation_state(op, &state);
            if (grc != ASYNCOP_OK && grc != ASYNCOP_ERR_CLOSED_HANDLE) r->bad = grc;
            if (asyncop_operation_free(op) != ASYNCOP_OK) r->bad = -1;
            r->ok++;
        } else if (rc == ASYNCOP_ERR_CLOSED_HANDLE) {
            r->closed++;
            return NULL;
        } else {
            r->bad = rc;
            return NULL;
        }
    }
}

/* A waiting poll is woken by a submit on another thread, well before its wait ends. */
struct wake {
    const asyncop_queue *q;
    int32_t rc;
    size_t n;
    int64_t woke_at;
};

static void *wake_main(void *arg) {
    struct wake *w = (struct wake *)arg;
    asyncop_lease *leases[1] = {NULL};
    const int32_t type[1] = {5151};
    w->rc = asyncop_queue_poll(w->q, "sleeper", type, 1, 20000, leases, 1, &w->n);
    w->woke_at = test_mono_ms();
    if (w->rc == ASYNCOP_OK && w->n == 1) {
        int32_t st = 0;
        CHECK_OK(asyncop_lease_complete(leases[0], &st));
        CHECK_OK(asyncop_lease_free(leases[0]));
    }
    return NULL;
}

static void wake_up(const asyncop_queue *q) {
    pthread_t t;
    struct wake w;
    int64_t submitted_at;
    w.q = q;
    w.rc = -99;
    w.n = 0;
    REQUIRE(pthread_create(&t, NULL, wake_main, &w) == 0);
    test_sleep_ms(150);
    (void)test_submit(q, "wake up", 5151);
    submitted_at = test_mono_ms();
    REQUIRE(pthread_join(t, NULL) == 0);
    CHECK_RC(ASYNCOP_OK, w.rc);
    CHECK(w.n == 1);
    CHECK(w.woke_at - submitted_at < 5000);
    printf("  a waiting poll took the new operation %ld ms after its submit\n",
           (long)(w.woke_at - submitted_at));
}

static void close_races(const char *path) {
    struct waiter w;
    struct racer r[3];
    pthread_t wt, rt[3];
    int i;

    w.q = test_open(path, NULL);
    w.rc = -99;
    REQUIRE(pthread_create(&wt, NULL, waiter_main, &w) == 0);
    test_sleep_ms(200);
    CHECK_OK(asyncop_queue_close(w.q));
    REQUIRE(pthread_join(wt, NULL) == 0);
    /* The wait ends with the close, long before its 30 s. */
    CHECK(w.rc == ASYNCOP_ERR_CLOSED_HANDLE || (w.rc == ASYNCOP_OK && w.n == 0));
    CHECK(w.elapsed < 20000);
    printf("  a waiting poll ended %ld ms after it began, with %s\n", (long)w.elapsed,
           asyncop_status_name(w.rc));

    {
        asyncop_queue *q = test_open(path, NULL);
        int64_t id = test_submit(q, "raced", 5);
        for (i = 0; i < 3; i++) {
            r[i].q = q;
            r[i].id = id;
            r[i].bad = ASYNCOP_OK;
            r[i].ok = r[i].closed = 0;
            REQUIRE(pthread_create(&rt[i], NULL, racer_main, &r[i]) == 0);
        }
        test_sleep_ms(100);
        CHECK_OK(asyncop_queue_close(q));
        for (i = 0; i < 3; i++) {
            REQUIRE(pthread_join(rt[i], NULL) == 0);
            CHECK(r[i].bad == ASYNCOP_OK);
            CHECK(r[i].closed == 1);
        }
    }
}

int main(void) {
    char path[600];
    asyncop_queue *q;
    asyncop_options *o = NULL;
    pthread_t workers[WORKERS], submitter, reader;
    struct worker w[WORKERS];
    void *reads = NULL;
    int i, once = 0, missing = 0, twice = 0;
    int64_t start;

    test_begin("threads", 280);
    total_ops = test_scaled(3000, 60);
    completed_per_id = (unsigned char *)calloc((size_t)total_ops + 1, 1);
    REQUIRE(completed_per_id != NULL);
    test_queue_target(path, sizeof path, "threads.db");
    REQUIRE_OK(asyncop_options_new(&o));
    CHECK_OK(asyncop_options_set_durability(o, ASYNCOP_DURABILITY_NORMAL));
    q = test_open(path, o);
    CHECK_OK(asyncop_options_free(o));

    per_thread_errors(q);

    start = test_mono_ms();
    for (i = 0; i < WORKERS; i++) {
        w[i].index = i;
        w[i].shared = q;
        w[i].path = path;
        w[i].completions = 0;
        w[i].polls = 0;
        REQUIRE(pthread_create(&workers[i], NULL, worker_main, &w[i]) == 0);
    }
    REQUIRE(pthread_create(&submitter, NULL, submitter_main, q) == 0);
    REQUIRE(pthread_create(&reader, NULL, reader_main, q) == 0);
    REQUIRE(pthread_join(submitter, NULL) == 0);
    for (i = 0; i < WORKERS; i++) REQUIRE(pthread_join(workers[i], NULL) == 0);
    REQUIRE(pthread_join(reader, &reads) == 0);

    printf("  %d operations, %d workers, %ld ms; completions per worker:", total_ops, WORKERS,
           (long)(test_mono_ms() - start));
    for (i = 0; i < WORKERS; i++) printf(" %d", w[i].completions);
    printf("; %ld reader passes\n", (long)(intptr_t)reads);

    CHECK(submitting_done == 1 && submitted == total_ops);
    CHECK(completed == total_ops);
    CHECK(bad_ids == 0);
    for (i = 1; i <= total_ops; i++) {
        if (completed_per_id[i] == 1) once++;
        else if (completed_per_id[i] == 0) missing++;
        else twice++;
    }
    if (once != total_ops)
        fprintf(stderr, "    completed once: %d, never: %d, more than once: %d\n", once, missing,
                twice);
    CHECK(once == total_ops);

    /* Final counts: exactly one group, (3, 30, TYPE) with every operation. */
    {
        asyncop_counts *c = NULL;
        size_t rows = 0;
        int32_t st = -1, su = -1, ty = -1;
        int64_t cnt = -1;
        REQUIRE_OK(asyncop_queue_counts(q, &c));
        CHECK_OK(asyncop_counts_count(c, &rows));
        CHECK(rows == 1);
        CHECK_OK(asyncop_counts_get(c, 0, &st, &su, &ty, &cnt));
        CHECK(st == 3 && su == 30 && ty == TYPE && cnt == total_ops);
        CHECK_OK(asyncop_counts_free(c));
    }
    wake_up(q);
    CHECK_OK(asyncop_queue_close(q));

    close_races(path);
    free(completed_per_id);
    return test_end();
}
