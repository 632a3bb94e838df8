/*
 * common.h: helpers shared by the C tests of asyncop's ABI (the .c files in tests/c).
 *
 * Every test program is named for one contract of include/asyncop.h, uses its
 * own temporary directory (mkdtemp under /tmp, removed at exit; set
 * ASYNCOP_TEST_KEEP=1 to keep it) and exits non-zero if any check failed.
 * The checks survive NDEBUG and print the file, line, expression, status
 * name and asyncop_last_error_message of the failing call.
 *
 * The file is valid C99 and C++11; include it after defining
 * _POSIX_C_SOURCE 200809L (mkdtemp, nanosleep, opendir need it under -std=c99).
 *
 * ASYNCOP_TEST_SCALE (a positive number, default 1) scales the sizes of the
 * heavy tests (threads, processes): the valgrind run uses a small scale.
 *
 * ASYNCOP_TEST_TARGET (a PostgreSQL URL) puts the queues of the tests that open
 * theirs with test_queue_target into fresh PostgreSQL schemas instead of files:
 * tests/c/run's `postgres` mode runs its list of store-neutral tests that way.
 */
#ifndef ASYNCOP_TEST_COMMON_H
#define ASYNCOP_TEST_COMMON_H

#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#error "define _POSIX_C_SOURCE 200809L before any include"
#endif

#include "asyncop.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Test state                                                               */
/* ------------------------------------------------------------------------ */

static const char *test_name_ = "test";
static int test_failures_ = 0;
static pid_t test_owner_pid_ = 0;
static char test_dir_[512] = "";

/* Counts a failure; safe from several threads (GCC/Clang builtin). */
static inline void test_count_failure_(void) { (void)__sync_fetch_and_add(&test_failures_, 1); }

static inline int test_failure_count(void) { return __sync_fetch_and_add(&test_failures_, 0); }

/* The last error message of this thread, copied into a static-size buffer. */
static inline const char *test_last_error_(char *buf, size_t cap) {
    (void)asyncop_last_error_message(buf, cap);
    return buf;
}

static inline void test_fail_expr_(const char *file, int line, const char *expr) {
    char msg[1024];
    test_last_error_(msg, sizeof msg);
    fprintf(stderr, "FAIL [%s] %s:%d: CHECK(%s)\n    last error: \"%s\"\n", test_name_, file,
            line, expr, msg);
    test_count_failure_();
}

static inline void test_fail_rc_(const char *file, int line, const char *expr, int32_t got,
                                 int32_t want, const char *why) {
    char msg[1024];
    /* Read the message first: nothing may run on this thread before it. */
    test_last_error_(msg, sizeof msg);
    fprintf(stderr,
            "FAIL [%s] %s:%d: %s\n    got %s (%ld), want %s (%ld)%s%s\n    last error: \"%s\"\n",
            test_name_, file, line, expr, asyncop_status_name(got), (long)got,
            asyncop_status_name(want), (long)want, why ? "; " : "", why ? why : "", msg);
    test_count_failure_();
}

/* Checks a status: the code, and that the last error message agrees with it
 * (non-empty after a failure, empty after success). */
static inline int test_check_rc_(const char *file, int line, const char *expr, int32_t got,
                                 int32_t want) {
    size_t msg_len = asyncop_last_error_message(NULL, 0);
    if (got != want) {
        test_fail_rc_(file, line, expr, got, want, NULL);
        return 0;
    }
    if (want != ASYNCOP_OK && msg_len == 0) {
        test_fail_rc_(file, line, expr, got, want, "but the last error message is empty");
        return 0;
    }
    if (want == ASYNCOP_OK && msg_len != 0) {
        test_fail_rc_(file, line, expr, got, want, "but the last error message is not empty");
        return 0;
    }
    return 1;
}

