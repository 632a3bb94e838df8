/*
 * small_buffer: every text and data getter follows (buf, cap, &len):
 * - the size query (NULL, 0, &len) gives ASYNCOP_ERR_BUFFER_TOO_SMALL with
 *   len = the size needed without NUL (OK with len 0 for empty data);
 * - a buffer one byte short gives BUFFER_TOO_SMALL, len = needed, and leaves
 *   the buffer untouched (sentinel bytes); *out_present is written by size
 *   queries too ("it is also written by a size query"), so it must be right;
 * - the exact size works: the bytes, a NUL after text, nothing written past;
 * - absent optional values read as "" with *out_present 0.
 * asyncop_last_error_message works like snprintf: returns the full length,
 * copies at most cap - 1 bytes cut on a UTF-8 boundary plus a NUL, writes
 * nothing for cap 0, is empty after a successful call and is not cleared by
 * reading it or by asyncop_status_name / the version calls.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#define SMALL ASYNCOP_ERR_BUFFER_TOO_SMALL
#define SENTINEL 0xA5

/* One getter, behind a common signature. */
typedef asyncop_status (*getter_fn)(const void *h, char *buf, size_t cap, size_t *len,
                                    int32_t *present);

#define TEXT_ADAPTER(fn, type)                                                                \
    static asyncop_status get_##fn(const void *h, char *b, size_t c, size_t *l, int32_t *p) {  \
        (void)p;                                                                              \
        return asyncop_##fn((const type *)h, b, c, l);                                        \
    }
#define DATA_ADAPTER(fn, type)                                                                \
    static asyncop_status get_##fn(const void *h, char *b, size_t c, size_t *l, int32_t *p) {  \
        (void)p;                                                                              \
        return asyncop_##fn((const type *)h, (uint8_t *)b, c, l);                             \
    }
#define OPT_ADAPTER(fn, type)                                                                 \
    static asyncop_status get_##fn(const void *h, char *b, size_t c, size_t *l, int32_t *p) {  \
        return asyncop_##fn((const type *)h, b, c, l, p);                                     \
    }

TEXT_ADAPTER(lease_name, asyncop_lease)
TEXT_ADAPTER(lease_host_id, asyncop_lease)
DATA_ADAPTER(lease_data, asyncop_lease)
OPT_ADAPTER(lease_dependency_token, asyncop_lease)
OPT_ADAPTER(lease_correlation_id, asyncop_lease)
TEXT_ADAPTER(operation_name, asyncop_operation)
DATA_ADAPTER(operation_data, asyncop_operation)
OPT_ADAPTER(operation_dependency_token, asyncop_operation)
OPT_ADAPTER(operation_host_id, asyncop_operation)
OPT_ADAPTER(operation_message, asyncop_operation)
OPT_ADAPTER(operation_friendly_message, asyncop_operation)
OPT_ADAPTER(operation_correlation_id, asyncop_operation)

enum kind { TEXT, DATA, OPTIONAL };

static int all_sentinel(const unsigned char *p, size_t n) {
    size_t i;
    for (i = 0; i < n; i++)
        if (p[i] != SENTINEL) return 0;
    return 1;
}

/* Checks one getter against its expected value (`want`, `want_len` bytes;
 * want == NULL means an absent optional value). */
static void check_getter(const char *what, getter_fn fn, const void *h, enum kind kind,
                         const char *want, size_t want_len) {
    const size_t nul = kind == DATA ? 0 : 1;
    const size_t needed = want_len + nul;
    const int32_t want_present = want != NULL;
    unsigned char *buf = (unsigned char *)malloc(needed + 32);
    size_t len;
    int32_t present;
    int before = test_failure_count();

    REQUIRE(buf != NULL);
    /* 1. the size query */
    len = 12345;
    present = 77;
    if (needed == 0) {
        CHECK_OK(fn(h, NULL, 0, &len, &present));
    } else {
        CHECK_RC(SMALL, fn(h, NULL, 0, &len, &present));
        if (kind == OPTIONAL) CHECK(present == want_present);
    }
    CHECK(len == want_len);

    /* 2. one byte short (cap 0 with a real buffer when one byte is all it needs) */
    if (needed > 0) {
        memset(buf, SENTINEL, needed + 32);
        len = 12345;
        present = 77;
        CHECK_RC(SMALL, fn(h, (char *)buf, needed - 1, &len, &present));
        CHECK(len == want_len);
        CHECK(all_sentinel(buf, needed + 32)); /* buffer untouched */
        if (kind == OPTIONAL) CHECK(present == want_present);
    }

    /* 3. the exact size */
    memset(buf, SENTINEL, needed + 32);
    len = 12345;
    present = 77;
    CHECK_OK(fn(h, (char *)buf, needed, &len, &present));
    CHECK(len == want_len);
    if (want_len > 0) CHECK(memcmp(buf, want ? want : "", want_len) == 0);
    if (nul) CHECK(buf[want_len] == '\0');
    CHECK(all_sentinel(buf + needed, 32)); /* nothing past the end */
    if (kind == OPTIONAL) CHECK(present == want_present);

    /* 4. a larger buffer */
    memset(buf, SENTINEL, needed + 32);
    len = 12345;
    CHECK_OK(fn(h, (char *)buf, needed + 32, &len, &present));
    CHECK(len == want_len);
    if (want_len > 0) CHECK(memcmp(buf, want, want_len) == 0);
    if (nul) CHECK(buf[want_len] == '\0');
    if (nul) CHECK(all_sentinel(buf + needed, 32)); /* one NUL, not zero-filled */

    if (test_failure_count() != before) fprintf(stderr, "    (in getter %s)\n", what);
    free(buf);
}

