/*
 * batch_complete: asyncop_lease_complete_many completes a batch of leases in
 * one call. N polled leases complete together (every out_results entry OK,
 * every operation Completed/Succeeded); a lease completed earlier gets
 * LEASE_LOST in its entry and as the return value, without undoing the others;
 * count 0 is a no-op; a NULL array is NULL_ARG; leases of two queue handles,
 * a freed, NULL or foreign handle in the array fail the whole call (every
 * entry set to the code, nothing completed); out_results may be NULL.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

/* A value no status has: shows which entries a call wrote. */
#define UNSET ((asyncop_status)-7)

static void fill(asyncop_status *results, size_t n, asyncop_status value) {
    size_t i;
    for (i = 0; i < n; i++) results[i] = value;
}

/* Every entry of results[0..n) is `want`. */
static int all_equal(const asyncop_status *results, size_t n, asyncop_status want) {
    size_t i;
    for (i = 0; i < n; i++) {
        if (results[i] != want) {
            fprintf(stderr, "    results[%lu] = %s (%ld), want %s\n", (unsigned long)i,
                    asyncop_status_name(results[i]), (long)results[i], asyncop_status_name(want));
            return 0;
        }
    }
    return 1;
}

/* Polls exactly n leases of `type` from q into leases[] and their const view batch[]. */
static void poll_n(const asyncop_queue *q, int32_t type, size_t n, asyncop_lease **leases,
                   const asyncop_lease **batch) {
    size_t got = 0, i;
    REQUIRE_OK(asyncop_queue_poll(q, "batch-host", &type, 1, 0, leases, n, &got));
    REQUIRE(got == n);
    for (i = 0; i < n; i++) batch[i] = leases[i];
}

static void free_all(asyncop_lease **leases, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) CHECK_OK(asyncop_lease_free(leases[i]));
}

/* The last error message contains `part`. */
static int message_has(const char *part) {
    char msg[1024];
    (void)asyncop_last_error_message(msg, sizeof msg);
    if (strstr(msg, part) != NULL) return 1;
    fprintf(stderr, "    last error \"%s\" lacks \"%s\"\n", msg, part);
    return 0;
}

