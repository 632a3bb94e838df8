/*
 * processes: several worker processes, each with its own queue handle on the
 * same file (lease ~1 s), work through 400 operations (x ASYNCOP_TEST_SCALE)
 * while the parent keeps submitting. One more worker is SIGKILLed while it
 * holds a lease (it reports its claim through a pipe and then sleeps). When
 * the others are done: the killed worker's operation was recovered and
 * completed by another worker (retry_count >= 1, lock_token >= 2), every
 * operation is Completed/Succeeded, and each was completed exactly once (the
 * workers report every successful complete through a pipe).
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#define WORKERS 3
#define TYPE 21

static asyncop_queue *open_worker_queue(const char *path, int64_t lease_ms) {
    asyncop_options *o = NULL;
    asyncop_queue *q;
    REQUIRE_OK(asyncop_options_new(&o));
    CHECK_OK(asyncop_options_set_lease_ms(o, lease_ms));
    CHECK_OK(asyncop_options_set_durability(o, ASYNCOP_DURABILITY_NORMAL));
    q = test_open(path, o);
    CHECK_OK(asyncop_options_free(o));
    return q;
}

static int write_all(int fd, const void *p, size_t n) {
    const char *c = (const char *)p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return 0;
        c += w;
        n -= (size_t)w;
    }
    return 1;
}

/* The victim: claims one operation, says which, and hangs on to it. */
static void victim(const char *path, int64_t lease_ms, int fd) {
    asyncop_queue *q = open_worker_queue(path, lease_ms);
    asyncop_lease *leases[1] = {NULL};
    size_t n = 0;
    int64_t id;
    REQUIRE_OK(asyncop_queue_poll(q, "victim", NULL, 0, 10000, leases, 1, &n));
    REQUIRE(n == 1);
    id = test_lease_id(leases[0]);
    REQUIRE(write_all(fd, &id, sizeof id));
    for (;;) pause(); /* until SIGKILL */
}

static int worker(const char *path, int64_t lease_ms, int index, int total, int fd) {
    asyncop_queue *q = open_worker_queue(path, lease_ms);
    char host[32];
    int64_t deadline = test_mono_ms() + 200000;
    snprintf(host, sizeof host, "worker-%d", index);
    while (test_mono_ms() < deadline) {
        asyncop_lease *leases[4];
        size_t n = 0, i;
        int32_t rc = asyncop_queue_poll(q, host, NULL, 0, 100, leases, 4, &n);
        if (rc == ASYNCOP_ERR_BUSY) continue;
        CHECK_RC(ASYNCOP_OK, rc);
        if (rc != ASYNCOP_OK) break;
        for (i = 0; i < n; i++) {
            int32_t st = 0;
            int64_t id = test_lease_id(leases[i]);
            int32_t rrc = asyncop_lease_renew(leases[i], &st);
            if (rrc == ASYNCOP_OK && st == ASYNCOP_STATUS_IN_PROGRESS) {
                int32_t crc = asyncop_lease_complete(leases[i], &st);
                if (crc == ASYNCOP_OK) {
                    CHECK(st == ASYNCOP_STATUS_SUCCEEDED);
                    CHECK(write_all(fd, &id, sizeof id));
                } else if (crc != ASYNCOP_ERR_LEASE_LOST && crc != ASYNCOP_ERR_BUSY) {
                    CHECK_RC(ASYNCOP_OK, crc);
                }
            } else if (rrc != ASYNCOP_ERR_LEASE_LOST && rrc != ASYNCOP_ERR_BUSY) {
                CHECK_RC(ASYNCOP_OK, rrc);
            }
            CHECK_OK(asyncop_lease_free(leases[i]));
        }
        if (n == 0 && test_count_in(q, ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED) >= total)
            break;
    }
    CHECK(test_mono_ms() < deadline);
    CHECK_OK(asyncop_queue_close(q));
    return test_failure_count() ? 1 : 0;
}

static void submit_range(const asyncop_queue *q, int count) {
    int done = 0;
    while (done < count) {
        asyncop_spec *owned[25];
        const asyncop_spec *specs[25];
        int64_t ids[25];
        int k, batch = count - done < 25 ? count - done : 25;
        for (k = 0; k < batch; k++) {
            REQUIRE_OK(asyncop_spec_new("job", TYPE, &owned[k]));
            specs[k] = owned[k];
        }
        REQUIRE_OK(asyncop_queue_submit_many(q, specs, (size_t)batch, ids));
        for (k = 0; k < batch; k++) CHECK_OK(asyncop_spec_free(owned[k]));
        done += batch;
    }
}

