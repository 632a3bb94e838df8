/*
 * pg_target: asyncop_queue_open with a PostgreSQL target (ASYNCOP_TEST_POSTGRES,
 * which tests/c/run always provides) and its refusals, each of which creates
 * and changes nothing:
 *   a URL or conninfo that does not parse, a bad pool_size  -> INVALID_ARG
 *   a schema name that is not a lower-case identifier         -> INVALID_ARG
 *   a server that is down (a port nothing listens on)         -> IO, and the
 *     message names host:port but never the password
 *   a schema whose schema_version is newer (999, set with psql) -> CORRUPT,
 *     the version row and the queue's rows left as they were
 * plus the accepted forms: a URL with ?schema=, and conninfo words.
 * A query string on ASYNCOP_TEST_POSTGRES (tests/c/run adds sslmode=disable under
 * valgrind) is kept on every target that reaches the cluster.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define PASSWORD "s3cret-pw-xyzzy"

static char base_url[512]; /* ASYNCOP_TEST_POSTGRES without a query string */
static char extra[256];    /* its query string ("" or "&sslmode=disable"): kept on every target */

/* "<base_url>?<params><extra>": a target on the test cluster. */
static const char *cluster_target(char *buf, size_t cap, const char *params) {
    snprintf(buf, cap, "%s?%s%s", base_url, params, extra);
    return buf;
}

/* The first line psql prints for `sql` against the test database ("" if none).
 * psql, not the library, so the checks do not trust what they check. */
