/* tests/c-install/app.c: a C program built against the installed asyncop
 * (tests/c-install/run compiles it with `pkg-config --cflags --libs asyncop` only).
 * It submits an operation, claims it, completes it and reads its state back, and
 * checks that the library it loaded is the version its header announced. */
#include <asyncop.h>
#include <stdio.h>
#include <string.h>

static int fail(const char *what, asyncop_status rc) {
    char msg[512];
    msg[0] = '\0';
    (void)asyncop_last_error_message(msg, sizeof msg);
    fprintf(stderr, "%s: status %d: %s\n", what, (int)rc, msg);
    return 1;
}

int main(int argc, char **argv) {
    asyncop_queue *q = NULL;
    asyncop_lease *leases[1];
    size_t n = 0;
    int64_t id = 0;
    int32_t status = 0;
    asyncop_status rc;
    const char *version;

    if (argc != 2) {
        fprintf(stderr, "usage: app QUEUE_FILE\n");
        return 2;
    }
    version = asyncop_version();
    printf("library %s, header %d.%d.%d\n", version, ASYNCOP_VERSION_MAJOR,
           ASYNCOP_VERSION_MINOR, ASYNCOP_VERSION_PATCH);

    rc = asyncop_queue_open(argv[1], NULL, &q);
    if (rc != ASYNCOP_OK) return fail("open", rc);
    rc = asyncop_queue_submit(q, "installed", 100, (const uint8_t *)"{}", 2, NULL,
                              ASYNCOP_TIME_NONE, NULL, &id);
    if (rc != ASYNCOP_OK) return fail("submit", rc);
    rc = asyncop_queue_poll(q, "host-1", NULL, 0, 0, leases, 1, &n);
    if (rc != ASYNCOP_OK) return fail("poll", rc);
    if (n != 1) {
        fprintf(stderr, "poll claimed %zu operations, expected 1\n", n);
        return 1;
    }
    rc = asyncop_lease_complete(leases[0], &status);
    if (rc != ASYNCOP_OK) return fail("complete", rc);
    asyncop_lease_free(leases[0]);
    if (status != ASYNCOP_STATUS_SUCCEEDED) {
        fprintf(stderr, "status %d after complete, expected %d\n", (int)status,
                (int)ASYNCOP_STATUS_SUCCEEDED);
        return 1;
    }
    asyncop_queue_close(q);
    printf("operation %lld succeeded\n", (long long)id);
    return 0;
}
