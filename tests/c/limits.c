/*
 * limits: the limits of the header, enforced at the ABI.
 * - asyncop_queue_poll: max 1..ASYNCOP_POLL_MAX (65536); more is
 *   ASYNCOP_ERR_INVALID_ARG before out_leases or out_count is written.
 * - payloads: asyncop_options_set_max_payload_bytes takes
 *   1..ASYNCOP_PAYLOAD_CEILING (512 MiB); a submit of data over the queue's limit
 *   (default ASYNCOP_PAYLOAD_DEFAULT_MAX, 16 MiB) is INVALID_ARG and writes
 *   nothing, a submit_many with one oversized spec writes none; the limit is
 *   stored in the file, so a second handle opened with default options applies it.
 * - asyncop_options_set_file_mode: only modes within 0660 that include 0600.
 * - asyncop_queue_check_integrity: OK on a healthy file, ASYNCOP_ERR_CORRUPT
 *   after a stored row is damaged (its NOT NULL state made NULL), as are reads
 *   of that row.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#define INVALID ASYNCOP_ERR_INVALID_ARG

static void header_constants(void) {
    CHECK(ASYNCOP_POLL_MAX == 65536);
    CHECK(ASYNCOP_PAYLOAD_DEFAULT_MAX == 16 * 1024 * 1024);
    CHECK(ASYNCOP_PAYLOAD_CEILING == 512 * 1024 * 1024);
    CHECK(ASYNCOP_FILE_MODE_DEFAULT == 0600);
    CHECK(ASYNCOP_FILE_MODE_ALLOWED == 0660);
    CHECK(ASYNCOP_NAME_MAX_CHARS == 256);
}

static void poll_max(const char *path) {
    asyncop_queue *q = test_open(path, NULL);
    asyncop_lease *sentinel = (asyncop_lease *)(uintptr_t)0x5a5a;
    asyncop_lease *two[2];
    asyncop_lease **all;
    size_t n = 77;
    size_t bad[3];
    size_t i;
    int64_t id;

    bad[0] = (size_t)ASYNCOP_POLL_MAX + 1;
    bad[1] = (size_t)-1;
    bad[2] = 0;
    id = test_submit(q, "poll-max", 1);
    for (i = 0; i < 3; i++) {
        two[0] = two[1] = sentinel;
        n = 77;
        CHECK_RC(INVALID, asyncop_queue_poll(q, "host", NULL, 0, 0, two, bad[i], &n));
        CHECK(two[0] == sentinel && two[1] == sentinel);
        CHECK(n == 77);
    }
    CHECK_STATE(q, id, ASYNCOP_STATE_READY, ASYNCOP_STATUS_WAITING_FOR_RESOURCES);

    all = (asyncop_lease **)calloc(ASYNCOP_POLL_MAX, sizeof *all);
    REQUIRE(all != NULL);
    CHECK_OK(asyncop_queue_poll(q, "host", NULL, 0, 0, all, ASYNCOP_POLL_MAX, &n));
    CHECK(n == 1);
    for (i = 0; i < n; i++) {
        int32_t st = 0;
        CHECK_OK(asyncop_lease_complete(all[i], &st));
        CHECK_OK(asyncop_lease_free(all[i]));
    }
    /* Empty queue: OK, none. */
    CHECK_OK(asyncop_queue_poll(q, "host", NULL, 0, 0, all, ASYNCOP_POLL_MAX, &n));
    CHECK(n == 0);
    free(all);
    CHECK_OK(asyncop_queue_close(q));
}

static asyncop_status submit_bytes(const asyncop_queue *q, size_t len, int64_t *id) {
    static unsigned char data[2048];
    memset(data, 0xA5, sizeof data);
    return asyncop_queue_submit(q, "payload", 1, data, len, NULL, ASYNCOP_TIME_NONE, NULL, id);
}

