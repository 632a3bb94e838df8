/*
 * lease_read: asyncop_lease_read returns all of a lease's fields in one call.
 * - every field equals what its single getter returns (asyncop_lease_id, ...,
 *   asyncop_lease_correlation_id), for a lease with every field set (UTF-8
 *   texts, a payload with 0 bytes in it) and one with empty / absent ones;
 * - the texts and the payload lie in the caller's buffer in the documented
 *   order (name NUL, payload, host id NUL, token NUL, correlation id NUL),
 *   *out_len bytes, nothing written past them; absent values are NULL with
 *   length 0; the payload pointer is never NULL;
 * - the size query (NULL, 0) and a buffer one byte short give
 *   BUFFER_TOO_SMALL with *out_len = the bytes needed, and write neither the
 *   buffer nor *out_fields; the exact size works; a payload bigger than any
 *   fixed buffer (64 KiB) reads through the size query;
 * - NULL arguments give NULL_ARG; a freed lease CLOSED_HANDLE; the values
 *   read stay valid after the lease is freed (they are the caller's bytes).
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#define SENTINEL 0xA5

static int all_sentinel(const unsigned char *p, size_t n) {
    size_t i;
    for (i = 0; i < n; i++)
        if (p[i] != SENTINEL) return 0;
    return 1;
}

/* Reads a text getter of `l` into a malloc'ed, NUL-terminated copy. */
static char *single_text(asyncop_status (*fn)(const asyncop_lease *, char *, size_t, size_t *),
                         const asyncop_lease *l, size_t *len) {
    char *buf;
    CHECK_RC(ASYNCOP_ERR_BUFFER_TOO_SMALL, fn(l, NULL, 0, len));
    buf = (char *)malloc(*len + 1);
    REQUIRE(buf != NULL);
    CHECK_OK(fn(l, buf, *len + 1, len));
    return buf;
}

