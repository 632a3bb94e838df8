/*
 * foreign_file: a file that is not an asyncop database gives
 * ASYNCOP_ERR_CORRUPT (with a message) and is left byte-for-byte untouched,
 * with no -wal/-shm/-journal created beside it, even with options that write
 * queue-wide settings:
 *   a text file (short and long), random bytes, a 50-byte file, an SQLite
 *   header alone, another application's SQLite database (built here byte by
 *   byte: one table, no application id), an empty SQLite database with a
 *   foreign application_id, an asyncop file truncated to half its length,
 *   an asyncop file from a newer schema version (user_version patched).
 * The same foreign database opened through an SQLite URI ("file:<path>")
 * must not be modified either.
 * A well-formed asyncop file reopens fine (the control case).
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

static void put32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* A minimal SQLite 3 database with 512-byte pages. With `with_table`, page 1
 * holds the schema row of "CREATE TABLE t(x)" whose (empty) b-tree is page 2. */
static size_t make_sqlite(unsigned char *db, uint32_t application_id, int with_table) {
    static const char sql[] = "CREATE TABLE t(x)";
    const uint32_t pages = with_table ? 2 : 1;
    unsigned char *page1 = db + 100;
    memset(db, 0, 512 * pages);
    memcpy(db, "SQLite format 3", 16);
    db[16] = 0x02; /* page size 512 */
    db[17] = 0x00;
    db[18] = 1; /* legacy journal mode */
    db[19] = 1;
    db[20] = 0;  /* reserved bytes per page */
    db[21] = 64; /* payload fractions */
    db[22] = 32;
    db[23] = 32;
    put32(db + 24, 1);              /* file change counter */
    put32(db + 28, pages);          /* database size in pages */
    put32(db + 40, 1);              /* schema cookie */
    put32(db + 44, 4);              /* schema format */
    put32(db + 56, 1);              /* UTF-8 */
    put32(db + 68, application_id); /* application id */
    put32(db + 92, 1);              /* version-valid-for = change counter */
    put32(db + 96, 3045001);        /* SQLITE_VERSION_NUMBER that wrote it */
    page1[0] = 0x0D;                /* leaf table b-tree */
    if (!with_table) {
        page1[5] = 0x02; /* cell content starts at 512: no cells */
        page1[6] = 0x00;
        return 512;
    } else {
        /* Record: header [6, text(5), text(1), text(1), int8, text(17)]. */
        unsigned char cell[64];
        size_t n = 0, start;
        cell[n++] = 0; /* payload length, set below */
        cell[n++] = 1; /* rowid */
        cell[n++] = 6;
        cell[n++] = 5 * 2 + 13;
        cell[n++] = 1 * 2 + 13;
        cell[n++] = 1 * 2 + 13;
        cell[n++] = 1;
        cell[n++] = (unsigned char)((sizeof sql - 1) * 2 + 13);
        memcpy(cell + n, "table", 5);
        n += 5;
        cell[n++] = 't';
        cell[n++] = 't';
        cell[n++] = 2; /* root page */
        memcpy(cell + n, sql, sizeof sql - 1);
        n += sizeof sql - 1;
        cell[0] = (unsigned char)(n - 2);
        start = 512 - n;
        memcpy(db + start, cell, n);
        page1[3] = 0; /* one cell */
        page1[4] = 1;
        page1[5] = (unsigned char)(start >> 8);
        page1[6] = (unsigned char)start;
        page1[8] = (unsigned char)(start >> 8); /* the cell pointer */
        page1[9] = (unsigned char)start;
        db[512] = 0x0D; /* page 2: an empty leaf table b-tree */
        db[512 + 5] = 0x02;
        db[512 + 6] = 0x00;
        return 1024;
    }
}

/* Opens `path` (as `open_path` when given) and expects `want`; the file and
 * its directory must be exactly as before. */
static void expect_untouched(const char *what, const char *path, const char *open_path,
                             int32_t want, int32_t also_ok) {
    size_t before_len = 0, after_len = 0;
    unsigned char *before = test_read_file(path, &before_len);
    unsigned char *after;
    int entries = test_dir_entries(test_dir());
    asyncop_queue *q = NULL;
    asyncop_options *o = NULL;
    int round;
    int failures = test_failure_count();

    REQUIRE(before != NULL);
    REQUIRE_OK(asyncop_options_new(&o));
    CHECK_OK(asyncop_options_set_max_attempts(o, 2));      /* writes a setting ... */
    CHECK_OK(asyncop_options_set_allow_delete_any(o, 1));  /* ... if it gets that far */
    for (round = 0; round < 2; round++) {
        int32_t rc = asyncop_queue_open(open_path ? open_path : path, round ? o : NULL, &q);
        char msg[512];
        (void)asyncop_last_error_message(msg, sizeof msg);
        if (rc != want && rc != also_ok) {
            fprintf(stderr, "FAIL [foreign_file] %s: open gave %s, want %s; \"%s\"\n", what,
                    asyncop_status_name(rc), asyncop_status_name(want), msg);
            CHECK(rc == want);
        } else {
            CHECK(strlen(msg) > 0);
        }
        if (rc == ASYNCOP_OK) CHECK_OK(asyncop_queue_close(q));
        q = NULL;
    }
    CHECK_OK(asyncop_options_free(o));
    after = test_read_file(path, &after_len);
    CHECK(after != NULL);
    if (after == NULL || after_len != before_len || memcmp(before, after, before_len) != 0) {
        fprintf(stderr, "FAIL [foreign_file] %s: the file changed (%lu bytes -> %lu bytes)\n",
                what, (unsigned long)before_len, (unsigned long)after_len);
        CHECK(!"file changed");
    }
    if (test_dir_entries(test_dir()) != entries) {
        fprintf(stderr, "FAIL [foreign_file] %s: files appeared beside it (%d -> %d entries)\n",
                what, entries, test_dir_entries(test_dir()));
        CHECK(!"files appeared");
    }
    free(before);
    free(after);
    printf("  %-44s %s\n", what, test_failure_count() == failures ? "ok" : "FAILED");
}

