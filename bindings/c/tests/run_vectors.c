/*
 * Conformance vectors through the C ABI: every `command` of tests/vectors/vectors.txt goes
 * through sa_apply and its result must equal the `expect` line byte for byte. Also checks that
 * sa_apply's status mirrors the result (SA_OK for {"ok":...}, the code's status for an error).
 * Format (tests/vectors/README.md): one item per line, split at the first space.
 * Usage: run_vectors PATH/TO/vectors.txt. Prints "N passed, N failed".
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support_access.h"

static unsigned long passed, failed;

static void fail(const char *vector, unsigned long line, const char *what, const char *expected, const char *got) {
    failed++;
    printf("FAIL %s (line %lu): %s\n  expected: %.400s\n  got:      %.400s\n", vector, line, what,
           expected ? expected : "(null)", got ? got : "(null)");
}

/* The status a result implies: SA_OK for {"ok", else the status whose name is the code. */
static int status_matches(sa_status status, const char *result) {
    static const char prefix[] = "{\"error\":{\"code\":\"";
    if (strncmp(result, "{\"ok\":", 6) == 0) return status == SA_OK;
    if (strncmp(result, prefix, sizeof prefix - 1) != 0) return 0;
    const char *code = result + sizeof prefix - 1;
    const char *name = sa_status_name(status);
    size_t n = strlen(name);
    return name != NULL && strncmp(code, name, n) == 0 && code[n] == '"';
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s vectors.txt\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        printf("0 passed, 1 failed\n");
        return 1;
    }
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long lineno = 0, vectors = 0;
    char *vector = strdup("(none)");
    sa_policy *policy = NULL;
    char *result = NULL;
    sa_status last_status = SA_OK;
    int have_result = 0;

    while ((len = getline(&buf, &cap, f)) != -1) {
        lineno++;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) buf[--len] = '\0';
        if (len == 0 || buf[0] == '#') continue;
        char *space = strchr(buf, ' ');
        const char *rest = space ? space + 1 : "";
        if (space) *space = '\0';
        const char *kind = buf;

        if (strcmp(kind, "vector") == 0) {
            free(vector);
            vector = strdup(rest);
            vectors++;
        } else if (strcmp(kind, "policy") == 0) {
            sa_policy_free(policy);
            policy = NULL;
            sa_status s = sa_policy_new(rest, &policy);
            if (s != SA_OK) fail(vector, lineno, "sa_policy_new failed", "SA_OK", sa_last_error_message());
        } else if (strcmp(kind, "command") == 0) {
            sa_string_free(result);
            result = NULL;
            last_status = sa_apply(policy, rest, &result);
            have_result = 1;
        } else if (strcmp(kind, "expect") == 0) {
            if (!have_result || result == NULL) {
                fail(vector, lineno, "no result to compare (missing command or policy)", rest, NULL);
            } else if (strcmp(result, rest) != 0) {
                fail(vector, lineno, "result bytes differ", rest, result);
            } else if (!status_matches(last_status, result)) {
                fail(vector, lineno, "status does not mirror the result", result, sa_status_name(last_status));
            } else {
                passed++;
            }
            have_result = 0;
        } else if (strcmp(kind, "end") == 0) {
            sa_policy_free(policy);
            policy = NULL;
            sa_string_free(result);
            result = NULL;
            have_result = 0;
        } else {
            fail(vector, lineno, "unknown line kind", "vector|policy|command|expect|end", kind);
        }
    }
    sa_policy_free(policy);
    sa_string_free(result);
    free(vector);
    free(buf);
    fclose(f);
    if (vectors == 0 || passed == 0) fail("(file)", lineno, "no vectors found", ">0", "0");
    printf("%lu vectors read\n", vectors);
    printf("%lu passed, %lu failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