static void payload_limit(const char *path) {
    asyncop_options *o = NULL;
    asyncop_queue *q;
    asyncop_spec *specs[3];
    int64_t ids[3] = {0, 0, 0};
    int64_t id = -7;
    char msg[512];
    size_t i;

    REQUIRE_OK(asyncop_options_new(&o));
    CHECK_RC(INVALID, asyncop_options_set_max_payload_bytes(o, 0));
    CHECK_RC(INVALID, asyncop_options_set_max_payload_bytes(o, (uint64_t)ASYNCOP_PAYLOAD_CEILING + 1));
    CHECK_RC(INVALID, asyncop_options_set_max_payload_bytes(o, UINT64_MAX));
    CHECK_OK(asyncop_options_set_max_payload_bytes(o, ASYNCOP_PAYLOAD_CEILING));
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_options_set_max_payload_bytes(NULL, 1024));
    CHECK_OK(asyncop_options_set_max_payload_bytes(o, 1024));
    q = test_open(path, o);
    CHECK_OK(asyncop_options_free(o));

    CHECK_OK(submit_bytes(q, 1024, &id));
    CHECK(id > 0);
    id = -7;
    CHECK_RC(INVALID, submit_bytes(q, 1025, &id));
    asyncop_last_error_message(msg, sizeof msg);
    CHECK(strstr(msg, "1025") != NULL && strstr(msg, "1024") != NULL);
    CHECK(id == -7);
    CHECK(test_total(q) == 1);

    for (i = 0; i < 3; i++) {
        static unsigned char data[1025];
        REQUIRE_OK(asyncop_spec_new("batch", 1, &specs[i]));
        CHECK_OK(asyncop_spec_set_data(specs[i], data, i == 1 ? 1025 : 10));
    }
    CHECK_RC(INVALID, asyncop_queue_submit_many(q, (const asyncop_spec *const *)specs, 3, ids));
    asyncop_last_error_message(msg, sizeof msg);
    CHECK(strstr(msg, "spec 1") != NULL);
    CHECK(ids[0] == 0 && ids[1] == 0 && ids[2] == 0);
    CHECK(test_total(q) == 1);
    for (i = 0; i < 3; i++) CHECK_OK(asyncop_spec_free(specs[i]));
    CHECK_OK(asyncop_queue_close(q));

    /* Stored in the file: a handle with default options applies it. */
    q = test_open(path, NULL);
    CHECK_RC(INVALID, submit_bytes(q, 1025, &id));
    CHECK_OK(submit_bytes(q, 1024, &id));
    CHECK(test_total(q) == 2);
    CHECK_OK(asyncop_queue_close(q));
}

static void file_mode(void) {
    static const uint32_t good[] = {0600, 0620, 0640, 0660};
    static const uint32_t bad[] = {0, 0400, 0644, 0666, 0700, 04600, 0xFFFFFFFFu};
    asyncop_options *o = NULL;
    size_t i;
    REQUIRE_OK(asyncop_options_new(&o));
    for (i = 0; i < sizeof good / sizeof good[0]; i++) CHECK_OK(asyncop_options_set_file_mode(o, good[i]));
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) CHECK_RC(INVALID, asyncop_options_set_file_mode(o, bad[i]));
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_options_set_file_mode(NULL, 0600));
    CHECK_OK(asyncop_options_free(o));
}

/* Makes the state of the Ready row named `name` NULL: its serial type 8 (the
 * constant 0, no body bytes) becomes 0 (NULL) in the record header, which ends
 * where the body starts with the name. Returns 1 if it found the row. */
static int null_the_state_of(const char *path, const char *name) {
    size_t len = 0, nlen = strlen(name), at, p;
    unsigned char *b = test_read_file(path, &len);
    int done = 0;
    if (b == NULL) return 0;
    for (at = 100; at + nlen <= len && !done; at++) {
        if (memcmp(b + at, name, nlen) != 0) continue;
        for (p = at - 60; p < at; p++) {
            if (b[p] == at - p && b[p + 1] == 0 && b[p + 2] == 13 + 2 * nlen && b[p + 4] == 8) {
                b[p + 4] = 0;
                done = 1;
                break;
            }
        }
    }
    done = done && test_write_file(path, b, len);
    free(b);
    return done;
}

static void integrity(const char *path) {
    char wal[700];
    asyncop_queue *q = test_open(path, NULL);
    asyncop_operation *op = NULL;
    char msg[512];
    int64_t id1 = test_submit(q, "row-marker-1", 1);
    int64_t id2 = test_submit(q, "row-marker-2", 1);
    CHECK_OK(asyncop_queue_check_integrity(q));
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_queue_check_integrity(NULL));
    CHECK_OK(asyncop_queue_close(q));
    CHECK_RC(ASYNCOP_ERR_CLOSED_HANDLE, asyncop_queue_check_integrity(q));

    /* Closing the last connection checkpoints the WAL into the file. */
    snprintf(wal, sizeof wal, "%s-wal", path);
    REQUIRE(!test_file_exists(wal));
    REQUIRE(null_the_state_of(path, "row-marker-2"));

    q = test_open(path, NULL);
    CHECK_OK(asyncop_queue_retrieve(q, id1, &op));
    CHECK_OK(asyncop_operation_free(op));
    op = NULL;
    CHECK_RC(ASYNCOP_ERR_CORRUPT, asyncop_queue_retrieve(q, id2, &op));
    asyncop_last_error_message(msg, sizeof msg);
    CHECK(strstr(msg, "damaged") != NULL);
    CHECK(op == NULL);
    CHECK_RC(ASYNCOP_ERR_CORRUPT, asyncop_queue_check_integrity(q));
    asyncop_last_error_message(msg, sizeof msg);
    CHECK(strstr(msg, "integrity check failed") != NULL);
    CHECK_OK(asyncop_queue_close(q));
}

int main(void) {
    char path[600];
    test_begin("limits", 120);
    header_constants();
    poll_max(test_path(path, sizeof path, "poll.db"));
    payload_limit(test_path(path, sizeof path, "payload.db"));
    file_mode();
    integrity(test_path(path, sizeof path, "damaged.db"));
    return test_end();
}