static void write_case(const char *name, const void *data, size_t len, char *path, size_t cap) {
    test_path(path, cap, name);
    REQUIRE(test_write_file(path, data, len));
}

/* Creates an asyncop file of several pages; returns its closed bytes. */
static unsigned char *asyncop_file(const char *path, size_t *len) {
    asyncop_queue *q = test_open(path, NULL);
    char wal[700];
    uint8_t payload[1000];
    int i;
    memset(payload, 'x', sizeof payload);
    for (i = 0; i < 40; i++) {
        int64_t id;
        REQUIRE_OK(asyncop_queue_submit(q, "fill", 1, payload, sizeof payload, NULL,
                                        ASYNCOP_TIME_NONE, NULL, &id));
    }
    CHECK_OK(asyncop_queue_close(q));
    snprintf(wal, sizeof wal, "%s-wal", path);
    CHECK(!test_file_exists(wal)); /* the last close checkpointed the WAL */
    return test_read_file(path, len);
}

int main(void) {
    char path[600], uri[700];
    unsigned char buf[8192];
    size_t i, len;
    uint32_t x = 12345;
    unsigned char *good;

    test_begin("foreign_file", 120);

    for (i = 0; i < 40; i++) memcpy(buf + i * 25, "this is not a database.\n\n", 25);
    write_case("short.txt", buf, 23, path, sizeof path);
    expect_untouched("a short text file", path, NULL, ASYNCOP_ERR_CORRUPT, ASYNCOP_ERR_CORRUPT);
    write_case("long.txt", buf, 1000, path, sizeof path);
    expect_untouched("a text file of 1000 bytes", path, NULL, ASYNCOP_ERR_CORRUPT,
                     ASYNCOP_ERR_CORRUPT);

    for (i = 0; i < sizeof buf; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
    write_case("random.bin", buf, sizeof buf, path, sizeof path);
    expect_untouched("8192 random bytes", path, NULL, ASYNCOP_ERR_CORRUPT, ASYNCOP_ERR_CORRUPT);
    write_case("fifty.bin", buf, 50, path, sizeof path);
    expect_untouched("a file of 50 bytes", path, NULL, ASYNCOP_ERR_CORRUPT, ASYNCOP_ERR_CORRUPT);

    len = make_sqlite(buf, 0, 1);
    write_case("header-only.db", buf, 100, path, sizeof path);
    expect_untouched("an SQLite header alone (100 bytes)", path, NULL, ASYNCOP_ERR_CORRUPT,
                     ASYNCOP_ERR_CORRUPT);
    write_case("foreign.db", buf, len, path, sizeof path);
    expect_untouched("another SQLite database (one table)", path, NULL, ASYNCOP_ERR_CORRUPT,
                     ASYNCOP_ERR_CORRUPT);
    /* The same file named as an SQLite URI: it must not be opened and changed
     * behind the header check (CORRUPT if URIs are honoured, IO if the name is
     * taken literally: there is no directory "file:"). */
    snprintf(uri, sizeof uri, "file:%s", path);
    expect_untouched("the same database as \"file:<path>\"", path, uri, ASYNCOP_ERR_CORRUPT,
                     ASYNCOP_ERR_IO);

    len = make_sqlite(buf, 0x0f055112u, 0); /* Fossil's application id */
    write_case("foreign-app.db", buf, len, path, sizeof path);
    expect_untouched("an empty SQLite database of another app", path, NULL, ASYNCOP_ERR_CORRUPT,
                     ASYNCOP_ERR_CORRUPT);

    /* A real asyncop file: the control, then damaged copies of it. */
    test_path(path, sizeof path, "good.db");
    good = asyncop_file(path, &len);
    REQUIRE(good != NULL && len >= 4096);
    {
        asyncop_queue *q = test_open(path, NULL);
        CHECK(test_total(q) == 40);
        CHECK_OK(asyncop_queue_close(q));
    }
    write_case("half.db", good, len / 2, path, sizeof path);
    expect_untouched("an asyncop file truncated to half", path, NULL, ASYNCOP_ERR_CORRUPT,
                     ASYNCOP_ERR_CORRUPT);
    put32(good + 60, 99); /* user_version: a newer schema */
    write_case("newer.db", good, len, path, sizeof path);
    expect_untouched("an asyncop file of schema version 99", path, NULL, ASYNCOP_ERR_CORRUPT,
                     ASYNCOP_ERR_CORRUPT);
    free(good);

    return test_end();
}