#define TEXT_OF(s) (s), strlen(s)

static void last_error_message(const asyncop_queue *q) {
    char path[700], full[1024], small[64];
    size_t n, euro_at, i;
    asyncop_queue *bad_q = NULL;
    int64_t now = 0;
    const char *euro = "\xe2\x82\xac"; /* U+20AC, 3 bytes */
    char *p;

    /* Empty after a successful call. */
    CHECK_OK(asyncop_queue_now(q, &now));
    CHECK(asyncop_last_error_message(NULL, 0) == 0);
    memset(small, SENTINEL, sizeof small);
    CHECK(asyncop_last_error_message(small, sizeof small) == 0);
    CHECK(small[0] == '\0');
    CHECK(all_sentinel((unsigned char *)small + 1, sizeof small - 1));

    /* A message with multi-byte characters in it: the path is echoed. */
    snprintf(path, sizeof path, "%s/missing-%s%s%s/q.db", test_dir(), euro, euro, euro);
    CHECK_RC(ASYNCOP_ERR_IO, asyncop_queue_open(path, NULL, &bad_q));
    n = asyncop_last_error_message(NULL, 0);
    CHECK(n > 0 && n < sizeof full);
    CHECK(asyncop_last_error_message(NULL, 5) == n); /* NULL buffer: size only */
    memset(full, SENTINEL, sizeof full);
    CHECK(asyncop_last_error_message(full, sizeof full) == n);
    CHECK(strlen(full) == n);
    p = strstr(full, euro);
    REQUIRE(p != NULL); /* the message names the path */
    euro_at = (size_t)(p - full);

    /* Reading does not clear it; neither do the name and version calls. */
    CHECK(asyncop_last_error_message(NULL, 0) == n);
    (void)asyncop_status_name(ASYNCOP_ERR_IO);
    (void)asyncop_status_hresult(ASYNCOP_ERR_IO);
    (void)asyncop_version();
    (void)asyncop_abi_version();
    CHECK(asyncop_last_error_message(NULL, 0) == n);

    /* Exact fit, one short, cap 1, cap 0. */
    memset(small, SENTINEL, sizeof small);
    {
        char *exact = (char *)malloc(n + 8);
        REQUIRE(exact != NULL);
        memset(exact, SENTINEL, n + 8);
        CHECK(asyncop_last_error_message(exact, n + 1) == n);
        CHECK(memcmp(exact, full, n + 1) == 0);
        CHECK(all_sentinel((unsigned char *)exact + n + 1, 7));
        memset(exact, SENTINEL, n + 8);
        CHECK(asyncop_last_error_message(exact, n) == n);
        CHECK(strlen(exact) <= n - 1 && memcmp(exact, full, strlen(exact)) == 0);
        CHECK(all_sentinel((unsigned char *)exact + n, 8));
        free(exact);
    }
    CHECK(asyncop_last_error_message(small, 1) == n);
    CHECK(small[0] == '\0' && all_sentinel((unsigned char *)small + 1, sizeof small - 1));
    memset(small, SENTINEL, sizeof small);
    CHECK(asyncop_last_error_message(small, 0) == n);
    CHECK(all_sentinel((unsigned char *)small, sizeof small));

    /* Cuts inside the first euro sign fall back to the start of the character. */
    for (i = 1; i <= 3; i++) {
        size_t cap = euro_at + i; /* room for euro_at + i - 1 bytes */
        char *cut = (char *)malloc(cap + 8);
        REQUIRE(cut != NULL);
        memset(cut, SENTINEL, cap + 8);
        CHECK(asyncop_last_error_message(cut, cap) == n);
        CHECK(strlen(cut) == euro_at); /* not euro_at + i - 1 */
        CHECK(memcmp(cut, full, euro_at) == 0);
        CHECK(all_sentinel((unsigned char *)cut + euro_at + 1, cap + 8 - euro_at - 1));
        free(cut);
    }
    {
        size_t cap = euro_at + 4; /* the whole euro sign fits */
        char *cut = (char *)malloc(cap);
        REQUIRE(cut != NULL);
        CHECK(asyncop_last_error_message(cut, cap) == n);
        CHECK(strlen(cut) == euro_at + 3 && memcmp(cut, full, euro_at + 3) == 0);
        free(cut);
    }
    /* The failed open left nothing behind. */
    snprintf(path, sizeof path, "%s/missing-%s%s%s", test_dir(), euro, euro, euro);
    CHECK(!test_file_exists(path));
}