#define CHECK(expr)                                                                          \
    do {                                                                                     \
        if (!(expr)) test_fail_expr_(__FILE__, __LINE__, #expr);                             \
    } while (0)

/* CHECK_RC(want, call): the call returns exactly `want`. */
#define CHECK_RC(want, call)                                                                 \
    do {                                                                                     \
        int32_t check_rc_got_ = (int32_t)(call);                                             \
        (void)test_check_rc_(__FILE__, __LINE__, #call, check_rc_got_, (int32_t)(want));     \
    } while (0)

#define CHECK_OK(call) CHECK_RC(ASYNCOP_OK, call)

/* Fatal variants, for set-up steps the rest of a test depends on. */
#define REQUIRE(expr)                                                                        \
    do {                                                                                     \
        if (!(expr)) {                                                                       \
            test_fail_expr_(__FILE__, __LINE__, #expr);                                      \
            test_abort_();                                                                   \
        }                                                                                    \
    } while (0)

#define REQUIRE_RC(want, call)                                                               \
    do {                                                                                     \
        int32_t check_rc_got_ = (int32_t)(call);                                             \
        if (!test_check_rc_(__FILE__, __LINE__, #call, check_rc_got_, (int32_t)(want)))      \
            test_abort_();                                                                   \
    } while (0)

#define REQUIRE_OK(call) REQUIRE_RC(ASYNCOP_OK, call)

/* Stops the test now. In a forked child, _exit: the parent owns the temp dir
 * and its stdio buffers. */
static inline void test_abort_(void) {
    if (test_owner_pid_ != 0 && getpid() != test_owner_pid_) _exit(1);
    fprintf(stderr, "FAIL %s: aborted after a failed REQUIRE\n", test_name_);
    exit(1);
}

/* ------------------------------------------------------------------------ */
/* Temporary directory                                                      */
/* ------------------------------------------------------------------------ */

static inline void test_remove_tree_(const char *path) {
    DIR *d = opendir(path);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            char child[1024];
            struct stat st;
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode)) {
                test_remove_tree_(child);
            } else {
                (void)unlink(child);
            }
        }
        closedir(d);
    }
    (void)rmdir(path);
}

static inline void test_cleanup_(void) {
    if (test_dir_[0] == '\0' || getpid() != test_owner_pid_) return;
    if (getenv("ASYNCOP_TEST_KEEP") != NULL) {
        fprintf(stderr, "%s: kept %s (ASYNCOP_TEST_KEEP is set)\n", test_name_, test_dir_);
        return;
    }
    test_remove_tree_(test_dir_);
}

/* Starts a test: unbuffered output (forked children must not repeat it), a
 * temp dir removed at exit, and a watchdog that ends a hung test. */
static inline void test_begin(const char *name, unsigned watchdog_seconds) {
    test_name_ = name;
    test_owner_pid_ = getpid();
    setvbuf(stdout, NULL, _IONBF, 0);
    setvbuf(stderr, NULL, _IONBF, 0);
    snprintf(test_dir_, sizeof test_dir_, "/tmp/asyncop-c-%s-XXXXXX", name);
    if (mkdtemp(test_dir_) == NULL) {
        fprintf(stderr, "FAIL %s: mkdtemp: %s\n", name, strerror(errno));
        exit(1);
    }
    atexit(test_cleanup_);
    if (watchdog_seconds > 0) alarm(watchdog_seconds);
}

/* Call first thing in a forked child: its checks count from zero (the
 * parent's failures so far are the parent's to report). */
static inline void test_forked_child(void) { (void)__sync_lock_test_and_set(&test_failures_, 0); }

/* Ends a test: 0 if every check passed. */
static inline int test_end(void) {
    int failures = test_failure_count();
    if (failures != 0) {
        fprintf(stderr, "%s: %d check(s) failed\n", test_name_, failures);
        return 1;
    }
    printf("%s: all checks passed\n", test_name_);
    return 0;
}

static inline const char *test_dir(void) { return test_dir_; }

/* test_path(buf, name): "<temp dir>/<name>". */
static inline const char *test_path(char *buf, size_t cap, const char *name) {
    snprintf(buf, cap, "%s/%s", test_dir_, name);
    return buf;
}

static inline int test_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* Number of entries in a directory (without . and ..), or -1. */
static inline int test_dir_entries(const char *path) {
    int n = 0;
    struct dirent *e;
    DIR *d = opendir(path);
    if (d == NULL) return -1;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    }
    closedir(d);
    return n;
}

/* Reads a whole file (malloc'ed, free() it); NULL if unreadable. */
static inline unsigned char *test_read_file(const char *path, size_t *out_len) {
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0, n;
    if (f == NULL) return NULL;
    for (;;) {
        if (len == cap) {
            unsigned char *grown;
            cap = cap ? cap * 2 : 4096;
            grown = (unsigned char *)realloc(buf, cap);
            if (grown == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) break;
    }
    fclose(f);
    *out_len = len;
    return buf;
}

static inline int test_write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    int ok;
    if (f == NULL) return 0;
    ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

/* ------------------------------------------------------------------------ */
/* Time and scale                                                           */
/* ------------------------------------------------------------------------ */

static inline int64_t test_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t test_mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void test_sleep_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static inline double test_scale(void) {
    const char *s = getenv("ASYNCOP_TEST_SCALE");
    double v = s ? strtod(s, NULL) : 1.0;
    return v > 0 ? v : 1.0;
}

/* n scaled by ASYNCOP_TEST_SCALE, at least `min`. */
static inline int test_scaled(int n, int min) {
    int v = (int)(n * test_scale());
    return v < min ? min : v;
}

/* Waits for a child with a deadline; kills it if it overruns. Returns the
 * waitpid status, or -1 on timeout. */
static inline int test_wait_child(pid_t pid, int timeout_ms) {
    int64_t deadline = test_mono_ms() + timeout_ms;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) return status;
        if (r < 0 && errno != EINTR) return -1;
        if (test_mono_ms() > deadline) {
            fprintf(stderr, "%s: child %ld timed out; killing it\n", test_name_, (long)pid);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        test_sleep_ms(5);
    }
}

/* ------------------------------------------------------------------------ */
/* asyncop helpers                                                          */
/* ------------------------------------------------------------------------ */

