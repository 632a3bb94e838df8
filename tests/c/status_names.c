/*
 * status_names: every status code has its C name and the right HRESULT
 * (the Dynamics refusals are their HRESULT as a negative int32_t, asyncop's
 * own codes have none: 0); unknown codes give "unknown" and 0; the enum
 * values match the documented HRESULTs; the version macros agree with each
 * other, with asyncop_version() / asyncop_abi_version() and with Cargo.toml
 * (when run from the repository root); none of these touch the last error.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

struct code {
    int32_t code;
    const char *name;
    uint32_t hresult; /* 0 for none */
};

#define C(name, hr) {(int32_t)name, #name, hr}
static const struct code codes[] = {
    C(ASYNCOP_OK, 0),
    C(ASYNCOP_ERR_INVALID_ARG, 0),
    C(ASYNCOP_ERR_NULL_ARG, 0),
    C(ASYNCOP_ERR_UTF8, 0),
    C(ASYNCOP_ERR_OUT_OF_RANGE, 0),
    C(ASYNCOP_ERR_BUFFER_TOO_SMALL, 0),
    C(ASYNCOP_ERR_INVALID_HANDLE, 0),
    C(ASYNCOP_ERR_CLOSED_HANDLE, 0),
    C(ASYNCOP_ERR_NOT_FOUND, 0),
    C(ASYNCOP_ERR_LEASE_LOST, 0),
    C(ASYNCOP_ERR_BUSY, 0),
    C(ASYNCOP_ERR_CORRUPT, 0),
    C(ASYNCOP_ERR_INTERNAL, 0),
    C(ASYNCOP_ERR_PANIC, 0),
    C(ASYNCOP_ERR_FORKED, 0),
    C(ASYNCOP_ERR_CALLBACK, 0),
    C(ASYNCOP_ERR_IO, 0),
    C(ASYNCOP_ERR_INVALID_STATE_CHANGE, 0x80044162u),
    C(ASYNCOP_ERR_INVALID_STATE_CHANGE_UNEXPECTED, 0x80044163u),
    C(ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_COMPLETE, 0x80044165u),
    C(ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_READY, 0x80044166u),
    C(ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED, 0x80044167u),
    C(ASYNCOP_ERR_CANNOT_UPDATE_NONRECURRING, 0x80044168u),
    C(ASYNCOP_ERR_CANNOT_UPDATE_RECURRING, 0x80044169u),
    C(ASYNCOP_ERR_CANNOT_DELETE_UNLESS_COMPLETED, 0x8004416au),
    C(ASYNCOP_ERR_TYPE_NOT_RECOGNIZED, 0x80044303u),
    C(ASYNCOP_ERR_CANNOT_CANCEL, 0x80044F00u),
    C(ASYNCOP_ERR_CANNOT_PAUSE, 0x80044F01u),
};
#undef C
#define N_CODES (sizeof codes / sizeof codes[0])

/* The numbers fixed by the conventions table (append only, never changed). */
static void fixed_numbers(void) {
    CHECK(ASYNCOP_OK == 0);
    CHECK(ASYNCOP_ERR_INVALID_ARG == 1);
    CHECK(ASYNCOP_ERR_NULL_ARG == 2);
    CHECK(ASYNCOP_ERR_UTF8 == 3);
    CHECK(ASYNCOP_ERR_OUT_OF_RANGE == 4);
    CHECK(ASYNCOP_ERR_BUFFER_TOO_SMALL == 5);
    CHECK(ASYNCOP_ERR_INVALID_HANDLE == 6);
    CHECK(ASYNCOP_ERR_CLOSED_HANDLE == 7);
    CHECK(ASYNCOP_ERR_NOT_FOUND == 8);
    CHECK(ASYNCOP_ERR_LEASE_LOST == 9);
    CHECK(ASYNCOP_ERR_BUSY == 10);
    CHECK(ASYNCOP_ERR_CORRUPT == 11);
    CHECK(ASYNCOP_ERR_INTERNAL == 12);
    CHECK(ASYNCOP_ERR_PANIC == 13);
    CHECK(ASYNCOP_ERR_FORKED == 14);
    CHECK(ASYNCOP_ERR_CALLBACK == 15);
    CHECK(ASYNCOP_ERR_IO == 16);
    CHECK(sizeof(asyncop_status) == sizeof(int32_t));
    /* Other constants of the header. */
    CHECK(ASYNCOP_TIME_NONE == INT64_MIN);
    CHECK(ASYNCOP_ANY == -1 && ASYNCOP_STATUS_NONE == INT32_MIN);
    CHECK(ASYNCOP_STATE_READY == 0 && ASYNCOP_STATE_SUSPENDED == 1 && ASYNCOP_STATE_LOCKED == 2 &&
          ASYNCOP_STATE_COMPLETED == 3);
    CHECK(ASYNCOP_STATUS_WAITING_FOR_RESOURCES == 0 && ASYNCOP_STATUS_WAITING == 10 &&
          ASYNCOP_STATUS_IN_PROGRESS == 20 && ASYNCOP_STATUS_PAUSING == 21 &&
          ASYNCOP_STATUS_CANCELING == 22 && ASYNCOP_STATUS_SUCCEEDED == 30 &&
          ASYNCOP_STATUS_FAILED == 31 && ASYNCOP_STATUS_CANCELED == 32);
    CHECK(ASYNCOP_OUTCOME_FAILED == 0 && ASYNCOP_OUTCOME_CANCELED == 1 &&
          ASYNCOP_OUTCOME_RETRY == 2 && ASYNCOP_OUTCOME_SUSPENDED == 3 &&
          ASYNCOP_OUTCOME_SUCCEEDED == 4);
    CHECK(ASYNCOP_DURABILITY_FULL == 0 && ASYNCOP_DURABILITY_NORMAL == 1);
}