static const char *psql(const char *sql, char *out, size_t cap) {
    char cmd[2048];
    FILE *p;
    snprintf(cmd, sizeof cmd, "psql -qAtX -v ON_ERROR_STOP=1 '%s' -c \"%s\" 2>&1", base_url, sql);
    out[0] = '\0';
    p = popen(cmd, "r");
    REQUIRE(p != NULL);
    if (fgets(out, (int)cap, p) == NULL) out[0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    CHECK(pclose(p) == 0);
    return out;
}

/* A TCP port on 127.0.0.1 that nothing listens on: bound by the kernel's
 * choice, then released. */
static int dead_port(void) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int port, fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    REQUIRE(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* Opens `target`, which must be refused with `want`; returns its message. */
static const char *refused(const char *target, int32_t want, char *msg, size_t cap) {
    asyncop_queue *q = NULL;
    CHECK_RC(want, asyncop_queue_open(target, NULL, &q));
    CHECK(q == NULL);
    test_last_error_(msg, cap);
    if (q != NULL) (void)asyncop_queue_close(q);
    return msg;
}

static void bad_targets(void) {
    char target[1024], msg[1024], out[256];
    const char *unparsable[] = {
        "postgres://postgres@127.0.0.1:notaport/asyncop",
        "postgresql://postgres@127.0.0.1:99999999/asyncop",
        "host=127.0.0.1 port=x dbname=asyncop",
        "host='127.0.0.1 dbname=asyncop", /* an unclosed quote */
    };
    const char *bad_schemas[] = {"Upper", "1digit", "has-dash", "semi;colon", "",
                                 "a123456789012345678901234567890123456789012345678901234567890123"};
    size_t i;
    int port = dead_port();

    /* Nothing may appear in the working directory: a target is never a file name. */
    REQUIRE(chdir(test_dir()) == 0);
    for (i = 0; i < sizeof unparsable / sizeof unparsable[0]; i++) {
        refused(unparsable[i], ASYNCOP_ERR_INVALID_ARG, msg, sizeof msg);
        printf("  %s -> %s\n", unparsable[i], msg);
    }
    for (i = 0; i < sizeof bad_schemas / sizeof bad_schemas[0]; i++) {
        snprintf(out, sizeof out, "schema=%s", bad_schemas[i]);
        cluster_target(target, sizeof target, out);
        refused(target, ASYNCOP_ERR_INVALID_ARG, msg, sizeof msg);
        CHECK(strstr(msg, "schema") != NULL);
    }
    /* No schema of any of those names (folded or not) was created. */
    CHECK(strcmp(psql("SELECT count(*) FROM pg_namespace WHERE lower(nspname) IN "
                      "('upper', '1digit', 'has-dash', 'has_dash', 'semi;colon')",
                      out, sizeof out),
                 "0") == 0);
    snprintf(out, sizeof out, "schema=t%ld_pool&pool_size=0", (long)getpid());
    refused(cluster_target(target, sizeof target, out), ASYNCOP_ERR_INVALID_ARG, msg, sizeof msg);
    snprintf(out, sizeof out, "schema=t%ld_pool&pool_size=many", (long)getpid());
    cluster_target(target, sizeof target, out);
    refused(target, ASYNCOP_ERR_INVALID_ARG, msg, sizeof msg);
    snprintf(out, sizeof out, "SELECT count(*) FROM pg_namespace WHERE nspname = 't%ld_pool'",
             (long)getpid());
    CHECK(strcmp(psql(out, out, sizeof out), "0") == 0);

    /* A server that is down: IO, naming where it tried, never the password. */
    snprintf(target, sizeof target, "postgres://someone:%s@127.0.0.1:%d/asyncop?schema=x", PASSWORD,
             port);
    refused(target, ASYNCOP_ERR_IO, msg, sizeof msg);
    printf("  down (URL) -> %s\n", msg);
    CHECK(strstr(msg, PASSWORD) == NULL);
    snprintf(out, sizeof out, "127.0.0.1:%d", port);
    CHECK(strstr(msg, out) != NULL);
    snprintf(target, sizeof target,
             "host=127.0.0.1 port=%d user=someone password=%s dbname=asyncop connect_timeout=5",
             port, PASSWORD);
    refused(target, ASYNCOP_ERR_IO, msg, sizeof msg);
    printf("  down (conninfo) -> %s\n", msg);
    CHECK(strstr(msg, PASSWORD) == NULL);
    CHECK(test_dir_entries(test_dir()) == 0);
}

static void accepted_forms(void) {
    char target[1024], user[64] = "", host[64] = "", db[64] = "", out[256], words[256];
    int port = 0;
    size_t i;
    int64_t id = 0;
    asyncop_queue *q;

    /* The URL with ?schema=: created on first open, the queue lives there. */
    snprintf(out, sizeof out, "schema=t%ld_url", (long)getpid());
    q = test_open(cluster_target(target, sizeof target, out), NULL);
    id = test_submit(q, "by url", 3);
    CHECK(id == 1);
    CHECK_OK(asyncop_queue_close(q));
    snprintf(out, sizeof out, "SELECT count(*) FROM t%ld_url.operation", (long)getpid());
    CHECK(strcmp(psql(out, out, sizeof out), "1") == 0);

    /* The same queue through conninfo words. */
    REQUIRE(sscanf(base_url, "postgres%*[^:]://%63[^@]@%63[^:]:%d/%63s", user, host, &port, db) == 4 ||
            sscanf(base_url, "postgres://%63[^@]@%63[^:]:%d/%63s", user, host, &port, db) == 4);
    snprintf(words, sizeof words, "%s", extra); /* "&k=v&k2=v2" -> " k=v k2=v2" */
    for (i = 0; words[i] != '\0'; i++) {
        if (words[i] == '&') words[i] = ' ';
    }
    snprintf(target, sizeof target, "host=%s port=%d user=%s dbname=%s schema=t%ld_url pool_size=2%s",
             host, port, user, db, (long)getpid(), words);
    q = test_open(target, NULL);
    CHECK(test_total(q) == 1);
    CHECK_OK(asyncop_queue_close(q));
}

static void newer_schema(void) {
    char target[1024], sql[256], out[256], msg[1024];
    long pid = (long)getpid();
    asyncop_queue *q;

    snprintf(sql, sizeof sql, "schema=t%ld_newer", pid);
    cluster_target(target, sizeof target, sql);
    q = test_open(target, NULL);
    (void)test_submit(q, "before", 4);
    CHECK_OK(asyncop_queue_close(q));
    snprintf(sql, sizeof sql, "UPDATE t%ld_newer.schema_version SET version = 999", pid);
    psql(sql, out, sizeof out);

    refused(target, ASYNCOP_ERR_CORRUPT, msg, sizeof msg);
    printf("  newer schema -> %s\n", msg);
    CHECK(strstr(msg, "999") != NULL);
    snprintf(sql, sizeof sql, "SELECT string_agg(version::text, ',') FROM t%ld_newer.schema_version",
             pid);
    CHECK(strcmp(psql(sql, out, sizeof out), "999") == 0);
    snprintf(sql, sizeof sql, "SELECT count(*) || '/' || max(modified_on) = '1/' || min(created_on) "
                              "FROM t%ld_newer.operation", pid);
    CHECK(strcmp(psql(sql, out, sizeof out), "t") == 0);
}

int main(void) {
    const char *url = getenv("ASYNCOP_TEST_POSTGRES");
    test_begin("pg_target", 120);
    if (url == NULL || *url == '\0') {
        fprintf(stderr, "FAIL pg_target: ASYNCOP_TEST_POSTGRES is not set (tests/c/run sets it)\n");
        return 1;
    }
    snprintf(base_url, sizeof base_url, "%s", url);
    if (strchr(url, '?') != NULL) snprintf(extra, sizeof extra, "&%s", strchr(url, '?') + 1);
    base_url[strcspn(base_url, "?")] = '\0';
    bad_targets();
    accepted_forms();
    newer_schema();
    return test_end();
}
