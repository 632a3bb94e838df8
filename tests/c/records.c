/*
 * records: a running attempt's records through the C API (issue 13, items 4
 * and 5), asserting exact codes and values.
 *   asyncop_lease_progress (stored, read back with asyncop_operation_progress
 *   and _progress_text; out of range, too long a text and a bad durable flag
 *   refused; PAUSING reported; reset by the next claim; LEASE_LOST for a stale
 *   lease); asyncop_lease_complete_output (binary-safe, NULL with length 0,
 *   one byte over ASYNCOP_OUTPUT_MAX_BYTES refused with the lease still held;
 *   asyncop_operation_output with its size query); asyncop_lease_report_detail
 *   and the attempt history (asyncop_queue_attempts and every
 *   asyncop_attempt_list_* getter: retry, expiry, failure, in order; the
 *   detail; OUT_OF_RANGE past the end; NOT_FOUND after a delete).
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"
#include "store.h"

static asyncop_lease *claim(const asyncop_queue *q, const char *host) {
    asyncop_lease *lease = NULL;
    size_t got = 0;
    REQUIRE_OK(asyncop_queue_poll(q, host, NULL, 0, 0, &lease, 1, &got));
    REQUIRE(got == 1);
    return lease;
}

static asyncop_operation *get(const asyncop_queue *q, int64_t id) {
    asyncop_operation *op = NULL;
    REQUIRE_OK(asyncop_queue_retrieve(q, id, &op));
    return op;
}

/* The progress of operation id: *percent (-1 if absent) and its text ("" if absent). */
static void progress_of(const asyncop_queue *q, int64_t id, int32_t *percent, char *text, size_t cap,
                        int32_t *text_present) {
    asyncop_operation *op = get(q, id);
    int32_t present = -1;
    size_t len = 0;
    CHECK_OK(asyncop_operation_progress(op, percent, &present));
    if (!present) *percent = -1;
    CHECK_OK(asyncop_operation_progress_text(op, text, cap, &len, text_present));
    CHECK_OK(asyncop_operation_free(op));
}

static void test_progress(const asyncop_queue *q) {
    int64_t id = test_submit(q, "progress", 1);
    asyncop_lease *first = claim(q, "h1"), *second;
    int32_t st = 0, pct = 0, present = 0;
    char text[300], long_text[ASYNCOP_PROGRESS_TEXT_MAX_CHARS + 2];

    CHECK_OK(asyncop_lease_progress(first, 40, "copying", 0, &st));
    CHECK(st == ASYNCOP_STATUS_IN_PROGRESS);
    progress_of(q, id, &pct, text, sizeof text, &present);
    CHECK(pct == 40 && present == 1 && strcmp(text, "copying") == 0);
    CHECK_OK(asyncop_lease_progress(first, 100, NULL, 1, &st));
    progress_of(q, id, &pct, text, sizeof text, &present);
    CHECK(pct == 100 && present == 0 && strcmp(text, "") == 0);

    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_lease_progress(first, 101, NULL, 0, &st));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_lease_progress(first, -1, NULL, 0, &st));
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_lease_progress(first, 5, long_text, 0, &st));
    CHECK_RC(ASYNCOP_ERR_OUT_OF_RANGE, asyncop_lease_progress(first, 5, NULL, 2, &st));
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_lease_progress(first, 5, NULL, 0, NULL));
    CHECK_RC(ASYNCOP_ERR_UTF8, asyncop_lease_progress(first, 5, "\xff", 0, &st));
    progress_of(q, id, &pct, text, sizeof text, &present);
    CHECK(pct == 100);

    CHECK_OK(asyncop_queue_pause(q, id));
    CHECK_OK(asyncop_lease_progress(first, 50, "pausing?", 0, &st));
    CHECK(st == ASYNCOP_STATUS_PAUSING);
    CHECK_OK(asyncop_lease_acknowledge_pause(first, &st));
    CHECK_OK(asyncop_queue_resume(q, id));
    second = claim(q, "h2");
    progress_of(q, id, &pct, text, sizeof text, &present);
    CHECK(pct == -1 && present == 0);
    CHECK_RC(ASYNCOP_ERR_LEASE_LOST, asyncop_lease_progress(first, 1, NULL, 0, &st));
    CHECK_OK(asyncop_lease_complete(second, &st));
    CHECK_OK(asyncop_lease_free(first));
    CHECK_OK(asyncop_lease_free(second));
}