static void names_and_hresults(void) {
    size_t i, j;
    for (i = 0; i < N_CODES; i++) {
        const char *name = asyncop_status_name(codes[i].code);
        int32_t hr = asyncop_status_hresult(codes[i].code);
        CHECK(name != NULL);
        if (name == NULL || strcmp(name, codes[i].name) != 0) {
            fprintf(stderr, "    code %ld: name \"%s\", want \"%s\"\n", (long)codes[i].code,
                    name ? name : "(null)", codes[i].name);
            CHECK(!"wrong status name");
        }
        if (hr != (int32_t)codes[i].hresult) {
            fprintf(stderr, "    %s: hresult %ld, want %ld\n", codes[i].name, (long)hr,
                    (long)(int32_t)codes[i].hresult);
            CHECK(!"wrong HRESULT");
        }
        /* A refusal's code is its HRESULT. */
        if (codes[i].hresult != 0) CHECK(codes[i].code == (int32_t)codes[i].hresult);
        if (codes[i].hresult == 0) CHECK(codes[i].code >= 0);
        /* Names are unique. */
        for (j = 0; j < i; j++) CHECK(codes[i].code != codes[j].code);
    }
    /* The example from the header. */
    CHECK(asyncop_status_hresult(ASYNCOP_ERR_CANNOT_CANCEL) == (int32_t)0x80044F00u);
}

static void unknown_codes(void) {
    static const int32_t unknown[] = {17, 18, 99, 1000, -1, -2, INT32_MAX, INT32_MIN,
                                      (int32_t)0x80044164u, (int32_t)0x80044F02u,
                                      (int32_t)0x80004005u /* E_FAIL */};
    size_t i;
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *name = asyncop_status_name(unknown[i]);
        CHECK(name != NULL && strcmp(name, "unknown") == 0);
        CHECK(asyncop_status_hresult(unknown[i]) == 0);
    }
}

/* version = "x.y.z" under [package] in Cargo.toml, or "" if unreadable. */
static void cargo_version(char *out, size_t cap) {
    FILE *f = fopen("Cargo.toml", "r");
    char line[512];
    int in_package = 0;
    out[0] = '\0';
    if (f == NULL) return;
    while (fgets(line, sizeof line, f) != NULL) {
        if (line[0] == '[') in_package = strncmp(line, "[package]", 9) == 0;
        if (in_package && strncmp(line, "version", 7) == 0) {
            char *a = strchr(line, '"'), *b = a ? strchr(a + 1, '"') : NULL;
            if (a && b && (size_t)(b - a - 1) < cap) {
                memcpy(out, a + 1, (size_t)(b - a - 1));
                out[b - a - 1] = '\0';
            }
            break;
        }
    }
    fclose(f);
}

static void versions(void) {
    char want[64], cargo[64];
    const char *v = asyncop_version();
    snprintf(want, sizeof want, "%d.%d.%d", ASYNCOP_VERSION_MAJOR, ASYNCOP_VERSION_MINOR,
             ASYNCOP_VERSION_PATCH);
    CHECK(v != NULL);
    CHECK(v != NULL && strcmp(v, want) == 0);
    CHECK(asyncop_version() == v); /* static */
    CHECK(ASYNCOP_VERSION_NUMBER == ASYNCOP_VERSION_MAJOR * 10000 + ASYNCOP_VERSION_MINOR * 100 +
                                        ASYNCOP_VERSION_PATCH);
    CHECK(ASYNCOP_VERSION_MINOR < 100 && ASYNCOP_VERSION_PATCH < 100);
    CHECK(asyncop_abi_version() == ASYNCOP_ABI_VERSION);
    CHECK(ASYNCOP_ABI_VERSION >= 1);
    cargo_version(cargo, sizeof cargo);
    if (cargo[0] != '\0') {
        if (strcmp(cargo, want) != 0) {
            fprintf(stderr, "    Cargo.toml says %s, the header %s\n", cargo, want);
            CHECK(!"header version differs from Cargo.toml");
        }
    } else {
        printf("  (Cargo.toml not found in the working directory: version cross-check skipped)\n");
    }
    printf("  library %s, ABI %u\n", v ? v : "(null)", (unsigned)asyncop_abi_version());
}

/* None of the above touch the last error. */
static void last_error_untouched(void) {
    char path[700];
    asyncop_queue *q = NULL;
    size_t n;
    snprintf(path, sizeof path, "%s/missing/q.db", test_dir());
    CHECK_RC(ASYNCOP_ERR_IO, asyncop_queue_open(path, NULL, &q));
    n = asyncop_last_error_message(NULL, 0);
    CHECK(n > 0);
    names_and_hresults();
    unknown_codes();
    (void)asyncop_version();
    (void)asyncop_abi_version();
    CHECK(asyncop_last_error_message(NULL, 0) == n);
}

int main(void) {
    test_begin("status_names", 60);
    fixed_numbers();
    names_and_hresults();
    unknown_codes();
    versions();
    last_error_untouched();
    return test_end();
}