int main(void) {
    char path[600];
    asyncop_queue *q, *q2;
    const size_t n = (size_t)test_scaled(100, 10);
    asyncop_lease **leases = (asyncop_lease **)calloc(n, sizeof *leases);
    const asyncop_lease **batch = (const asyncop_lease **)calloc(n, sizeof *batch);
    asyncop_status *results = (asyncop_status *)calloc(n, sizeof *results);
    int64_t *ids = (int64_t *)calloc(n, sizeof *ids);
    asyncop_lease *small[5], *mixed[2];
    const asyncop_lease *small_batch[5], *mixed_batch[2];
    asyncop_status small_results[5];
    int64_t small_ids[5], mixed_ids[2];
    int32_t st = 0;
    size_t i;

    test_begin("batch_complete", 300);
    REQUIRE(leases != NULL && batch != NULL && results != NULL && ids != NULL);
    test_queue_target(path, sizeof path, "batch.db");
    q = test_open(path, NULL);

    /* --- N leases, one call: all Completed/Succeeded ------------------------ */
    for (i = 0; i < n; i++) ids[i] = test_submit(q, "bulk", 1);
    poll_n(q, 1, n, leases, batch);
    fill(results, n, UNSET);
    CHECK_OK(asyncop_lease_complete_many(batch, n, results));
    CHECK(all_equal(results, n, ASYNCOP_OK));
    for (i = 0; i < n; i++) {
        CHECK(test_lease_id(leases[i]) == ids[i]);
        CHECK_STATE(q, ids[i], ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED);
    }
    CHECK(test_count_in(q, ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED) == (int64_t)n);
    /* The leases stay the caller's: still readable, fenced off, freed once. */
    CHECK_RC(ASYNCOP_ERR_LEASE_LOST, asyncop_lease_complete(leases[0], &st));
    free_all(leases, n);

    /* --- one lease completed before: LEASE_LOST for it, the others complete - */
    for (i = 0; i < 5; i++) small_ids[i] = test_submit(q, "small", 2);
    poll_n(q, 2, 5, small, small_batch);
    CHECK_OK(asyncop_lease_complete(small[2], &st));
    CHECK(st == ASYNCOP_STATUS_SUCCEEDED);
    fill(small_results, 5, UNSET);
    CHECK_RC(ASYNCOP_ERR_LEASE_LOST, asyncop_lease_complete_many(small_batch, 5, small_results));
    CHECK(message_has("1 of 5 leases could not complete; first (index 2): "));
    CHECK(small_results[0] == ASYNCOP_OK && small_results[1] == ASYNCOP_OK);
    CHECK(small_results[2] == ASYNCOP_ERR_LEASE_LOST);
    CHECK(small_results[3] == ASYNCOP_OK && small_results[4] == ASYNCOP_OK);
    for (i = 0; i < 5; i++) {
        CHECK_STATE(q, small_ids[i], ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED);
    }
    /* Again: every lease is lost now; still a per-lease answer. */
    fill(small_results, 5, UNSET);
    CHECK_RC(ASYNCOP_ERR_LEASE_LOST, asyncop_lease_complete_many(small_batch, 5, small_results));
    CHECK(message_has("5 of 5 leases could not complete; first (index 0): "));
    CHECK(all_equal(small_results, 5, ASYNCOP_ERR_LEASE_LOST));
    /* out_results NULL: the same answer, without the per-lease codes. */
    CHECK_RC(ASYNCOP_ERR_LEASE_LOST, asyncop_lease_complete_many(small_batch, 5, NULL));
    free_all(small, 5);

    /* --- count 0, NULL array --------------------------------------------- */
    fill(small_results, 5, UNSET);
    CHECK_OK(asyncop_lease_complete_many(NULL, 0, NULL));
    CHECK_OK(asyncop_lease_complete_many(NULL, 0, small_results));
    CHECK(all_equal(small_results, 5, UNSET));
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_lease_complete_many(NULL, 3, small_results));
    CHECK(message_has("leases"));
    CHECK(all_equal(small_results, 3, ASYNCOP_ERR_NULL_ARG));
    CHECK(small_results[3] == UNSET && small_results[4] == UNSET);
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_lease_complete_many(NULL, 1, NULL));

    /* --- leases of two queue handles (same file): INVALID_ARG, none done ---- */
    q2 = test_open(path, NULL);
    mixed_ids[0] = test_submit(q, "mixed a", 3);
    mixed_ids[1] = test_submit(q, "mixed b", 3);
    poll_n(q, 3, 1, &mixed[0], &mixed_batch[0]);
    poll_n(q2, 3, 1, &mixed[1], &mixed_batch[1]);
    fill(small_results, 2, UNSET);
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_lease_complete_many(mixed_batch, 2, small_results));
    CHECK(message_has("leases[1] belongs to another queue handle"));
    CHECK(all_equal(small_results, 2, ASYNCOP_ERR_INVALID_ARG));
    for (i = 0; i < 2; i++) {
        CHECK_STATE(q, mixed_ids[i], ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_IN_PROGRESS);
    }

    /* --- a freed handle, a NULL entry, a foreign handle: the whole call fails
     *     with that entry's code, naming it; nothing is completed ------------ */
    {
        asyncop_lease *gone;
        const asyncop_lease *with_freed[2], *with_null[2], *with_foreign[2];
        int64_t gone_id = test_submit(q, "freed", 4);
        gone = test_claim(q, "batch-host", 4);
        CHECK_OK(asyncop_lease_free(gone));
        with_freed[0] = mixed[0];
        with_freed[1] = gone;
        fill(small_results, 2, UNSET);
        CHECK_RC(ASYNCOP_ERR_CLOSED_HANDLE, asyncop_lease_complete_many(with_freed, 2, small_results));
        CHECK(message_has("leases[1]: ") && message_has("no lease was completed"));
        CHECK(all_equal(small_results, 2, ASYNCOP_ERR_CLOSED_HANDLE));
        CHECK_STATE(q, mixed_ids[0], ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_IN_PROGRESS);
        CHECK_STATE(q, gone_id, ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_IN_PROGRESS);

        with_null[0] = mixed[0];
        with_null[1] = NULL;
        CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_lease_complete_many(with_null, 2, small_results));
        CHECK(all_equal(small_results, 2, ASYNCOP_ERR_NULL_ARG));

        with_foreign[0] = (const asyncop_lease *)(const void *)q; /* a queue, not a lease */
        with_foreign[1] = mixed[0];
        CHECK_RC(ASYNCOP_ERR_INVALID_HANDLE,
                 asyncop_lease_complete_many(with_foreign, 2, small_results));
        CHECK(message_has("leases[0]: "));
        CHECK(all_equal(small_results, 2, ASYNCOP_ERR_INVALID_HANDLE));
        CHECK_STATE(q, mixed_ids[0], ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_IN_PROGRESS);
    }

    /* Each queue's lease alone is fine. */
    CHECK_OK(asyncop_lease_complete_many(&mixed_batch[0], 1, NULL));
    CHECK_OK(asyncop_lease_complete_many(&mixed_batch[1], 1, small_results));
    CHECK(small_results[0] == ASYNCOP_OK);
    for (i = 0; i < 2; i++) {
        CHECK_STATE(q, mixed_ids[i], ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED);
    }

    /* --- a closed queue: CLOSED_HANDLE, nothing completed -------------------- */
    {
        int64_t late_id = test_submit(q, "late", 5);
        asyncop_lease *late = test_claim(q2, "batch-host", 5);
        const asyncop_lease *late_batch[1];
        late_batch[0] = late;
        CHECK_OK(asyncop_queue_close(q2));
        small_results[0] = UNSET;
        CHECK_RC(ASYNCOP_ERR_CLOSED_HANDLE, asyncop_lease_complete_many(late_batch, 1, small_results));
        CHECK(small_results[0] == ASYNCOP_ERR_CLOSED_HANDLE);
        CHECK_STATE(q, late_id, ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_IN_PROGRESS);
        CHECK_OK(asyncop_lease_free(late));
    }

    free_all(mixed, 2);
    CHECK_OK(asyncop_queue_close(q));
    free(leases);
    free(batch);
    free(results);
    free(ids);
    return test_end();
}