static void test_output(const asyncop_queue *q) {
    int64_t id = test_submit(q, "output", 1), empty_id;
    asyncop_lease *lease = claim(q, "h");
    const uint8_t out[4] = {0, 1, 0, 255};
    uint8_t *big = (uint8_t *)calloc(ASYNCOP_OUTPUT_MAX_BYTES + 1, 1);
    uint8_t buf[8];
    size_t len = 0;
    int32_t st = 0, present = -1;
    asyncop_operation *op;

    REQUIRE(big != NULL);
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG,
             asyncop_lease_complete_output(lease, big, ASYNCOP_OUTPUT_MAX_BYTES + 1, &st));
    CHECK_STATE(q, id, ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_IN_PROGRESS);
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_lease_complete_output(lease, NULL, 3, &st));
    CHECK_OK(asyncop_lease_complete_output(lease, out, sizeof out, &st));
    CHECK(st == ASYNCOP_STATUS_SUCCEEDED);
    op = get(q, id);
    CHECK_RC(ASYNCOP_ERR_BUFFER_TOO_SMALL, asyncop_operation_output(op, NULL, 0, &len, &present));
    CHECK(len == 4 && present == 1);
    CHECK_OK(asyncop_operation_output(op, buf, sizeof buf, &len, &present));
    CHECK(len == 4 && memcmp(buf, out, 4) == 0);
    CHECK_OK(asyncop_operation_free(op));
    CHECK_OK(asyncop_lease_free(lease));

    empty_id = test_submit(q, "empty output", 1);
    lease = claim(q, "h");
    CHECK_OK(asyncop_lease_complete_output(lease, NULL, 0, &st));
    op = get(q, empty_id);
    CHECK_OK(asyncop_operation_output(op, NULL, 0, &len, &present));
    CHECK(len == 0 && present == 1);
    CHECK_OK(asyncop_operation_free(op));
    CHECK_OK(asyncop_lease_free(lease));
    free(big);
}

/* Attempt i of list: checks its scalars and returns its ending. */
static int32_t attempt_at(const asyncop_attempt_list *list, size_t i, int64_t token, const char *host,
                          int32_t code, const char *detail) {
    int64_t lock_token = 0, started = 0, ended = 0;
    int32_t ending = -1, started_present = 0, error_code = 0, present = -1;
    char text[256];
    size_t len = 0;
    CHECK_OK(asyncop_attempt_list_get(list, i, &lock_token, &ending, &started, &started_present, &ended));
    CHECK(lock_token == token && started_present == 1 && ended >= started);
    CHECK_OK(asyncop_attempt_list_error_code(list, i, &error_code, &present));
    CHECK(present == 1 && error_code == code);
    CHECK_OK(asyncop_attempt_list_host_id(list, i, text, sizeof text, &len, &present));
    CHECK(present == 1 && strcmp(text, host) == 0);
    CHECK_OK(asyncop_attempt_list_detail(list, i, text, sizeof text, &len, &present));
    CHECK(detail == NULL ? present == 0 : (present == 1 && strcmp(text, detail) == 0));
    CHECK_OK(asyncop_attempt_list_message(list, i, text, sizeof text, &len, &present));
    CHECK(present == 1 && len > 0);
    return ending;
}