int main(void) {
    char path[600];
    asyncop_queue *q;
    asyncop_lease *l, *l_empty;
    asyncop_operation *running = NULL, *failed = NULL, *empty = NULL;
    int64_t id, empty_id;
    int32_t st = 0;
    const char *name = "h\xc3\xa9llo w\xc3\xb6rld";  /* "héllo wörld" */
    const char *token = "d\xc3\xa9p-tok";           /* "dép-tok" */
    const char *corr = "corr-\xe2\x82\xac";         /* "corr-€" */
    const char *host = "h\xc3\xb4st-1";             /* "hôst-1" */
    const char *message = "message \xc3\xbc";       /* "message ü" */
    const char *friendly = "friendly \xf0\x9f\x98\x80"; /* "friendly 😀" */
    uint8_t data[37];
    size_t i;

    test_begin("small_buffer", 120);
    for (i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 7); /* includes 0 bytes */
    q = test_open(test_path(path, sizeof path, "q.db"), NULL);
    REQUIRE_OK(asyncop_queue_submit(q, name, 1, data, sizeof data, token, ASYNCOP_TIME_NONE, corr, &id));
    REQUIRE_OK(asyncop_queue_submit(q, "", 2, NULL, 0, NULL, ASYNCOP_TIME_NONE, NULL, &empty_id));
    l = test_claim(q, host, 1);
    l_empty = test_claim(q, "h", 2);
    REQUIRE_OK(asyncop_queue_retrieve(q, id, &running));

    check_getter("lease_name", get_lease_name, l, TEXT, TEXT_OF(name));
    check_getter("lease_host_id", get_lease_host_id, l, TEXT, TEXT_OF(host));
    check_getter("lease_data", get_lease_data, l, DATA, (const char *)data, sizeof data);
    check_getter("lease_dependency_token", get_lease_dependency_token, l, OPTIONAL, TEXT_OF(token));
    check_getter("lease_correlation_id", get_lease_correlation_id, l, OPTIONAL, TEXT_OF(corr));
    check_getter("lease_name (empty)", get_lease_name, l_empty, TEXT, "", 0);
    check_getter("lease_data (empty)", get_lease_data, l_empty, DATA, "", 0);
    check_getter("lease_dependency_token (absent)", get_lease_dependency_token, l_empty, OPTIONAL,
                 NULL, 0);
    check_getter("lease_correlation_id (absent)", get_lease_correlation_id, l_empty, OPTIONAL,
                 NULL, 0);

    check_getter("operation_name", get_operation_name, running, TEXT, TEXT_OF(name));
    check_getter("operation_data", get_operation_data, running, DATA, (const char *)data,
                 sizeof data);
    check_getter("operation_dependency_token", get_operation_dependency_token, running, OPTIONAL,
                 TEXT_OF(token));
    check_getter("operation_host_id", get_operation_host_id, running, OPTIONAL, TEXT_OF(host));
    check_getter("operation_correlation_id", get_operation_correlation_id, running, OPTIONAL,
                 TEXT_OF(corr));
    check_getter("operation_message (absent)", get_operation_message, running, OPTIONAL, NULL, 0);
    check_getter("operation_friendly_message (absent)", get_operation_friendly_message, running,
                 OPTIONAL, NULL, 0);

    CHECK_OK(asyncop_lease_report(l, ASYNCOP_OUTCOME_FAILED, 42, message, friendly,
                                  ASYNCOP_TIME_NONE, &st));
    CHECK(st == ASYNCOP_STATUS_FAILED);
    REQUIRE_OK(asyncop_queue_retrieve(q, id, &failed));
    check_getter("operation_message", get_operation_message, failed, OPTIONAL, TEXT_OF(message));
    check_getter("operation_friendly_message", get_operation_friendly_message, failed, OPTIONAL,
                 TEXT_OF(friendly));
    check_getter("operation_host_id (absent after the lease)", get_operation_host_id, failed,
                 OPTIONAL, NULL, 0);

    CHECK_OK(asyncop_lease_complete(l_empty, &st));
    REQUIRE_OK(asyncop_queue_retrieve(q, empty_id, &empty));
    check_getter("operation_name (empty)", get_operation_name, empty, TEXT, "", 0);
    check_getter("operation_data (empty)", get_operation_data, empty, DATA, "", 0);
    check_getter("operation_dependency_token (absent)", get_operation_dependency_token, empty,
                 OPTIONAL, NULL, 0);
    check_getter("operation_correlation_id (absent)", get_operation_correlation_id, empty,
                 OPTIONAL, NULL, 0);
    check_getter("operation_message (absent)", get_operation_message, empty, OPTIONAL, NULL, 0);

    last_error_message(q);

    CHECK_OK(asyncop_lease_free(l));
    CHECK_OK(asyncop_lease_free(l_empty));
    CHECK_OK(asyncop_operation_free(running));
    CHECK_OK(asyncop_operation_free(failed));
    CHECK_OK(asyncop_operation_free(empty));
    CHECK_OK(asyncop_queue_close(q));
    return test_end();
}
