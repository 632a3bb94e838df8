/*
 * complete_and_poll: asyncop_queue_complete_and_poll completes leases and
 * claims the next ones in one transaction. A batch completes (every entry OK)
 * and the next leases arrive; a lease completed earlier gets LEASE_LOST in
 * its entry while the call returns OK with its claim; a refused claim (max 0),
 * a lease of another queue handle or a NULL out_leases fail the whole call
 * (every entry the code, nothing completed, nothing claimed); count 0 is a
 * plain poll; with wait_ms and nothing to claim, the completions commit and
 * the call returns no lease.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#define UNSET ((asyncop_status)-7)

static void free_all(asyncop_lease **leases, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) CHECK_OK(asyncop_lease_free(leases[i]));
}

int main(void) {
    char path[600];
    asyncop_queue *q, *q2;
    asyncop_lease *first[2], *next[4], *other;
    const asyncop_lease *batch[2];
    asyncop_status results[2];
    int64_t ids[6];
    int32_t type = 1, st = 0;
    size_t got = 0, i;

    test_begin("complete_and_poll", 120);
    test_queue_target(path, sizeof path, "cap.db");
    q = test_open(path, NULL);
    for (i = 0; i < 6; i++) ids[i] = test_submit(q, "cap", type);

    /* --- complete two, claim the next two, one call ------------------------ */
    REQUIRE_OK(asyncop_queue_poll(q, "cap-host", &type, 1, 0, first, 2, &got));
    REQUIRE(got == 2);
    batch[0] = first[0];
    batch[1] = first[1];
    results[0] = results[1] = UNSET;
    got = 99;
    CHECK_OK(asyncop_queue_complete_and_poll(q, batch, 2, results, "cap-host", &type, 1, 0, next, 2,
                                             &got));
    CHECK(results[0] == ASYNCOP_OK && results[1] == ASYNCOP_OK);
    REQUIRE(got == 2);
    CHECK(test_lease_id(next[0]) == ids[2] && test_lease_id(next[1]) == ids[3]);
    CHECK_STATE(q, ids[0], ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED);
    CHECK_STATE(q, ids[1], ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED);
    CHECK_STATE(q, ids[2], ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_IN_PROGRESS);
    /* The old leases stay the caller's and are fenced off. */
    CHECK_RC(ASYNCOP_ERR_LEASE_LOST, asyncop_lease_complete(first[0], &st));
    free_all(first, 2);

    /* --- one lease lost: its entry says so, the call returns OK with the claim */
    CHECK_OK(asyncop_lease_complete(next[0], &st));
    batch[0] = next[0];
    batch[1] = next[1];
    results[0] = results[1] = UNSET;
    CHECK_OK(asyncop_queue_complete_and_poll(q, batch, 2, results, "cap-host", NULL, 0, 0, first, 2,
                                             &got));
    CHECK(results[0] == ASYNCOP_ERR_LEASE_LOST && results[1] == ASYNCOP_OK);
    REQUIRE(got == 2);
    CHECK(test_lease_id(first[0]) == ids[4] && test_lease_id(first[1]) == ids[5]);
    CHECK_STATE(q, ids[3], ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED);
    free_all(next, 2);

    /* --- refusals: nothing completed, nothing claimed, every entry the code -- */
    (void)test_submit(q, "cap-late", type);
    batch[0] = first[0];
    batch[1] = first[1];
    results[0] = results[1] = UNSET;
    got = 99;
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG,
             asyncop_queue_complete_and_poll(q, batch, 2, results, "cap-host", NULL, 0, 0, next, 0, &got));
    CHECK(results[0] == ASYNCOP_ERR_INVALID_ARG && results[1] == ASYNCOP_ERR_INVALID_ARG);
    CHECK(got == 99);
    CHECK_RC(ASYNCOP_ERR_NULL_ARG,
             asyncop_queue_complete_and_poll(q, batch, 2, results, "cap-host", NULL, 0, 0, NULL, 2, &got));
    CHECK(results[0] == ASYNCOP_ERR_NULL_ARG);
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG,
             asyncop_queue_complete_and_poll(q, batch, 2, results, "", NULL, 0, 0, next, 2, &got));
    q2 = test_open(path, NULL);
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG,
             asyncop_queue_complete_and_poll(q2, batch, 2, NULL, "cap-host", NULL, 0, 0, next, 2, &got));
    CHECK(got == 99);
    CHECK_STATE(q, ids[4], ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_IN_PROGRESS);
    CHECK_STATE(q, ids[5], ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_IN_PROGRESS);
    CHECK(test_count_in(q, ASYNCOP_STATE_READY, ASYNCOP_STATUS_WAITING_FOR_RESOURCES) == 1);

    /* --- count 0 (leases NULL): a plain poll -------------------------------- */
    CHECK_OK(asyncop_queue_complete_and_poll(q, NULL, 0, NULL, "cap-host", NULL, 0, 0, &other, 1, &got));
    REQUIRE(got == 1);

    /* --- a wait with nothing to claim: the completions commit, no lease ------- */
    CHECK_OK(asyncop_queue_complete_and_poll(q, batch, 2, results, "cap-host", NULL, 0, 20, next, 4,
                                             &got));
    CHECK(got == 0);
    CHECK(results[0] == ASYNCOP_OK && results[1] == ASYNCOP_OK);
    CHECK_STATE(q, ids[4], ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED);
    CHECK_STATE(q, ids[5], ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED);
    free_all(first, 2);
    CHECK_OK(asyncop_lease_free(other));

    CHECK_OK(asyncop_queue_close(q2));
    CHECK_OK(asyncop_queue_close(q));
    return test_end();
}
