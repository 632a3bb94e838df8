/*
 * store.h: where a C test's queue lives (included by common.h, after test_path).
 *
 * The tests that exercise the queue's model rather than its file open their
 * queue through test_queue_target, so tests/c/run can run them once more
 * against PostgreSQL (its `postgres` mode sets ASYNCOP_TEST_TARGET to the test
 * cluster's URL). Tests about files (paths, modes, WAL, foreign files, fork of
 * a file handle) keep test_path: SQLite only.
 */
#ifndef ASYNCOP_TEST_STORE_H
#define ASYNCOP_TEST_STORE_H
/* test_queue_target(buf, name): where a test's queue lives. With
 * ASYNCOP_TEST_TARGET set (tests/c/run's `postgres` mode sets it to the test
 * cluster's URL), a URL naming a fresh PostgreSQL schema,
 * "<url>?schema=t<pid>_<n>_<name>", unique per call and process; otherwise the
 * file "<temp dir>/<name>". Children of a test open the string they inherit,
 * so they share its queue. */
static inline const char *test_queue_target(char *buf, size_t cap, const char *name) {
    static int n = 0;
    const char *url = getenv("ASYNCOP_TEST_TARGET");
    char clean[32];
    size_t i;
    if (url == NULL || *url == '\0') return test_path(buf, cap, name);
    for (i = 0; name[i] != '\0' && i < sizeof clean - 1; i++) {
        char c = name[i];
        clean[i] = ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) ? c : '_';
    }
    clean[i] = '\0';
    snprintf(buf, cap, "%s%sschema=t%ld_%d_%s", url, strchr(url, '?') ? "&" : "?",
             (long)getpid(), ++n, clean);
    return buf;
}

/* Whether this run's queues are PostgreSQL schemas (see test_queue_target). */
static inline int test_on_postgres(void) {
    const char *url = getenv("ASYNCOP_TEST_TARGET");
    return url != NULL && *url != '\0';
}

#endif /* ASYNCOP_TEST_STORE_H */
