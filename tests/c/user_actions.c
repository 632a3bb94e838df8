/*
 * user_actions: refusals of user actions carry their Dynamics HRESULT as the
 * status (asyncop_status_hresult gives the same number) and change nothing,
 * not even modified_on:
 *   Cancel of a Completed or Canceling operation -> INVALID_STATE_CHANGE
 *   Cancel of a restricted type (9)               -> CANNOT_CANCEL 0x80044F00
 *   Pause of a restricted type                    -> CANNOT_PAUSE 0x80044F01
 *   Resume of a restricted type / not Suspended   -> TO_READY 0x80044166
 *   Pause of Ready/Suspended, Postpone of 3/x     -> TO_SUSPENDED 0x80044167
 *   Delete of anything not Completed              -> CANNOT_DELETE_UNLESS_COMPLETED
 *   set_state(3, 30) / (3, 31)                    -> TO_COMPLETE 0x80044165
 *   set_state(2, ...)                             -> INVALID_STATE_CHANGE
 * plus the argument and lookup errors (id <= 0, unknown id, a time not in the
 * future) and the allowed actions of the matrix (cancel, postpone, resume,
 * set_state(0/1/3), delete; ids never reused); with allow_delete_any, Delete
 * works in any state and the host of a deleted operation gets LEASE_LOST.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

/* CHECK_REFUSED(q, id, want, call): the call returns `want`, whose HRESULT is
 * `hr`, and the operation is exactly as before. */
#define CHECK_REFUSED(q, id, want, hr, call)                                                 \
    do {                                                                                     \
        test_snap refused_before_ = test_snapshot((q), (id));                                \
        CHECK_RC(want, call);                                                                \
        CHECK(asyncop_status_hresult(want) == (int32_t)(hr));                                \
        CHECK(test_snap_equal(refused_before_, test_snapshot((q), (id))));                   \
    } while (0)

#define HR_INVALID_STATE_CHANGE 0x80044162u
#define HR_TO_COMPLETE 0x80044165u
#define HR_TO_READY 0x80044166u
#define HR_TO_SUSPENDED 0x80044167u
#define HR_DELETE 0x8004416au
#define HR_CANNOT_CANCEL 0x80044F00u
#define HR_CANNOT_PAUSE 0x80044F01u

static int64_t completed_op(const asyncop_queue *q, int32_t type) {
    int64_t id = test_submit(q, "done", type);
    asyncop_lease *l = test_claim(q, "host", type);
    int32_t st = 0;
    CHECK(test_lease_id(l) == id);
    CHECK_OK(asyncop_lease_complete(l, &st));
    CHECK(st == ASYNCOP_STATUS_SUCCEEDED);
    CHECK_OK(asyncop_lease_free(l));
    return id;
}

