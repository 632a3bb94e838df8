/*
 * events: the event callback and the metrics text through the C ABI.
 *   asyncop_queue_set_event_callback: submit, claim, complete and cancel
 *     arrive with their kind, id, type, statuses, host, time and count, with
 *     user_data passed back; a callback may call the queue; NULL removes it;
 *     a NULL queue is NULL_ARG
 *   asyncop_queue_metrics_prometheus: (NULL, 0) is a size query answered
 *     with BUFFER_TOO_SMALL; the text holds the counters with the labels
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <string.h>

#define MAX_EVENTS 16

struct seen {
    const asyncop_queue *q;
    int n;
    int32_t kind[MAX_EVENTS], type[MAX_EVENTS], from[MAX_EVENTS], to[MAX_EVENTS];
    int64_t id[MAX_EVENTS], at[MAX_EVENTS], count[MAX_EVENTS];
    char host[MAX_EVENTS][32];
    int reads_ok;
};

static void on_event(void *user_data, int32_t kind, int64_t id, int32_t operation_type,
                     int32_t from_status, int32_t to_status, const char *host, int64_t at,
                     int64_t count) {
    struct seen *s = (struct seen *)user_data;
    asyncop_operation *op = NULL;
    if (s->n >= MAX_EVENTS) return;
    s->kind[s->n] = kind;
    s->id[s->n] = id;
    s->type[s->n] = operation_type;
    s->from[s->n] = from_status;
    s->to[s->n] = to_status;
    s->at[s->n] = at;
    s->count[s->n] = count;
    snprintf(s->host[s->n], sizeof s->host[0], "%s", host ? host : "(null)");
    s->n++;
    /* The callback may call the queue: no store lock is held. */
    if (asyncop_queue_retrieve(s->q, id, &op) == ASYNCOP_OK) {
        s->reads_ok++;
        (void)asyncop_operation_free(op);
    }
}

int main(void) {
    char path[600];
    static struct seen s;
    asyncop_queue *q;
    asyncop_lease *l;
    int64_t a, b, now = 0;
    int32_t st = 0;
    size_t len = 0;
    char *text;

    test_begin("events", 60);
    q = test_open(test_queue_target(path, sizeof path, "q.db"), NULL);
    s.q = q;
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_queue_set_event_callback(NULL, on_event, &s));
    REQUIRE_OK(asyncop_queue_set_event_callback(q, on_event, &s));
    CHECK_OK(asyncop_queue_now(q, &now));
    a = test_submit(q, "a", 100);
    l = test_claim(q, "host-9", 100);
    CHECK_OK(asyncop_lease_complete(l, &st));
    CHECK_OK(asyncop_lease_free(l));
    b = test_submit(q, "b", 101);
    CHECK_OK(asyncop_queue_cancel(q, b));
    REQUIRE(s.n == 5);
    CHECK(s.kind[0] == ASYNCOP_EVENT_SUBMITTED && s.id[0] == a && s.type[0] == 100);
    CHECK(s.from[0] == -1 && s.to[0] == ASYNCOP_STATUS_WAITING_FOR_RESOURCES);
    CHECK(s.count[0] == 1 && s.at[0] >= now);
    CHECK(s.kind[1] == ASYNCOP_EVENT_CLAIMED && s.id[1] == a);
    CHECK(s.to[1] == ASYNCOP_STATUS_IN_PROGRESS && strcmp(s.host[1], "host-9") == 0);
    CHECK(s.kind[2] == ASYNCOP_EVENT_OUTCOME && s.from[2] == ASYNCOP_STATUS_IN_PROGRESS);
    CHECK(s.to[2] == ASYNCOP_STATUS_SUCCEEDED && strcmp(s.host[2], "host-9") == 0);
    CHECK(s.kind[3] == ASYNCOP_EVENT_SUBMITTED && s.id[3] == b && s.type[3] == 101);
    CHECK(s.kind[4] == ASYNCOP_EVENT_USER_ACTION && s.id[4] == b);
    CHECK(s.from[4] == ASYNCOP_STATUS_WAITING_FOR_RESOURCES && s.to[4] == ASYNCOP_STATUS_CANCELED);
    CHECK(strcmp(s.host[4], "(null)") == 0);
    CHECK(s.reads_ok == 5);

    /* NULL removes it. */
    CHECK_OK(asyncop_queue_set_event_callback(q, NULL, NULL));
    (void)test_submit(q, "c", 100);
    CHECK(s.n == 5);

    /* The metrics text: size query, then the text. */
    CHECK_RC(ASYNCOP_ERR_BUFFER_TOO_SMALL,
             asyncop_queue_metrics_prometheus(q, "queue=\"jobs\"", NULL, 0, &len));
    REQUIRE(len > 0);
    text = (char *)malloc(len + 64);
    REQUIRE(text != NULL);
    CHECK_OK(asyncop_queue_metrics_prometheus(q, "queue=\"jobs\"", text, len + 64, &len));
    CHECK(strstr(text, "asyncop_submitted_total{queue=\"jobs\"} 3\n") != NULL);
    CHECK(strstr(text, "asyncop_claims_total{queue=\"jobs\"} 1\n") != NULL);
    CHECK(strstr(text, "asyncop_completions_total{queue=\"jobs\",outcome=\"succeeded\"} 1\n") != NULL);
    CHECK(strstr(text, "# TYPE asyncop_commit_seconds histogram\n") != NULL);
    free(text);
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_queue_metrics_prometheus(q, NULL, NULL, 0, NULL));

    CHECK_OK(asyncop_queue_close(q));
    return test_end();
}