/* The same for an optional text getter; NULL when absent. */
static char *single_opt(asyncop_status (*fn)(const asyncop_lease *, char *, size_t, size_t *,
                                             int32_t *),
                        const asyncop_lease *l, size_t *len) {
    char *buf;
    int32_t present = -1;
    CHECK_RC(ASYNCOP_ERR_BUFFER_TOO_SMALL, fn(l, NULL, 0, len, &present));
    buf = (char *)malloc(*len + 1);
    REQUIRE(buf != NULL);
    CHECK_OK(fn(l, buf, *len + 1, len, &present));
    if (!present) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Checks one text of the fields against the single getter's value (NULL: absent). */
static void check_text(const char *what, const char *got, size_t got_len, const char *want,
                       size_t want_len) {
    if (want == NULL) {
        if (got != NULL || got_len != 0) {
            fprintf(stderr, "%s: expected absent (NULL, 0), got len %zu\n", what, got_len);
            CHECK(0);
        }
        return;
    }
    REQUIRE(got != NULL);
    if (got_len != want_len || memcmp(got, want, want_len) != 0 || got[got_len] != '\0') {
        fprintf(stderr, "%s: the value differs from its single getter's\n", what);
        CHECK(0);
    }
}

/* Reads `l` with asyncop_lease_read and compares every field with its getter's. */
static void check_equals_getters(const char *what, const asyncop_lease *l) {
    asyncop_lease_fields f;
    unsigned char *buf;
    size_t need = 0, len = 0, cap, name_len, host_len, token_len, corr_len, data_len = 0, at;
    int64_t id = 0, token_id = 0, expires = 0;
    int32_t type = 0, attempt = 0;
    asyncop_status rc;
    char *name, *host, *token, *corr;
    uint8_t *data;

    name = single_text(asyncop_lease_name, l, &name_len);
    host = single_text(asyncop_lease_host_id, l, &host_len);
    token = single_opt(asyncop_lease_dependency_token, l, &token_len);
    corr = single_opt(asyncop_lease_correlation_id, l, &corr_len);
    rc = asyncop_lease_data(l, NULL, 0, &data_len); /* OK for an empty payload */
    CHECK(rc == ASYNCOP_OK || rc == ASYNCOP_ERR_BUFFER_TOO_SMALL);
    data = (uint8_t *)malloc(data_len + 1);
    REQUIRE(data != NULL);
    CHECK_OK(asyncop_lease_data(l, data, data_len + 1, &data_len));
    CHECK_OK(asyncop_lease_id(l, &id));
    CHECK_OK(asyncop_lease_lock_token(l, &token_id));
    CHECK_OK(asyncop_lease_expires_at(l, &expires));
    CHECK_OK(asyncop_lease_operation_type(l, &type));
    CHECK_OK(asyncop_lease_attempt(l, &attempt));

    /* The size query writes only *out_len. */
    memset(&f, SENTINEL, sizeof f);
    CHECK_RC(ASYNCOP_ERR_BUFFER_TOO_SMALL, asyncop_lease_read(l, NULL, 0, &f, &need));
    CHECK(all_sentinel((const unsigned char *)&f, sizeof f));
    CHECK(need == name_len + 1 + data_len + host_len + 1 + (token ? token_len + 1 : 0) +
                      (corr ? corr_len + 1 : 0));

    /* One byte short: nothing written. */
    cap = need + 16;
    buf = (unsigned char *)malloc(cap);
    REQUIRE(buf != NULL);
    memset(buf, SENTINEL, cap);
    len = 0;
    CHECK_RC(ASYNCOP_ERR_BUFFER_TOO_SMALL, asyncop_lease_read(l, buf, need - 1, &f, &len));
    CHECK(len == need);
    CHECK(all_sentinel(buf, cap));
    CHECK(all_sentinel((const unsigned char *)&f, sizeof f));

    /* The exact size. */
    len = 0;
    CHECK_OK(asyncop_lease_read(l, buf, need, &f, &len));
    CHECK(len == need);
    CHECK(all_sentinel(buf + need, cap - need));
    CHECK(f.id == id && f.lock_token == token_id && f.expires_at == expires);
    CHECK(f.operation_type == type && f.attempt == attempt);
    check_text(what, f.name, f.name_len, name, name_len);
    check_text(what, f.host_id, f.host_id_len, host, host_len);
    check_text(what, f.dependency_token, f.dependency_token_len, token, token_len);
    check_text(what, f.correlation_id, f.correlation_id_len, corr, corr_len);
    REQUIRE(f.data != NULL);
    CHECK(f.data_len == data_len && memcmp(f.data, data, data_len) == 0);

    /* The documented layout. */
    at = 0;
    CHECK((const unsigned char *)f.name == buf + at);
    at += name_len + 1;
    CHECK(f.data == buf + at);
    at += data_len;
    CHECK((const unsigned char *)f.host_id == buf + at);
    at += host_len + 1;
    if (token) {
        CHECK((const unsigned char *)f.dependency_token == buf + at);
        at += token_len + 1;
    }
    if (corr) {
        CHECK((const unsigned char *)f.correlation_id == buf + at);
        at += corr_len + 1;
    }
    CHECK(at == need);

    if (test_failure_count() != 0) fprintf(stderr, "(in %s)\n", what);
    free(buf);
    free(name);
    free(host);
    free(token);
    free(corr);
    free(data);
}

int main(void) {
    char path[600];
    asyncop_queue *q;
    asyncop_lease *l, *l_empty, *l_big;
    asyncop_lease_fields f;
    int64_t id;
    size_t len = 0, big_len = 65536 + 7, need = 0, i;
    const char *name = "h\xc3\xa9llo w\xc3\xb6rld";  /* "héllo wörld" */
    const char *token = "d\xc3\xa9p-tok";           /* "dép-tok" */
    const char *corr = "corr-\xe2\x82\xac";         /* "corr-€" */
    const char *host = "h\xc3\xb4st-1";             /* "hôst-1" */
    uint8_t data[37], *big, *buf;
    unsigned char small[256];

    test_begin("lease_read", 120);
    for (i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 7); /* includes 0 bytes */
    big = (uint8_t *)malloc(big_len);
    REQUIRE(big != NULL);
    for (i = 0; i < big_len; i++) big[i] = (uint8_t)(i * 13);
    q = test_open(test_path(path, sizeof path, "q.db"), NULL);
    REQUIRE_OK(asyncop_queue_submit(q, name, 1, data, sizeof data, token, ASYNCOP_TIME_NONE, corr, &id));
    REQUIRE_OK(asyncop_queue_submit(q, "", 2, NULL, 0, NULL, ASYNCOP_TIME_NONE, NULL, &id));
    REQUIRE_OK(asyncop_queue_submit(q, "big", 3, big, big_len, NULL, ASYNCOP_TIME_NONE, "c", &id));
    l = test_claim(q, host, 1);
    l_empty = test_claim(q, "h", 2);
    l_big = test_claim(q, host, 3);

    check_equals_getters("every field set", l);
    check_equals_getters("empty name and payload, no token or correlation id", l_empty);
    check_equals_getters("a 64 KiB payload", l_big);

    /* A fixed buffer too small for the big payload: the size query's answer reads it. */
    CHECK_RC(ASYNCOP_ERR_BUFFER_TOO_SMALL, asyncop_lease_read(l_big, small, sizeof small, &f, &need));
    CHECK(need == 4 + big_len + strlen(host) + 1 + 2);
    buf = (uint8_t *)malloc(need);
    REQUIRE(buf != NULL);
    CHECK_OK(asyncop_lease_read(l_big, buf, need, &f, &len));
    CHECK(len == need && f.data_len == big_len && memcmp(f.data, big, big_len) == 0);
    free(buf);

    /* Absent values: NULL pointers, length 0; an empty payload still points into buf. */
    CHECK_OK(asyncop_lease_read(l_empty, small, sizeof small, &f, &len));
    CHECK(f.dependency_token == NULL && f.dependency_token_len == 0);
    CHECK(f.correlation_id == NULL && f.correlation_id_len == 0);
    CHECK(f.data == small + 1 && f.data_len == 0 && f.name_len == 0 && f.name[0] == '\0');

    /* NULL arguments. */
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_lease_read(NULL, small, sizeof small, &f, &len));
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_lease_read(l, small, sizeof small, NULL, &len));
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_lease_read(l, small, sizeof small, &f, NULL));
    CHECK_RC(ASYNCOP_ERR_NULL_ARG, asyncop_lease_read(l, NULL, sizeof small, &f, &len));

    /* The values outlive the lease: they are the caller's bytes. */
    CHECK_OK(asyncop_lease_read(l, small, sizeof small, &f, &len));
    CHECK_OK(asyncop_lease_free(l));
    CHECK(f.name_len == strlen(name) && strcmp(f.name, name) == 0);
    CHECK(f.correlation_id != NULL && strcmp(f.correlation_id, corr) == 0);
    CHECK_RC(ASYNCOP_ERR_CLOSED_HANDLE, asyncop_lease_read(l, small, sizeof small, &f, &len));

    CHECK_OK(asyncop_lease_free(l_empty));
    CHECK_OK(asyncop_lease_free(l_big));
    CHECK_OK(asyncop_queue_close(q));
    free(big);
    return test_end();
}
