/*
 * double_close: closing a queue twice and freeing every kind of handle twice
 * gives ASYNCOP_ERR_CLOSED_HANDLE the second time (never a crash, never a
 * double free); NULL is a no-op returning OK. A stale handle stays stale when
 * its slot is reused by a new handle, and the new handle is not affected.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#define CLOSED ASYNCOP_ERR_CLOSED_HANDLE

int main(void) {
    char path[600];
    asyncop_queue *q, *q2;
    asyncop_options *o = NULL, *o2 = NULL;
    asyncop_spec *s = NULL, *s2 = NULL;
    asyncop_lease *l;
    asyncop_operation *op = NULL, *op2 = NULL;
    asyncop_operation_list *list = NULL;
    asyncop_counts *counts = NULL;
    int64_t id, now = 0;
    int i;

    test_begin("double_close", 120);
    test_path(path, sizeof path, "q.db");

    /* NULL handles: no-ops. */
    CHECK_OK(asyncop_queue_close(NULL));
    CHECK_OK(asyncop_options_free(NULL));
    CHECK_OK(asyncop_spec_free(NULL));
    CHECK_OK(asyncop_lease_free(NULL));
    CHECK_OK(asyncop_operation_free(NULL));
    CHECK_OK(asyncop_operation_list_free(NULL));
    CHECK_OK(asyncop_counts_free(NULL));

    /* options */
    REQUIRE_OK(asyncop_options_new(&o));
    CHECK_OK(asyncop_options_free(o));
    CHECK_RC(CLOSED, asyncop_options_free(o));
    CHECK_RC(CLOSED, asyncop_options_free(o));

    /* spec, and a freed handle stays stale after its slot is reused */
    REQUIRE_OK(asyncop_spec_new("a", 1, &s));
    CHECK_OK(asyncop_spec_free(s));
    REQUIRE_OK(asyncop_spec_new("b", 1, &s2));
    CHECK_RC(CLOSED, asyncop_spec_free(s));
    CHECK_RC(CLOSED, asyncop_spec_set_postpone_until(s, ASYNCOP_TIME_NONE));
    CHECK_OK(asyncop_spec_set_postpone_until(s2, ASYNCOP_TIME_NONE));
    CHECK_OK(asyncop_spec_free(s2));
    CHECK_RC(CLOSED, asyncop_spec_free(s2));

    /* Many create/free cycles: every old handle stays closed. */
    for (i = 0; i < 200; i++) {
        REQUIRE_OK(asyncop_options_new(&o2));
        CHECK_RC(CLOSED, asyncop_options_free(o));
        CHECK_OK(asyncop_options_set_lease_ms(o2, 1000 + i));
        CHECK_OK(asyncop_options_free(o2));
        CHECK_RC(CLOSED, asyncop_options_free(o2));
    }

    /* A slot is reused with a new generation each time: after more cycles than
     * a 16-bit generation holds, the first handle still reads as closed, and
     * no new handle is mistaken for an old one. */
    {
        asyncop_options *first = NULL, *prev = NULL;
        const int cycles = 70000;
        REQUIRE_OK(asyncop_options_new(&first));
        CHECK_OK(asyncop_options_free(first));
        for (i = 0; i < cycles; i++) {
            int32_t rc;
            REQUIRE_OK(asyncop_options_new(&o2));
            REQUIRE(o2 != first && o2 != prev);
            rc = asyncop_options_free(first);
            if (rc != ASYNCOP_ERR_CLOSED_HANDLE) {
                fprintf(stderr, "    after %d cycles:\n", i);
                CHECK_RC(CLOSED, rc);
                break;
            }
            REQUIRE_OK(asyncop_options_free(o2));
            prev = o2;
        }
        CHECK_RC(CLOSED, asyncop_options_free(first));
        CHECK_RC(CLOSED, asyncop_options_free(prev));
    }

    q = test_open(path, NULL);
    id = test_submit(q, "x", 1);
    (void)test_submit(q, "y", 1);

    /* lease */
    l = test_claim(q, "host", 0);
    CHECK_OK(asyncop_lease_free(l));
    CHECK_RC(CLOSED, asyncop_lease_free(l));
    {
        int32_t st = 0;
        CHECK_RC(CLOSED, asyncop_lease_renew(l, &st));
    }

    /* operation snapshot */
    REQUIRE_OK(asyncop_queue_retrieve(q, id, &op));
    REQUIRE_OK(asyncop_queue_retrieve(q, id, &op2));
    CHECK_OK(asyncop_operation_free(op));
    CHECK_RC(CLOSED, asyncop_operation_free(op));
    {
        int64_t got = 0;
        CHECK_OK(asyncop_operation_id(op2, &got)); /* the other snapshot lives on */
        CHECK(got == id);
    }
    CHECK_OK(asyncop_operation_free(op2));
    CHECK_RC(CLOSED, asyncop_operation_free(op2));

    /* list, and a snapshot taken from it outlives it */
    REQUIRE_OK(asyncop_queue_query(q, ASYNCOP_ANY, ASYNCOP_ANY, ASYNCOP_ANY, NULL, NULL, NULL, NULL,
                                   ASYNCOP_TIME_NONE, 0, -1, 0, &list));
    REQUIRE_OK(asyncop_operation_list_get(list, 0, &op));
    CHECK_OK(asyncop_operation_list_free(list));
    CHECK_RC(CLOSED, asyncop_operation_list_free(list));
    {
        int64_t got = 0;
        CHECK_OK(asyncop_operation_id(op, &got));
        CHECK(got == id);
    }
    CHECK_OK(asyncop_operation_free(op));
    CHECK_RC(CLOSED, asyncop_operation_free(op));

    /* counts */
    REQUIRE_OK(asyncop_queue_counts(q, &counts));
    CHECK_OK(asyncop_counts_free(counts));
    CHECK_RC(CLOSED, asyncop_counts_free(counts));

    /* queue: a second handle on the same file is unaffected by closing the first */
    q2 = test_open(path, NULL);
    CHECK_OK(asyncop_queue_close(q));
    CHECK_RC(CLOSED, asyncop_queue_close(q));
    CHECK_RC(CLOSED, asyncop_queue_close(q));
    CHECK_RC(CLOSED, asyncop_queue_now(q, &now));
    CHECK_OK(asyncop_queue_now(q2, &now));
    CHECK(test_total(q2) == 2);
    CHECK_OK(asyncop_queue_close(q2));
    CHECK_RC(CLOSED, asyncop_queue_close(q2));

    /* Reopening works after all of this. */
    q = test_open(path, NULL);
    CHECK(test_total(q) == 2);
    CHECK_OK(asyncop_queue_close(q));
    return test_end();
}
