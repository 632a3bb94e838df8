/*
 * cleanup: retention and held types through the C ABI.
 *   asyncop_options_set_retention_ms: per final status, ASYNCOP_RETENTION_NONE
 *     keeps forever; other statuses OUT_OF_RANGE, ms < 0 INVALID_ARG
 *   asyncop_queue_purge: deletes what is older than its retention at `now`
 *     (ASYNCOP_TIME_NONE: the queue's now), writes the count
 *   asyncop_options_set_auto_delete_types: a success of such a type is deleted
 *   asyncop_queue_hold_type / release_type / held_types: a held type is skipped
 *     by the claims of another handle, keeps its place, is claimable again in
 *     order after the release; asyncop_counts_held flags its groups; held_types
 *     answers a size query with BUFFER_TOO_SMALL
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#define DAY_MS (24LL * 3600 * 1000)
#define HELD 500

static int64_t finished(const asyncop_queue *q, int32_t type, int fail) {
    int64_t id = test_submit(q, "done", type);
    asyncop_lease *l = test_claim(q, "host", type);
    int32_t st = 0;
    CHECK(test_lease_id(l) == id);
    if (fail) {
        CHECK_OK(asyncop_lease_fail(l, 0, "failed", &st));
    } else {
        CHECK_OK(asyncop_lease_complete(l, &st));
    }
    CHECK_OK(asyncop_lease_free(l));
    return id;
}

static int exists(const asyncop_queue *q, int64_t id) {
    asyncop_operation *op = NULL;
    asyncop_status rc = asyncop_queue_retrieve(q, id, &op);
    if (rc == ASYNCOP_OK) {
        CHECK_OK(asyncop_operation_free(op));
        return 1;
    }
    CHECK(rc == ASYNCOP_ERR_NOT_FOUND);
    return 0;
}

int main(void) {
    char path[600];
    asyncop_queue *q, *q2;
    asyncop_options *o = NULL;
    int64_t now = 0, deleted = -1, s, f, c, a, b, d, gone, kept;
    int32_t types[4] = {0, 0, 0, 0};
    int32_t auto_types[1] = {77};
    size_t n = 99;

    test_begin("cleanup", 120);
    REQUIRE_OK(asyncop_options_new(&o));
    CHECK_OK(asyncop_options_set_retention_ms(o, ASYNCOP_STATUS_SUCCEEDED, ASYNCOP_RETENTION_NONE));
    CHECK_OK(asyncop_options_set_retention_ms(o, ASYNCOP_STATUS_CANCELED, 3600 * 1000));
    CHECK_OK(asyncop_options_set_cleanup_enabled(o, 0));
    CHECK_OK(asyncop_options_set_auto_delete_types(o, auto_types, 1));
    CHECK_RC(ASYNCOP_ERR_OUT_OF_RANGE, asyncop_options_set_retention_ms(o, ASYNCOP_STATUS_WAITING, 1));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_options_set_retention_ms(o, ASYNCOP_STATUS_FAILED, -2));
    CHECK_RC(ASYNCOP_ERR_OUT_OF_RANGE, asyncop_options_set_cleanup_enabled(o, 2));
    auto_types[0] = 0;
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_options_set_auto_delete_types(o, auto_types, 1));
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_options_set_auto_delete_types(o, NULL, 1));
    q = test_open(test_queue_target(path, sizeof path, "q.db"), o);
    CHECK_OK(asyncop_options_free(o));
    CHECK_OK(asyncop_queue_now(q, &now));

    /* Retention per status. */
    s = finished(q, 100, 0);
    f = finished(q, 100, 1);
    c = test_submit(q, "canceled", 100);
    CHECK_OK(asyncop_queue_cancel(q, c));
    CHECK_OK(asyncop_queue_purge(q, ASYNCOP_TIME_NONE, &deleted));
    CHECK(deleted == 0);
    CHECK_OK(asyncop_queue_purge(q, now + 2 * 3600 * 1000, &deleted));
    CHECK(deleted == 1);
    CHECK(!exists(q, c));
    CHECK_OK(asyncop_queue_purge(q, now + 61 * DAY_MS, &deleted));
    CHECK(deleted == 1);
    CHECK(!exists(q, f) && exists(q, s));
    CHECK_OK(asyncop_queue_purge(q, now + 100000 * DAY_MS, &deleted));
    CHECK(deleted == 0);
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_queue_purge(q, now, NULL));

    /* Auto-delete on success. */
    gone = finished(q, 77, 0);
    kept = finished(q, 77, 1);
    CHECK(!exists(q, gone) && exists(q, kept));

    /* Held types, across handles. */
    q2 = test_open(path, NULL);
    a = test_submit(q, "a", HELD);
    b = test_submit(q, "b", 100);
    d = test_submit(q, "d", HELD);
    CHECK_OK(asyncop_queue_hold_type(q, HELD));
    CHECK_OK(asyncop_queue_hold_type(q, HELD));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_queue_hold_type(q, 0));
    CHECK_RC(ASYNCOP_ERR_BUFFER_TOO_SMALL, asyncop_queue_held_types(q2, NULL, 0, &n));
    CHECK(n == 1);
    CHECK_OK(asyncop_queue_held_types(q2, types, 4, &n));
    CHECK(n == 1 && types[0] == HELD);
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_queue_held_types(q2, NULL, 4, &n));
    {
        asyncop_lease *leases[1];
        size_t got = 9;
        asyncop_lease *l = test_claim(q2, "host-2", 0);
        CHECK(test_lease_id(l) == b);
        CHECK_OK(asyncop_lease_free(l));
        CHECK_OK(asyncop_queue_poll(q2, "host-2", NULL, 0, 0, leases, 1, &got));
        CHECK(got == 0);
        CHECK_STATE(q, a, ASYNCOP_STATE_READY, ASYNCOP_STATUS_WAITING_FOR_RESOURCES);
    }
    {
        asyncop_counts *counts = NULL;
        size_t rows = 0, i;
        int found = 0;
        int32_t unused = 0;
        REQUIRE_OK(asyncop_queue_counts(q2, &counts));
        CHECK_OK(asyncop_counts_count(counts, &rows));
        for (i = 0; i < rows; i++) {
            int32_t state, status, type, held = -1;
            int64_t count;
            CHECK_OK(asyncop_counts_get(counts, i, &state, &status, &type, &count));
            CHECK_OK(asyncop_counts_held(counts, i, &held));
            CHECK(held == (type == HELD));
            found += type == HELD;
        }
        CHECK(found == 1);
        CHECK_RC(ASYNCOP_ERR_OUT_OF_RANGE, asyncop_counts_held(counts, rows, &unused));
        CHECK_OK(asyncop_counts_free(counts));
    }
    CHECK_OK(asyncop_queue_release_type(q2, HELD));
    CHECK_OK(asyncop_queue_release_type(q2, HELD));
    CHECK_OK(asyncop_queue_held_types(q, NULL, 0, &n));
    CHECK(n == 0);
    {
        asyncop_lease *l = test_claim(q2, "host-2", 0);
        CHECK(test_lease_id(l) == a);
        CHECK_OK(asyncop_lease_free(l));
        l = test_claim(q2, "host-2", 0);
        CHECK(test_lease_id(l) == d);
        CHECK_OK(asyncop_lease_free(l));
    }
    CHECK_OK(asyncop_queue_close(q2));
    CHECK_OK(asyncop_queue_close(q));
    CHECK_RC(ASYNCOP_ERR_CLOSED_HANDLE, asyncop_queue_hold_type(q, HELD));
    return test_end();
}