static inline asyncop_queue *test_open(const char *path, const asyncop_options *options) {
    asyncop_queue *q = NULL;
    REQUIRE_OK(asyncop_queue_open(path, options, &q));
    REQUIRE(q != NULL);
    return q;
}

static inline int64_t test_submit(const asyncop_queue *q, const char *name, int32_t type) {
    int64_t id = -1;
    REQUIRE_OK(asyncop_queue_submit(q, name, type, NULL, 0, NULL, ASYNCOP_TIME_NONE, NULL, &id));
    REQUIRE(id > 0);
    return id;
}

/* What the tests compare before and after a refused call. */
typedef struct {
    int32_t state, status, retry_count, pu_present, host_present;
    int64_t lock_token, modified_on, pu;
} test_snap;

static inline test_snap test_snapshot(const asyncop_queue *q, int64_t id) {
    test_snap s;
    asyncop_operation *op = NULL;
    char host[512];
    size_t host_len = 0;
    memset(&s, 0, sizeof s);
    s.state = s.status = -100;
    REQUIRE_OK(asyncop_queue_retrieve(q, id, &op));
    CHECK_OK(asyncop_operation_state(op, &s.state));
    CHECK_OK(asyncop_operation_status(op, &s.status));
    CHECK_OK(asyncop_operation_retry_count(op, &s.retry_count));
    CHECK_OK(asyncop_operation_lock_token(op, &s.lock_token));
    CHECK_OK(asyncop_operation_modified_on(op, &s.modified_on));
    CHECK_OK(asyncop_operation_postpone_until(op, &s.pu, &s.pu_present));
    CHECK_OK(asyncop_operation_host_id(op, host, sizeof host, &host_len, &s.host_present));
    CHECK_OK(asyncop_operation_free(op));
    return s;
}

static inline int test_snap_equal(test_snap a, test_snap b) {
    return a.state == b.state && a.status == b.status && a.retry_count == b.retry_count &&
           a.pu_present == b.pu_present && a.host_present == b.host_present &&
           a.lock_token == b.lock_token && a.modified_on == b.modified_on && a.pu == b.pu;
}

/* CHECK_STATE(q, id, state, status) */
#define CHECK_STATE(q, id, want_state, want_status)                                          \
    do {                                                                                     \
        test_snap check_state_s_ = test_snapshot((q), (id));                                 \
        if (check_state_s_.state != (want_state) || check_state_s_.status != (want_status)) { \
            fprintf(stderr, "FAIL [%s] %s:%d: operation %lld is %d/%d, want %d/%d\n",          \
                    test_name_, __FILE__, __LINE__, (long long)(id), check_state_s_.state,    \
                    check_state_s_.status, (int)(want_state), (int)(want_status));           \
            test_count_failure_();                                                           \
        }                                                                                    \
    } while (0)

/* Total number of operations in the queue, from asyncop_queue_counts. */
static inline int64_t test_total(const asyncop_queue *q) {
    asyncop_counts *c = NULL;
    size_t rows = 0, i;
    int64_t total = 0;
    REQUIRE_OK(asyncop_queue_counts(q, &c));
    CHECK_OK(asyncop_counts_count(c, &rows));
    for (i = 0; i < rows; i++) {
        int32_t st = 0, su = 0, ty = 0;
        int64_t n = 0;
        CHECK_OK(asyncop_counts_get(c, i, &st, &su, &ty, &n));
        total += n;
    }
    CHECK_OK(asyncop_counts_free(c));
    return total;
}

/* Number of operations in (state, status), any type. */
static inline int64_t test_count_in(const asyncop_queue *q, int32_t state, int32_t status) {
    asyncop_counts *c = NULL;
    size_t rows = 0, i;
    int64_t total = 0;
    REQUIRE_OK(asyncop_queue_counts(q, &c));
    CHECK_OK(asyncop_counts_count(c, &rows));
    for (i = 0; i < rows; i++) {
        int32_t st = 0, su = 0, ty = 0;
        int64_t n = 0;
        CHECK_OK(asyncop_counts_get(c, i, &st, &su, &ty, &n));
        if (st == state && su == status) total += n;
    }
    CHECK_OK(asyncop_counts_free(c));
    return total;
}

/* Claims exactly one operation (optionally of one type) or fails the test. */
static inline asyncop_lease *test_claim(const asyncop_queue *q, const char *host, int32_t type) {
    asyncop_lease *leases[1] = {NULL};
    size_t n = 0;
    REQUIRE_OK(asyncop_queue_poll(q, host, type > 0 ? &type : NULL, type > 0 ? 1 : 0, 0, leases,
                                  1, &n));
    REQUIRE(n == 1);
    REQUIRE(leases[0] != NULL);
    return leases[0];
}

static inline int64_t test_lease_id(const asyncop_lease *l) {
    int64_t id = -1;
    CHECK_OK(asyncop_lease_id(l, &id));
    return id;
}

/* test_queue_target: a file, or a fresh PostgreSQL schema (ASYNCOP_TEST_TARGET). */
#include "store.h"

#endif /* ASYNCOP_TEST_COMMON_H */
