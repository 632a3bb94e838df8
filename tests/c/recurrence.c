/*
 * recurrence: a recurring series and the small things of issue 13 through the
 * C API.
 *   a spec with asyncop_spec_set_recurrence submitted by submit_many; its
 *   pattern and start read back; a run cycles it back to Suspended/Waiting
 *   with postpone_until at the next occurrence (a whole number of minutes
 *   after its start, within a minute of now); asyncop_queue_set_recurrence
 *   and its refusals in order (CANNOT_UPDATE_NONRECURRING,
 *   CANNOT_UPDATE_RECURRING, INVALID_STATE_CHANGE, INVALID_ARG) with
 *   asyncop_options_set_recurrence_updatable_types; a bad pattern refused at
 *   submit; set_state with status -1 refused (OUT_OF_RANGE), with
 *   ASYNCOP_STATUS_NONE accepted; a refusal's message names the states;
 *   query by correlation_id and by name prefix.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#define MINUTE_MS 60000
#define UPDATABLE 77

static int64_t submit_series(const asyncop_queue *q, const char *name, int32_t type,
                             const char *pattern, int64_t start) {
    asyncop_spec *spec = NULL;
    int64_t id = -1;
    REQUIRE_OK(asyncop_spec_new(name, type, &spec));
    CHECK_OK(asyncop_spec_set_recurrence(spec, pattern, start));
    REQUIRE_OK(asyncop_queue_submit_many(q, (const asyncop_spec *const *)&spec, 1, &id));
    CHECK_OK(asyncop_spec_free(spec));
    return id;
}

static size_t query_count(const asyncop_queue *q, const char *correlation_id, const char *prefix,
                          int64_t *first_id) {
    asyncop_operation_list *list = NULL;
    size_t n = 0;
    REQUIRE_OK(asyncop_queue_query(q, ASYNCOP_ANY, ASYNCOP_ANY, ASYNCOP_ANY, NULL, NULL,
                                   correlation_id, prefix, ASYNCOP_TIME_NONE, 0, -1, 0, &list));
    CHECK_OK(asyncop_operation_list_count(list, &n));
    if (n > 0 && first_id) {
        asyncop_operation *op = NULL;
        CHECK_OK(asyncop_operation_list_get(list, 0, &op));
        CHECK_OK(asyncop_operation_id(op, first_id));
        CHECK_OK(asyncop_operation_free(op));
    }
    CHECK_OK(asyncop_operation_list_free(list));
    return n;
}

int main(void) {
    char path[600], buf[256], msg[1024];
    const int32_t updatable[1] = {UPDATABLE};
    asyncop_options *options = NULL;
    asyncop_queue *q;
    asyncop_operation *op = NULL;
    asyncop_lease *l;
    asyncop_spec *bad = NULL;
    int64_t start = 0, now = 0, series, other, one_shot, ended, pu = 0, v = 0, id = 0, first = 0;
    int32_t st = 0, present = 0;
    size_t len = 0;

    test_begin("recurrence", 120);
    REQUIRE_OK(asyncop_options_new(&options));
    CHECK_OK(asyncop_options_set_recurrence_updatable_types(options, updatable, 1));
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_options_set_recurrence_updatable_types(options, NULL, 1));
    q = test_open(test_queue_target(path, sizeof path, "q.db"), options);
    CHECK_OK(asyncop_options_free(options));

    /* A series every minute from now: Ready at once, pattern and start stored. */
    CHECK_OK(asyncop_queue_now(q, &start));
    series = submit_series(q, "series", UPDATABLE, "FREQ=MINUTELY;", start);
    CHECK_STATE(q, series, ASYNCOP_STATE_READY, ASYNCOP_STATUS_WAITING_FOR_RESOURCES);
    REQUIRE_OK(asyncop_queue_retrieve(q, series, &op));
    CHECK_OK(asyncop_operation_recurrence_pattern(op, buf, sizeof buf, &len, &present));
    CHECK(present == 1 && strcmp(buf, "FREQ=MINUTELY;") == 0 && len == strlen(buf));
    CHECK_OK(asyncop_operation_recurrence_start(op, &v, &present));
    CHECK(present == 1 && v == start);
    CHECK_OK(asyncop_operation_free(op));

    /* One run: back to 1/10 until the next occurrence. */
    l = test_claim(q, "host", UPDATABLE);
    CHECK(test_lease_id(l) == series);
    CHECK_OK(asyncop_lease_complete(l, &st));
    CHECK(st == ASYNCOP_STATUS_WAITING);
    CHECK_OK(asyncop_lease_free(l));
    CHECK_OK(asyncop_queue_now(q, &now));
    CHECK_STATE(q, series, ASYNCOP_STATE_SUSPENDED, ASYNCOP_STATUS_WAITING);
    REQUIRE_OK(asyncop_queue_retrieve(q, series, &op));
    CHECK_OK(asyncop_operation_postpone_until(op, &pu, &present));
    CHECK(present == 1 && pu > start && (pu - start) % MINUTE_MS == 0);
    CHECK(pu <= now + MINUTE_MS);
    CHECK_OK(asyncop_operation_completed_on(op, &v, &present));
    CHECK(present == 0);
    CHECK_OK(asyncop_operation_free(op));

    /* set_recurrence: the new pattern is stored, the pending run keeps its time. */
    CHECK_OK(asyncop_queue_set_recurrence(q, series, "FREQ=HOURLY;INTERVAL=2"));
    REQUIRE_OK(asyncop_queue_retrieve(q, series, &op));
    CHECK_OK(asyncop_operation_recurrence_pattern(op, buf, sizeof buf, &len, &present));
    CHECK(strcmp(buf, "FREQ=HOURLY;INTERVAL=2") == 0);
    CHECK_OK(asyncop_operation_postpone_until(op, &v, &present));
    CHECK(present == 1 && v == pu);
    CHECK_OK(asyncop_operation_free(op));

    /* Its refusals, in the model's order. */
    one_shot = test_submit(q, "one-shot", UPDATABLE);
    other = submit_series(q, "other type", 100, "FREQ=DAILY;", ASYNCOP_TIME_NONE);
    ended = submit_series(q, "ended", UPDATABLE, "FREQ=DAILY;", ASYNCOP_TIME_NONE);
    CHECK_OK(asyncop_queue_cancel(q, ended));
    CHECK_RC(ASYNCOP_ERR_CANNOT_UPDATE_NONRECURRING, asyncop_queue_set_recurrence(q, one_shot, "x"));
    CHECK(asyncop_status_hresult(ASYNCOP_ERR_CANNOT_UPDATE_NONRECURRING) == (int32_t)0x80044168u);
    CHECK_RC(ASYNCOP_ERR_CANNOT_UPDATE_RECURRING, asyncop_queue_set_recurrence(q, other, "x"));
    CHECK(asyncop_status_hresult(ASYNCOP_ERR_CANNOT_UPDATE_RECURRING) == (int32_t)0x80044169u);
    CHECK_RC(ASYNCOP_ERR_INVALID_STATE_CHANGE, asyncop_queue_set_recurrence(q, ended, "x"));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_queue_set_recurrence(q, series, "FREQ=YEARLY"));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_queue_set_recurrence(q, series, ""));
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_queue_set_recurrence(q, series, NULL));
    CHECK_RC(ASYNCOP_ERR_NOT_FOUND, asyncop_queue_set_recurrence(q, 999999, "FREQ=DAILY;"));

    /* A bad pattern is refused at submit; nothing is written. */
    REQUIRE_OK(asyncop_spec_new("bad", 100, &bad));
    CHECK_OK(asyncop_spec_set_recurrence(bad, "FREQ=DAILY;COUNT=3", ASYNCOP_TIME_NONE));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG,
             asyncop_queue_submit_many(q, (const asyncop_spec *const *)&bad, 1, &id));
    CHECK_OK(asyncop_spec_free(bad));

    /* set_state: -1 is not a status; ASYNCOP_STATUS_NONE is the state's default. */
    CHECK(ASYNCOP_STATUS_NONE != -1);
    CHECK_RC(ASYNCOP_ERR_OUT_OF_RANGE, asyncop_queue_set_state(q, one_shot, 0, -1));
    CHECK_RC(ASYNCOP_ERR_OUT_OF_RANGE, asyncop_queue_set_state(q, one_shot, 3, -1));
    CHECK_STATE(q, one_shot, ASYNCOP_STATE_READY, ASYNCOP_STATUS_WAITING_FOR_RESOURCES);
    CHECK_OK(asyncop_queue_set_state(q, series, 0, ASYNCOP_STATUS_NONE));
    CHECK_STATE(q, series, ASYNCOP_STATE_READY, ASYNCOP_STATUS_WAITING_FOR_RESOURCES);

    /* A refusal names the states. */
    CHECK_RC(ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED, asyncop_queue_pause(q, one_shot));
    (void)asyncop_last_error_message(msg, sizeof msg);
    CHECK(strstr(msg, "Ready/WaitingForResources cannot be paused; Postpone holds queued work") != NULL);

    /* Query by correlation id and by name prefix. */
    REQUIRE_OK(asyncop_queue_submit(q, "report-daily", 100, NULL, 0, NULL, ASYNCOP_TIME_NONE,
                                    "batch-7", &id));
    CHECK(query_count(q, "batch-7", NULL, &first) == 1 && first == id);
    CHECK(query_count(q, "batch-", NULL, NULL) == 0);
    CHECK(query_count(q, NULL, "report-", &first) == 1 && first == id);
    CHECK(query_count(q, NULL, "Report", NULL) == 0);
    CHECK(query_count(q, NULL, "o", NULL) == 2); /* "one-shot", "other type" */
    CHECK(query_count(q, "batch-7", "one", NULL) == 0);
    CHECK(query_count(q, NULL, "", NULL) == query_count(q, NULL, NULL, NULL));

    CHECK_OK(asyncop_queue_close(q));
    return test_end();
}