int main(void) {
    char path[600];
    asyncop_queue *q;
    asyncop_options *o = NULL;
    int total = test_scaled(400, 40);
    int64_t lease_ms = test_scale() < 1.0 ? 2000 : 1000;
    int vpipe[2], rpipe[2], i, status;
    pid_t victim_pid, pids[WORKERS];
    int64_t victim_id = -1, id, start;
    int *per_id;
    int once = 0, never = 0, more = 0, bad = 0;
    long reports = 0;

    test_begin("processes", 280);
    per_id = (int *)calloc((size_t)total + 1, sizeof(int));
    REQUIRE(per_id != NULL);
    test_queue_target(path, sizeof path, "procs.db");
    REQUIRE_OK(asyncop_options_new(&o));
    CHECK_OK(asyncop_options_set_max_attempts(o, 10)); /* queue-wide, into the file */
    CHECK_OK(asyncop_options_set_durability(o, ASYNCOP_DURABILITY_NORMAL));
    q = test_open(path, o);
    CHECK_OK(asyncop_options_free(o));
    submit_range(q, total / 2);

    /* The victim claims one operation; kill it while it holds the lease. */
    REQUIRE(pipe(vpipe) == 0);
    victim_pid = fork();
    REQUIRE(victim_pid >= 0);
    if (victim_pid == 0) {
        test_forked_child();
        close(vpipe[0]);
        victim(path, lease_ms, vpipe[1]);
        _exit(1);
    }
    close(vpipe[1]);
    REQUIRE(read(vpipe[0], &victim_id, sizeof victim_id) == (ssize_t)sizeof victim_id);
    close(vpipe[0]);
    {
        asyncop_operation *op = NULL;
        char host[32];
        size_t len = 0;
        int32_t present = 0;
        CHECK_STATE(q, victim_id, ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_IN_PROGRESS);
        REQUIRE_OK(asyncop_queue_retrieve(q, victim_id, &op));
        CHECK_OK(asyncop_operation_host_id(op, host, sizeof host, &len, &present));
        CHECK(present == 1 && strcmp(host, "victim") == 0);
        CHECK_OK(asyncop_operation_free(op));
    }
    REQUIRE(kill(victim_pid, SIGKILL) == 0);
    REQUIRE(waitpid(victim_pid, &status, 0) == victim_pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    printf("  killed the victim (pid %ld) holding operation %lld\n", (long)victim_pid,
           (long long)victim_id);

    /* The workers, each with its own queue handle on the file. */
    start = test_mono_ms();
    REQUIRE(pipe(rpipe) == 0);
    for (i = 0; i < WORKERS; i++) {
        pids[i] = fork();
        REQUIRE(pids[i] >= 0);
        if (pids[i] == 0) {
            test_forked_child();
            close(rpipe[0]);
            _exit(worker(path, lease_ms, i, total, rpipe[1]));
        }
    }
    close(rpipe[1]);
    /* More work arrives while they run. */
    test_sleep_ms(50);
    submit_range(q, total - total / 2);

    /* Every successful complete, until all workers have exited. */
    for (;;) {
        ssize_t r = read(rpipe[0], &id, sizeof id);
        if (r == 0) break;
        if (r < 0 && errno == EINTR) continue;
        REQUIRE(r == (ssize_t)sizeof id);
        reports++;
        if (id >= 1 && id <= total) {
            per_id[id]++;
        } else {
            bad++;
        }
    }
    close(rpipe[0]);
    for (i = 0; i < WORKERS; i++) {
        status = test_wait_child(pids[i], 60000);
        CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    printf("  %d operations, %d workers, lease %lld ms: %ld ms, %ld completions\n", total, WORKERS,
           (long long)lease_ms, (long)(test_mono_ms() - start), reports);

    CHECK(bad == 0);
    for (i = 1; i <= total; i++) {
        if (per_id[i] == 1) once++;
        else if (per_id[i] == 0) never++;
        else more++;
    }
    if (once != total)
        fprintf(stderr, "    completed once: %d, never: %d, more than once: %d\n", once, never, more);
    CHECK(once == total);
    CHECK(per_id[victim_id] == 1);

    /* The victim's operation was recovered after its lease expired. */
    {
        test_snap s = test_snapshot(q, victim_id);
        CHECK(s.state == ASYNCOP_STATE_COMPLETED && s.status == ASYNCOP_STATUS_SUCCEEDED);
        CHECK(s.retry_count >= 1);
        CHECK(s.lock_token >= 2);
        printf("  operation %lld: retry_count %d, lock_token %lld\n", (long long)victim_id,
               s.retry_count, (long long)s.lock_token);
    }
    CHECK(test_total(q) == total);
    CHECK(test_count_in(q, ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED) == total);
    CHECK_OK(asyncop_queue_close(q));

    /* The file reopens fine. */
    q = test_open(path, NULL);
    CHECK(test_total(q) == total);
    CHECK_OK(asyncop_queue_close(q));
    free(per_id);
    return test_end();
}