static void test_attempts(const char *path) {
    asyncop_options *o = NULL;
    asyncop_queue *q;
    asyncop_lease *lease, *abandoned;
    asyncop_attempt_list *list = NULL;
    int64_t id, recovered = 0, poisoned = 0, promoted = 0, token = 0, t = 0;
    int32_t st = 0, ending = 0;
    size_t n = 0;

    REQUIRE_OK(asyncop_options_new(&o));
    CHECK_OK(asyncop_options_set_durability(o, ASYNCOP_DURABILITY_NORMAL));
    CHECK_OK(asyncop_options_set_lease_ms(o, 200));
    CHECK_OK(asyncop_options_set_backoff_ms(o, 1, 1));
    q = test_open(path, o);
    CHECK_OK(asyncop_options_free(o));
    id = test_submit(q, "attempts", 1);
    REQUIRE_OK(asyncop_queue_attempts(q, id, &list));
    CHECK_OK(asyncop_attempt_list_count(list, &n));
    CHECK(n == 0);
    CHECK_RC(ASYNCOP_ERR_OUT_OF_RANGE, asyncop_attempt_list_get(list, 0, &token, &ending, &t, &st, &t));
    CHECK_OK(asyncop_attempt_list_free(list));

    lease = claim(q, "h1");
    CHECK_RC(ASYNCOP_ERR_OUT_OF_RANGE, asyncop_lease_report_detail(lease, 9, 0, NULL, NULL,
                                                                   ASYNCOP_TIME_NONE, "d", &st));
    CHECK_OK(asyncop_lease_report_detail(lease, ASYNCOP_OUTCOME_RETRY, -5, "first", NULL,
                                         ASYNCOP_TIME_NONE, "trace 1", &st));
    CHECK(st == ASYNCOP_STATUS_WAITING);
    CHECK_OK(asyncop_lease_free(lease));
    test_sleep_ms(20);
    abandoned = claim(q, "h2");
    test_sleep_ms(300);
    CHECK_OK(asyncop_queue_run_maintenance(q, &recovered, &poisoned, &promoted));
    CHECK(recovered == 1);
    lease = claim(q, "h3");
    CHECK_OK(asyncop_lease_report_detail(lease, ASYNCOP_OUTCOME_FAILED, -7, "fatal", NULL,
                                         ASYNCOP_TIME_NONE, "trace 3", &st));
    CHECK(st == ASYNCOP_STATUS_FAILED);

    REQUIRE_OK(asyncop_queue_attempts(q, id, &list));
    CHECK_OK(asyncop_attempt_list_count(list, &n));
    CHECK(n == 3);
    if (n == 3) {
        CHECK(attempt_at(list, 0, 1, "h1", -5, "trace 1") == ASYNCOP_ENDING_RETRY);
        CHECK(attempt_at(list, 1, 2, "h2", ASYNCOP_ERR_LEASE_LOST, NULL) == ASYNCOP_ENDING_EXPIRED);
        CHECK(attempt_at(list, 2, 3, "h3", -7, "trace 3") == ASYNCOP_ENDING_FAILED);
    }
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_attempt_list_get(list, 0, &token, &ending, NULL, &st, &t));
    CHECK_OK(asyncop_attempt_list_free(list));
    CHECK_RC(ASYNCOP_ERR_CLOSED_HANDLE, asyncop_attempt_list_free(list));

    CHECK_OK(asyncop_queue_delete(q, id));
    list = NULL;
    CHECK_RC(ASYNCOP_ERR_NOT_FOUND, asyncop_queue_attempts(q, id, &list));
    CHECK(list == NULL);
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_queue_attempts(q, 0, &list));
    CHECK_OK(asyncop_lease_free(lease));
    CHECK_OK(asyncop_lease_free(abandoned));
    CHECK_OK(asyncop_queue_close(q));
}

int main(void) {
    char path[600], path2[600];
    asyncop_queue *q;

    test_begin("records", 120);
    test_queue_target(path, sizeof path, "records.db");
    q = test_open(path, NULL);
    test_progress(q);
    test_output(q);
    CHECK_OK(asyncop_queue_close(q));
    test_attempts(test_queue_target(path2, sizeof path2, "attempts.db"));
    return test_end();
}
