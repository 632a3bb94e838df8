/*
 * bad_path: a path that cannot be opened gives ASYNCOP_ERR_IO with a
 * non-empty message, no crash, and creates nothing: a file in a missing
 * directory (absolute, nested, and under a regular file), a file under /proc
 * (not creatable even by root), and a directory given as the file. The empty
 * path and ":memory:" are refused (not OK). Permission cases run only when
 * not root (root bypasses file modes).
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

static void expect(const char *what, const char *path, int32_t want) {
    asyncop_queue *q = NULL;
    int32_t rc = asyncop_queue_open(path, NULL, &q);
    char msg[1024];
    size_t n = asyncop_last_error_message(msg, sizeof msg);
    if (rc != want) {
        fprintf(stderr, "FAIL [bad_path] %s (\"%s\"): got %s, want %s; \"%s\"\n", what, path,
                asyncop_status_name(rc), asyncop_status_name(want), msg);
        CHECK(rc == want);
    }
    if (rc != ASYNCOP_OK) CHECK(n > 0);
    CHECK(rc == ASYNCOP_OK || q == NULL);
    if (rc == ASYNCOP_OK) CHECK_OK(asyncop_queue_close(q));
    printf("  %-36s %s: %s\n", what, asyncop_status_name(rc), msg);
}

int main(void) {
    char path[700], file[600];
    int entries;
    asyncop_queue *q = NULL;

    test_begin("bad_path", 60);
    entries = test_dir_entries(test_dir());

    snprintf(path, sizeof path, "%s/missing/q.db", test_dir());
    expect("a missing directory", path, ASYNCOP_ERR_IO);
    snprintf(path, sizeof path, "%s/missing/deeper/still/q.db", test_dir());
    expect("a missing nested directory", path, ASYNCOP_ERR_IO);
    expect("a missing top-level directory", "/nonexistent-asyncop-test-dir/q.db", ASYNCOP_ERR_IO);
    expect("a file under /proc", "/proc/asyncop-test.db", ASYNCOP_ERR_IO);
    expect("a directory under /proc", "/proc/self/asyncop-test.db", ASYNCOP_ERR_IO);
    CHECK(test_dir_entries(test_dir()) == entries); /* no directory was created */
    CHECK(!test_file_exists("/nonexistent-asyncop-test-dir"));

    /* A regular file where a directory should be. */
    test_path(file, sizeof file, "plain.txt");
    REQUIRE(test_write_file(file, "x", 1));
    snprintf(path, sizeof path, "%s/q.db", file);
    expect("a path through a regular file", path, ASYNCOP_ERR_IO);

    /* A directory where the file should be: it cannot be read as a file. */
    snprintf(path, sizeof path, "%s/adir", test_dir());
    REQUIRE(mkdir(path, 0700) == 0);
    expect("a directory as the file", path, ASYNCOP_ERR_IO);
    CHECK(test_dir_entries(path) == 0);

    /* Not a file name at all: refused, whichever code. */
    {
        int32_t rc = asyncop_queue_open("", NULL, &q);
        CHECK(rc != ASYNCOP_OK);
        CHECK(asyncop_last_error_message(NULL, 0) > 0);
        printf("  %-36s %s\n", "the empty path", asyncop_status_name(rc));
        if (rc == ASYNCOP_OK) CHECK_OK(asyncop_queue_close(q));
        rc = asyncop_queue_open(":memory:", NULL, &q);
        CHECK(rc != ASYNCOP_OK);
        CHECK(asyncop_last_error_message(NULL, 0) > 0);
        printf("  %-36s %s\n", "\":memory:\"", asyncop_status_name(rc));
        if (rc == ASYNCOP_OK) CHECK_OK(asyncop_queue_close(q));
    }

    if (geteuid() != 0) {
        /* A directory without write permission, and an unreadable file. */
        snprintf(path, sizeof path, "%s/readonly", test_dir());
        REQUIRE(mkdir(path, 0500) == 0);
        snprintf(file, sizeof file, "%s/readonly/q.db", test_dir());
        expect("a read-only directory", file, ASYNCOP_ERR_IO);
        CHECK(chmod(path, 0700) == 0);
        test_path(file, sizeof file, "unreadable.db");
        REQUIRE(test_write_file(file, "", 0));
        REQUIRE(chmod(file, 0) == 0);
        expect("an unreadable file", file, ASYNCOP_ERR_IO);
    } else {
        printf("  (running as root: permission cases skipped)\n");
    }

    /* The temp dir still works for a real queue afterwards. */
    q = test_open(test_path(path, sizeof path, "fine.db"), NULL);
    CHECK_OK(asyncop_queue_close(q));
    return test_end();
}