int main(void) {
    char path[600];
    asyncop_queue *q;
    int64_t done, ready, restricted, running, canceling, suspended, later, id, next;
    asyncop_lease *l_running, *l_canceling, *l_restricted;
    int32_t st = 0;
    int64_t now = 0;

    test_begin("user_actions", 120);
    /* Default options: restricted types 9,16,18,19,20,22,24,25,27,31. */
    q = test_open(test_queue_target(path, sizeof path, "q.db"), NULL);
    CHECK_OK(asyncop_queue_now(q, &now));
    later = now + 3600 * 1000;

    done = completed_op(q, 100);
    ready = test_submit(q, "ready", 101);
    restricted = test_submit(q, "restricted", 9);
    running = test_submit(q, "running", 102);
    canceling = test_submit(q, "canceling", 103);
    REQUIRE_OK(asyncop_queue_submit(q, "suspended", 104, NULL, 0, NULL, later, NULL, &suspended));
    l_running = test_claim(q, "host", 102);
    l_canceling = test_claim(q, "host", 103);
    CHECK_OK(asyncop_queue_cancel(q, canceling));
    CHECK_STATE(q, canceling, ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_CANCELING);
    CHECK_STATE(q, suspended, ASYNCOP_STATE_SUSPENDED, ASYNCOP_STATUS_WAITING);

    /* Completed: cancel, pause, resume, postpone refused; set_state too. */
    CHECK_REFUSED(q, done, ASYNCOP_ERR_INVALID_STATE_CHANGE, HR_INVALID_STATE_CHANGE,
                  asyncop_queue_cancel(q, done));
    CHECK_REFUSED(q, done, ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED, HR_TO_SUSPENDED,
                  asyncop_queue_pause(q, done));
    CHECK_REFUSED(q, done, ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_READY, HR_TO_READY,
                  asyncop_queue_resume(q, done));
    CHECK_REFUSED(q, done, ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED, HR_TO_SUSPENDED,
                  asyncop_queue_postpone(q, done, later));
    CHECK_REFUSED(q, done, ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED, HR_TO_SUSPENDED,
                  asyncop_queue_set_postpone_until(q, done, later));
    CHECK_REFUSED(q, done, ASYNCOP_ERR_INVALID_STATE_CHANGE, HR_INVALID_STATE_CHANGE,
                  asyncop_queue_set_state(q, done, 3, ASYNCOP_STATUS_NONE));
    CHECK_STATE(q, done, ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED);

    /* Restricted type 9 (Ready). */
    CHECK_REFUSED(q, restricted, ASYNCOP_ERR_CANNOT_CANCEL, HR_CANNOT_CANCEL,
                  asyncop_queue_cancel(q, restricted));
    CHECK(asyncop_status_hresult(ASYNCOP_ERR_CANNOT_CANCEL) == (int32_t)0x80044F00u);
    CHECK_REFUSED(q, restricted, ASYNCOP_ERR_CANNOT_CANCEL, HR_CANNOT_CANCEL,
                  asyncop_queue_set_state(q, restricted, 3, ASYNCOP_STATUS_CANCELED));
    CHECK_REFUSED(q, restricted, ASYNCOP_ERR_CANNOT_PAUSE, HR_CANNOT_PAUSE,
                  asyncop_queue_pause(q, restricted));
    CHECK_REFUSED(q, restricted, ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_READY, HR_TO_READY,
                  asyncop_queue_resume(q, restricted));
    CHECK_REFUSED(q, restricted, ASYNCOP_ERR_CANNOT_DELETE_UNLESS_COMPLETED, HR_DELETE,
                  asyncop_queue_delete(q, restricted));
    CHECK_STATE(q, restricted, ASYNCOP_STATE_READY, ASYNCOP_STATUS_WAITING_FOR_RESOURCES);
    /* Restricted while running: Cancel/Pause refused, Postpone would pause it. */
    l_restricted = test_claim(q, "host", 9);
    CHECK_REFUSED(q, restricted, ASYNCOP_ERR_CANNOT_CANCEL, HR_CANNOT_CANCEL,
                  asyncop_queue_cancel(q, restricted));
    CHECK_REFUSED(q, restricted, ASYNCOP_ERR_CANNOT_PAUSE, HR_CANNOT_PAUSE,
                  asyncop_queue_pause(q, restricted));
    CHECK_REFUSED(q, restricted, ASYNCOP_ERR_CANNOT_PAUSE, HR_CANNOT_PAUSE,
                  asyncop_queue_postpone(q, restricted, later));
    CHECK_STATE(q, restricted, ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_IN_PROGRESS);

    /* Ready: delete, pause, resume refused; set_state to Completed refused. */
    CHECK_REFUSED(q, ready, ASYNCOP_ERR_CANNOT_DELETE_UNLESS_COMPLETED, HR_DELETE,
                  asyncop_queue_delete(q, ready));
    CHECK_REFUSED(q, ready, ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED, HR_TO_SUSPENDED,
                  asyncop_queue_pause(q, ready));
    CHECK_REFUSED(q, ready, ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED, HR_TO_SUSPENDED,
                  asyncop_queue_set_state(q, ready, 1, ASYNCOP_STATUS_NONE));
    CHECK_REFUSED(q, ready, ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_READY, HR_TO_READY,
                  asyncop_queue_resume(q, ready));
    CHECK_REFUSED(q, ready, ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_COMPLETE, HR_TO_COMPLETE,
                  asyncop_queue_set_state(q, ready, 3, 30));
    CHECK_REFUSED(q, ready, ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_COMPLETE, HR_TO_COMPLETE,
                  asyncop_queue_set_state(q, ready, 3, 31));
    CHECK_REFUSED(q, ready, ASYNCOP_ERR_INVALID_STATE_CHANGE, HR_INVALID_STATE_CHANGE,
                  asyncop_queue_set_state(q, ready, 2, ASYNCOP_STATUS_NONE));
    CHECK_REFUSED(q, ready, ASYNCOP_ERR_INVALID_STATE_CHANGE, HR_INVALID_STATE_CHANGE,
                  asyncop_queue_set_state(q, ready, 2, 20));
    CHECK_REFUSED(q, ready, ASYNCOP_ERR_INVALID_STATE_CHANGE, HR_INVALID_STATE_CHANGE,
                  asyncop_queue_set_state(q, ready, 2, 22));
    CHECK_STATE(q, ready, ASYNCOP_STATE_READY, ASYNCOP_STATUS_WAITING_FOR_RESOURCES);

    /* Running (2/20): resume and delete refused; set_state(3, 30) refused. */
    CHECK_REFUSED(q, running, ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_READY, HR_TO_READY,
                  asyncop_queue_resume(q, running));
    CHECK_REFUSED(q, running, ASYNCOP_ERR_CANNOT_DELETE_UNLESS_COMPLETED, HR_DELETE,
                  asyncop_queue_delete(q, running));
    CHECK_REFUSED(q, running, ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_COMPLETE, HR_TO_COMPLETE,
                  asyncop_queue_set_state(q, running, 3, 30));
    CHECK_STATE(q, running, ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_IN_PROGRESS);

    /* Canceling (2/22): cancel again, pause, postpone refused. */
    CHECK_REFUSED(q, canceling, ASYNCOP_ERR_INVALID_STATE_CHANGE, HR_INVALID_STATE_CHANGE,
                  asyncop_queue_cancel(q, canceling));
    CHECK_REFUSED(q, canceling, ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED, HR_TO_SUSPENDED,
                  asyncop_queue_pause(q, canceling));
    CHECK_REFUSED(q, canceling, ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED, HR_TO_SUSPENDED,
                  asyncop_queue_postpone(q, canceling, later));
    CHECK_STATE(q, canceling, ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_CANCELING);

    /* Suspended: pause refused. */
    CHECK_REFUSED(q, suspended, ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED, HR_TO_SUSPENDED,
                  asyncop_queue_pause(q, suspended));
    CHECK_REFUSED(q, suspended, ASYNCOP_ERR_CANNOT_DELETE_UNLESS_COMPLETED, HR_DELETE,
                  asyncop_queue_delete(q, suspended));

    /* Arguments and lookups: INVALID_ARG and NOT_FOUND, not an HRESULT. */
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_queue_cancel(q, 0));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_queue_cancel(q, -1));
    CHECK_RC(ASYNCOP_ERR_INVALID_ARG, asyncop_queue_delete(q, INT64_MIN));
    CHECK_RC(ASYNCOP_ERR_NOT_FOUND, asyncop_queue_cancel(q, 999999));
    CHECK_RC(ASYNCOP_ERR_NOT_FOUND, asyncop_queue_pause(q, 999999));
    CHECK_RC(ASYNCOP_ERR_NOT_FOUND, asyncop_queue_resume(q, 999999));
    CHECK_RC(ASYNCOP_ERR_NOT_FOUND, asyncop_queue_postpone(q, 999999, later));
    CHECK_RC(ASYNCOP_ERR_NOT_FOUND, asyncop_queue_delete(q, 999999));
    CHECK_RC(ASYNCOP_ERR_NOT_FOUND, asyncop_queue_set_state(q, 999999, 3, ASYNCOP_STATUS_NONE));
    CHECK(asyncop_status_hresult(ASYNCOP_ERR_NOT_FOUND) == 0);
    CHECK_REFUSED(q, ready, ASYNCOP_ERR_INVALID_ARG, 0, asyncop_queue_postpone(q, ready, now - 1));
    CHECK_REFUSED(q, ready, ASYNCOP_ERR_INVALID_ARG, 0,
                  asyncop_queue_set_postpone_until(q, ready, 0));

    /* The allowed moves. Postpone Ready -> 1/10 with pu; Resume -> 0/0 without. */
    CHECK_OK(asyncop_queue_postpone(q, ready, later));
    {
        test_snap s = test_snapshot(q, ready);
        CHECK(s.state == 1 && s.status == 10 && s.pu_present == 1 && s.pu == later);
    }
    CHECK_OK(asyncop_queue_set_state(q, ready, 0, ASYNCOP_STATUS_NONE)); /* Resume */
    {
        test_snap s = test_snapshot(q, ready);
        CHECK(s.state == 0 && s.status == 0 && s.pu_present == 0);
    }
    CHECK_OK(asyncop_queue_set_postpone_until(q, ready, later + 1));
    CHECK_OK(asyncop_queue_set_state(q, ready, 0, 0));
    CHECK_STATE(q, ready, ASYNCOP_STATE_READY, ASYNCOP_STATUS_WAITING_FOR_RESOURCES);
    /* Pause of a running operation, twice (the second is a no-op). */
    CHECK_OK(asyncop_queue_set_state(q, running, 1, 10));
    CHECK_STATE(q, running, ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_PAUSING);
    {
        test_snap s = test_snapshot(q, running);
        CHECK_OK(asyncop_queue_pause(q, running));
        CHECK(test_snap_equal(s, test_snapshot(q, running)));
    }
    /* Cancel of a Pausing one -> Canceling; of a Suspended one -> 3/32. */
    CHECK_OK(asyncop_queue_cancel(q, running));
    CHECK_STATE(q, running, ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_CANCELING);
    CHECK_OK(asyncop_queue_set_state(q, suspended, 3, ASYNCOP_STATUS_NONE)); /* bare 3: Canceled */
    CHECK_STATE(q, suspended, ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_CANCELED);
    CHECK_OK(asyncop_queue_set_state(q, ready, 3, 32));
    CHECK_STATE(q, ready, ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_CANCELED);

    /* Delete of Completed; ids are never reused. */
    CHECK_OK(asyncop_queue_delete(q, done));
    {
        asyncop_operation *op = NULL;
        CHECK_RC(ASYNCOP_ERR_NOT_FOUND, asyncop_queue_retrieve(q, done, &op));
        CHECK(op == NULL);
    }
    CHECK_RC(ASYNCOP_ERR_NOT_FOUND, asyncop_queue_delete(q, done));
    CHECK_OK(asyncop_queue_delete(q, suspended));
    id = test_submit(q, "after deletes", 105);
    next = test_submit(q, "after deletes", 105);
    CHECK(id > suspended && next > id);

    /* The hosts finish their work. */
    CHECK_OK(asyncop_lease_renew(l_running, &st));
    CHECK(st == ASYNCOP_STATUS_CANCELING);
    CHECK_OK(asyncop_lease_acknowledge_cancel(l_running, &st));
    CHECK(st == ASYNCOP_STATUS_CANCELED);
    CHECK_OK(asyncop_lease_acknowledge_cancel(l_canceling, &st));
    CHECK(st == ASYNCOP_STATUS_CANCELED);
    CHECK_OK(asyncop_lease_complete(l_restricted, &st));
    CHECK(st == ASYNCOP_STATUS_SUCCEEDED);
    CHECK_OK(asyncop_lease_free(l_running));
    CHECK_OK(asyncop_lease_free(l_canceling));
    CHECK_OK(asyncop_lease_free(l_restricted));

    /* A restricted type that is Suspended: Resume refused (0x80044166),
     * Postpone allowed as for any type. */
    CHECK_OK(asyncop_queue_now(q, &now));
    REQUIRE_OK(asyncop_queue_submit(q, "restricted later", 9, NULL, 0, NULL, now + 60000, NULL, &id));
    CHECK_REFUSED(q, id, ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_READY, HR_TO_READY,
                  asyncop_queue_resume(q, id));
    CHECK_REFUSED(q, id, ASYNCOP_ERR_CANNOT_CANCEL, HR_CANNOT_CANCEL, asyncop_queue_cancel(q, id));
    CHECK_OK(asyncop_queue_postpone(q, id, now + 120000));
    {
        test_snap s = test_snapshot(q, id);
        CHECK(s.state == 1 && s.status == 10 && s.pu == now + 120000);
    }
    CHECK_OK(asyncop_queue_close(q));

    /* allow_delete_any: Delete works in every state; a host whose operation
     * was deleted under it loses its lease (LEASE_LOST, not NOT_FOUND). */
    {
        asyncop_options *o = NULL;
        REQUIRE_OK(asyncop_options_new(&o));
        CHECK_OK(asyncop_options_set_allow_delete_any(o, 1));
        q = test_open(test_queue_target(path, sizeof path, "any.db"), o);
        CHECK_OK(asyncop_options_free(o));
        ready = test_submit(q, "ready", 1);
        running = test_submit(q, "running", 2);
        l_running = test_claim(q, "host", 2);
        CHECK_OK(asyncop_queue_delete(q, ready));
        CHECK_OK(asyncop_queue_delete(q, running));
        CHECK_RC(ASYNCOP_ERR_LEASE_LOST, asyncop_lease_renew(l_running, &st));
        CHECK_RC(ASYNCOP_ERR_LEASE_LOST, asyncop_lease_complete(l_running, &st));
        CHECK_RC(ASYNCOP_ERR_NOT_FOUND, asyncop_queue_cancel(q, running));
        CHECK(test_total(q) == 0);
        CHECK_OK(asyncop_lease_free(l_running));
        CHECK_OK(asyncop_queue_close(q));
    }
    return test_end();
}
