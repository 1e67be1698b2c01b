/*
 * C ABI abuse tests (issue 8, "FFI abuse"): NULL in every pointer argument, valid-length buffers
 * that are not NUL-terminated (sa_apply_n with lengths 0 and 1), invalid UTF-8 in every string
 * argument, a 64 MiB command, 1 MiB deep JSON nesting, calls after errors (the exported record must not change), and
 * repeated create/free cycles. Every call must return a typed status: never crash, abort, or
 * SA_PANIC. Prints "N passed, N failed"; exits non-zero on any failure. The xtask runs it under
 * valgrind and under AddressSanitizer + UBSan.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

/* A failure with a typed, named status that is neither OK nor PANIC, and a message. */
#define EXPECT_TYPED_ERROR(call)                                                                \
    do {                                                                                        \
        sa_status got_ = (call);                                                                \
        CHECK(got_ != SA_OK && got_ != SA_PANIC && sa_status_name(got_) != NULL &&              \
                  sa_last_error_message() != NULL && sa_last_error_message()[0],                \
              "%s: got %s (%u)", #call, sa_status_name(got_), (unsigned)got_);                 \
    } while (0)

static int contains(const char *hay, const char *needle) { return hay && strstr(hay, needle) != NULL; }

#define OWNER "{\"id\":\"alice\",\"roles\":[{\"role\":\"ORG_OWNER\"}]}"
#define OPTIONS "{\"orgId\":\"org-1\",\"restrictEmployeeAccess\":true,\"maxGrantDurationMs\":86400000}"

/* 2026-11-28T10:00:00Z */
static const int64_t T0 = 1795860000000LL;
static const int64_t HOUR = 3600000LL;

/* Invalid UTF-8 strings, all NUL-terminated: a lone continuation byte, an overlong encoding, a
 * UTF-16 surrogate, a truncated sequence, 0xFF, and one inside otherwise valid JSON. */
static const char *const BAD_UTF8[] = {
    "\x80",
    "\xC0\xAF",
    "\xED\xA0\x80",
    "\xE2\x82",
    "\xFF\xFE",
    "{\"id\":\"al\xFFice\",\"roles\":[{\"role\":\"ORG_OWNER\"}]}",
};
#define N_BAD (sizeof BAD_UTF8 / sizeof BAD_UTF8[0])

static char *export_record(const sa_policy *p) {
    char *r = NULL;
    sa_status s = sa_export_record(p, &r);
    CHECK(s == SA_OK && r != NULL, "export_record: %s", sa_status_name(s));
    return r;
}

static sa_policy *setup_policy(void) {
    sa_policy *p = NULL;
    EXPECT(sa_policy_new(OPTIONS, &p), SA_OK);
    if (!p) return NULL;
    EXPECT(sa_add_project(p, OWNER, "p1", T0), SA_OK);
    EXPECT(sa_add_cluster(p, OWNER, "p1", "Cluster0", SA_CLUSTER_KIND_DEDICATED, true, T0), SA_OK);
    int64_t exp = 0;
    EXPECT(sa_grant(p, OWNER, "Cluster0", SA_GRANT_TYPE_CLUSTER_INFRASTRUCTURE, T0, true, T0 + HOUR, &exp),
           SA_OK);
    return p;
}

/* The record must be byte-identical to `before`. */
static void check_unchanged(const sa_policy *p, const char *before, const char *what) {
    char *now = export_record(p);
    CHECK(now && before && strcmp(now, before) == 0, "record changed after %s", what);
    sa_string_free(now);
}

/* `arg` (NULL, or a string that is not UTF-8) in each string argument of every call that takes
 * one, one position at a time. NULL must answer SA_NULL_ARGUMENT everywhere; a bad actor or
 * options string MALFORMED_INPUT; a bad name, record or project id any typed error (which one
 * depends on where the reading stops). */
static void each_string_argument(sa_policy *p, const char *arg) {
    const bool null = arg == NULL;
#define AS_ACTOR(call) EXPECT(call, null ? SA_NULL_ARGUMENT : SA_MALFORMED_INPUT)
#define AS_NAME(call)                          \
    do {                                       \
        if (null) {                            \
            EXPECT(call, SA_NULL_ARGUMENT);    \
        } else {                               \
            EXPECT_TYPED_ERROR(call);          \
        }                                      \
    } while (0)
    sa_decision d;
    uint32_t id;
    bool has;
    int64_t ms, exp;
    uint64_t events, seq;
    sa_policy *q = (sa_policy *)0x1;
    char *s = (char *)0x1;

    AS_ACTOR(sa_policy_new(arg, &q));
    CHECK(q == NULL, "out_policy reset to NULL (options)");
    q = (sa_policy *)0x1;
    AS_NAME(sa_policy_from_record(arg, &q));
    CHECK(q == NULL, "out_policy reset to NULL (record)");
    AS_ACTOR(sa_apply(p, arg, &s));
    CHECK(null ? s == NULL : contains(s, "{\"error\":{\"code\":\"MALFORMED_INPUT\""), "apply: %s",
          s ? s : "(null)");
    sa_string_free(s);
    s = (char *)0x1;
    AS_ACTOR(sa_apply_n(p, (const uint8_t *)arg, null ? 0 : strlen(arg), &s));
    CHECK(null ? s == NULL : contains(s, "MALFORMED_INPUT"), "apply_n: %s", s ? s : "(null)");
    sa_string_free(s);
    AS_ACTOR(sa_set_restriction(p, arg, false, T0));
    AS_ACTOR(sa_add_project(p, arg, "p2", T0));
    AS_NAME(sa_add_project(p, OWNER, arg, T0));
    AS_ACTOR(sa_add_cluster(p, arg, "p1", "C1", SA_CLUSTER_KIND_DEDICATED, false, T0));
    AS_NAME(sa_add_cluster(p, OWNER, arg, "C1", SA_CLUSTER_KIND_DEDICATED, false, T0));
    AS_NAME(sa_add_cluster(p, OWNER, "p1", arg, SA_CLUSTER_KIND_DEDICATED, false, T0));
    AS_ACTOR(sa_grant(p, arg, "Cluster0", SA_GRANT_TYPE_CLUSTER_DATABASE_LOGS, T0, false, 0, &exp));
    AS_NAME(sa_grant(p, OWNER, arg, SA_GRANT_TYPE_CLUSTER_DATABASE_LOGS, T0, false, 0, &exp));
    AS_ACTOR(sa_revoke(p, arg, "Cluster0", T0));
    AS_NAME(sa_revoke(p, OWNER, arg, T0));
    AS_NAME(sa_cluster_id(p, arg, &id));
    AS_NAME(sa_evaluate(p, arg, SA_RESOURCE_INFRASTRUCTURE, T0, &d));
    AS_NAME(sa_remaining(p, arg, T0, &has, &ms));
    AS_NAME(sa_verify_record(arg, &events, &seq));
#undef AS_ACTOR
#undef AS_NAME
}

/* Every pointer argument NULL, alone and all at once. */
static void test_nulls(void) {
    sa_policy *p = setup_policy();
    char *before = export_record(p);
    sa_decision d;
    bool has;
    int64_t ms;
    uint64_t events, seq;
    char *s;

    /* Everything NULL at once. */
    EXPECT(sa_policy_new(NULL, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_policy_from_record(NULL, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_apply(NULL, NULL, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_apply_n(NULL, NULL, 0, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_apply_n(NULL, NULL, 12345, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_set_restriction(NULL, NULL, false, 0), SA_NULL_ARGUMENT);
    EXPECT(sa_add_project(NULL, NULL, NULL, 0), SA_NULL_ARGUMENT);
    EXPECT(sa_add_cluster(NULL, NULL, NULL, NULL, 0, false, 0), SA_NULL_ARGUMENT);
    EXPECT(sa_grant(NULL, NULL, NULL, 0, 0, true, 0, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_revoke(NULL, NULL, NULL, 0), SA_NULL_ARGUMENT);
    EXPECT(sa_expire_due(NULL, 0, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_cluster_id(NULL, NULL, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_evaluate_id(NULL, 0, 0, 0, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_evaluate(NULL, NULL, 0, 0, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_remaining(NULL, NULL, 0, NULL, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_export_record(NULL, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_verify_record(NULL, NULL, NULL), SA_NULL_ARGUMENT);
    sa_policy_free(NULL);
    sa_string_free(NULL);
    CHECK(sa_last_error_message() != NULL, "a message after NULL_ARGUMENT");

    /* One NULL at a time, on a live policy: first in each string argument, then in each
     * out-pointer. */
    each_string_argument(p, NULL);
    EXPECT(sa_policy_new(OPTIONS, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_policy_from_record(before, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_apply_n(p, (const uint8_t *)"{}", 2, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_expire_due(p, T0, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_cluster_id(p, "Cluster0", NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_evaluate_id(p, 0, SA_RESOURCE_INFRASTRUCTURE, T0, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_evaluate(p, "Cluster0", SA_RESOURCE_INFRASTRUCTURE, T0, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_remaining(p, "Cluster0", T0, NULL, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_remaining(p, "Cluster0", T0, NULL, &ms), SA_NULL_ARGUMENT);
    EXPECT(sa_remaining(p, "Cluster0", T0, &has, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_export_record(p, NULL), SA_NULL_ARGUMENT);
    s = (char *)0x1;
    EXPECT(sa_export_record(NULL, &s), SA_NULL_ARGUMENT);
    CHECK(s == NULL, "out_record reset to NULL");
    EXPECT(sa_verify_record(before, NULL, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_verify_record(before, NULL, &seq), SA_NULL_ARGUMENT);
    EXPECT(sa_verify_record(before, &events, NULL), SA_NULL_ARGUMENT);

    check_unchanged(p, before, "NULL arguments");
    /* The policy still works. */
    EXPECT(sa_evaluate(p, "Cluster0", SA_RESOURCE_INFRASTRUCTURE, T0 + 1, &d), SA_OK);
    CHECK(d.allowed, "grant still allows after NULL abuse");
    sa_string_free(before);
    sa_policy_free(p);
}

/* sa_apply_n with buffers that are valid memory but have no NUL terminator. */
static void test_apply_n_buffers(void) {
    sa_policy *p = setup_policy();
    char *before = export_record(p);
    char *s;

    /* Exactly-sized heap buffers (no terminator): ASan/valgrind flag any read past the end. */
    static const char *const cmds[] = {"{", "}", "\"", "[", "0", " ", "\x80", "\0"};
    for (size_t len = 0; len <= 1; len++) {
        for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
            uint8_t *buf = malloc(len ? len : 1);
            if (!buf) abort();
            memcpy(buf, cmds[i], 1);
            s = NULL;
            sa_status st = sa_apply_n(p, buf, len, &s);
            CHECK(st == SA_MALFORMED_INPUT, "apply_n len %zu byte 0x%02x: %s", len, (unsigned)buf[0],
                  sa_status_name(st));
            CHECK(contains(s, "\"error\"") && contains(s, "MALFORMED_INPUT"), "JSON error: %s",
                  s ? s : "(null)");
            sa_string_free(s);
            free(buf);
        }
    }

    /* A complete valid command in an exact-size buffer works without a terminator. */
    const char good[] = "{\"op\":\"evaluate\",\"cluster\":\"Cluster0\",\"resource\":\"INFRASTRUCTURE\","
                        "\"now\":\"2026-11-28T10:30:00.000Z\"}";
    size_t glen = sizeof good - 1;
    uint8_t *gbuf = malloc(glen);
    if (!gbuf) abort();
    memcpy(gbuf, good, glen);
    s = NULL;
    EXPECT(sa_apply_n(p, gbuf, glen, &s), SA_OK);
    CHECK(contains(s, "\"ok\""), "ok result: %s", s ? s : "(null)");
    sa_string_free(s);
    /* Every proper prefix of it is malformed (and never read past its length). */
    for (size_t len = 0; len < glen; len++) {
        s = NULL;
        sa_status st = sa_apply_n(p, gbuf, len, &s);
        CHECK(st == SA_MALFORMED_INPUT, "prefix %zu: %s", len, sa_status_name(st));
        CHECK(contains(s, "\"error\""), "prefix %zu JSON error", len);
        sa_string_free(s);
    }
    free(gbuf);

    /* A NUL inside the length. */
    const uint8_t with_nul[] = {'{', '\0', '}'};
    s = NULL;
    EXPECT(sa_apply_n(p, with_nul, sizeof with_nul, &s), SA_MALFORMED_INPUT);
    sa_string_free(s);

    check_unchanged(p, before, "apply_n buffer abuse");
    sa_string_free(before);
    sa_policy_free(p);
}

/* Invalid UTF-8 in every string argument: a typed error, never a crash, state unchanged. */
static void test_invalid_utf8(void) {
    sa_policy *p = setup_policy();
    char *before = export_record(p);
    uint64_t events, seq;
    sa_policy *q;

    for (size_t i = 0; i < N_BAD; i++) each_string_argument(p, BAD_UTF8[i]);
    check_unchanged(p, before, "invalid UTF-8");

    /* A record with invalid UTF-8 spliced into the middle of a valid one. */
    size_t rlen = strlen(before);
    char *bad_rec = malloc(rlen + 1);
    if (!bad_rec) abort();
    memcpy(bad_rec, before, rlen + 1);
    bad_rec[rlen / 2] = (char)0xFF;
    EXPECT_TYPED_ERROR(sa_verify_record(bad_rec, &events, &seq));
    q = (sa_policy *)0x1;
    EXPECT_TYPED_ERROR(sa_policy_from_record(bad_rec, &q));
    CHECK(q == NULL, "no policy from a bad record");
    free(bad_rec);

    sa_string_free(before);
    sa_policy_free(p);
}

static double seconds_since(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A 64 MiB command (and actor): MALFORMED_INPUT with a JSON error, quickly, nothing changed. */
static void test_huge(void) {
    sa_policy *p = setup_policy();
    char *before = export_record(p);
    const size_t len = (size_t)64 << 20;
    char *huge = malloc(len + 1);
    if (!huge) abort();
    /* A syntactically plausible command: {"op":"evaluate","cluster":"aaaa…"} */
    memset(huge, 'a', len);
    const char head[] = "{\"op\":\"evaluate\",\"cluster\":\"";
    memcpy(huge, head, sizeof head - 1);
    memcpy(huge + len - 2, "\"}", 2);
    huge[len] = '\0';

    /* Generous limit: valgrind slows the byte scan ~50x; natively it takes milliseconds. */
    const double limit = 30.0;
    struct timespec t0;
    char *s = NULL;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    EXPECT(sa_apply(p, huge, &s), SA_MALFORMED_INPUT);
    double took = seconds_since(&t0);
    CHECK(took < limit, "64 MiB sa_apply took %.1f s", took);
    CHECK(contains(s, "{\"error\":{\"code\":\"MALFORMED_INPUT\""), "huge apply JSON error");
    CHECK(s && strlen(s) < 4096, "the error does not echo the input");
    sa_string_free(s);

    s = NULL;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    EXPECT(sa_apply_n(p, (const uint8_t *)huge, len, &s), SA_MALFORMED_INPUT);
    took = seconds_since(&t0);
    CHECK(took < limit, "64 MiB sa_apply_n took %.1f s", took);
    CHECK(contains(s, "MALFORMED_INPUT"), "huge apply_n JSON error");
    sa_string_free(s);

    /* Invalid UTF-8 at the very end of the huge buffer. */
    huge[len - 1] = (char)0xFF;
    s = NULL;
    EXPECT(sa_apply_n(p, (const uint8_t *)huge, len, &s), SA_MALFORMED_INPUT);
    CHECK(contains(s, "MALFORMED_INPUT"), "huge bad UTF-8 JSON error");
    sa_string_free(s);
    huge[len - 1] = '}';

    /* A 64 MiB actor and a 64 MiB cluster name through the typed API. */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    EXPECT(sa_set_restriction(p, huge, false, T0), SA_MALFORMED_INPUT);
    memset(huge, 'a', len);
    int64_t exp;
    EXPECT_TYPED_ERROR(sa_grant(p, OWNER, huge, SA_GRANT_TYPE_CLUSTER_DATABASE_LOGS, T0, false, 0, &exp));
    EXPECT_TYPED_ERROR(sa_add_cluster(p, OWNER, "p1", huge, SA_CLUSTER_KIND_DEDICATED, false, T0));
    sa_decision d;
    EXPECT_TYPED_ERROR(sa_evaluate(p, huge, SA_RESOURCE_INFRASTRUCTURE, T0, &d));
    took = seconds_since(&t0);
    CHECK(took < 2 * limit, "64 MiB typed arguments took %.1f s", took);

    free(huge);
    check_unchanged(p, before, "a 64 MiB command");
    sa_string_free(before);
    sa_policy_free(p);
}

/* Deeply nested JSON (1 MiB of '[' or '{"a":') in every JSON argument: a depth limit, not a
 * stack overflow (which would abort the host process). */
static void test_deep_nesting(void) {
    sa_policy *p = setup_policy();
    char *before = export_record(p);
    const size_t n = (size_t)1 << 20;
    char *b = malloc(n + 1);
    if (!b) abort();
    static const char *const pats[] = {"[", "{\"a\":", "{\"op\":"};
    for (size_t k = 0; k < sizeof pats / sizeof pats[0]; k++) {
        size_t pl = strlen(pats[k]), i = 0;
        for (; i + pl <= n; i += pl) memcpy(b + i, pats[k], pl);
        b[i] = '\0';
        char *s = NULL;
        EXPECT(sa_apply(p, b, &s), SA_MALFORMED_INPUT);
        CHECK(contains(s, "MALFORMED_INPUT"), "deep apply JSON error");
        sa_string_free(s);
        sa_policy *q = (sa_policy *)0x1;
        EXPECT(sa_policy_new(b, &q), SA_MALFORMED_INPUT);
        CHECK(q == NULL, "no policy from deep options");
        q = (sa_policy *)0x1;
        EXPECT_TYPED_ERROR(sa_policy_from_record(b, &q));
        CHECK(q == NULL, "no policy from a deep record");
        uint64_t events, seq;
        EXPECT_TYPED_ERROR(sa_verify_record(b, &events, &seq));
        EXPECT(sa_set_restriction(p, b, false, T0), SA_MALFORMED_INPUT);
        int64_t exp;
        EXPECT(sa_grant(p, b, "Cluster0", SA_GRANT_TYPE_CLUSTER_DATABASE_LOGS, T0, false, 0, &exp),
               SA_MALFORMED_INPUT);
    }
    free(b);
    check_unchanged(p, before, "deeply nested JSON");
    sa_string_free(before);
    sa_policy_free(p);
}

/* After each failed call the record is byte-identical, and the policy keeps working. */
static void test_after_errors(void) {
    sa_policy *p = setup_policy();
    char *before = export_record(p);
    char *s;
    int64_t exp;
    size_t n;
    sa_decision d;
    static const char *const bad_cmds[] = {
        "",
        "null",
        "[]",
        "{}",
        "{\"op\":\"nope\"}",
        "{\"op\":\"grant\"}",
        "{\"op\":\"grant\",\"actor\":" OWNER ",\"cluster\":\"Nope\",\"grantType\":\"CLUSTER_INFRASTRUCTURE\","
        "\"now\":\"2026-11-28T10:00:00.000Z\"}",
        "{\"op\":\"addProject\",\"actor\":" OWNER ",\"projectId\":\"p1\",\"now\":\"2026-11-28T10:00:00.000Z\"}",
        "{\"op\":\"revoke\",\"actor\":{\"id\":\"x\",\"roles\":[]},\"cluster\":\"Cluster0\","
        "\"now\":\"2026-11-28T10:00:00.000Z\"}",
        "{\"op\":\"evaluate\",\"cluster\":\"Cluster0\",\"resource\":\"INFRASTRUCTURE\",\"now\":\"yesterday\"}",
        "{\"op\":\"importRecord\",\"record\":\"garbage\"}",
        "{\"op\":\"addProject\",\"actor\":" OWNER ",\"projectId\":\"p2\",\"now\":\"2026-11-28T10:00:00.000Z\",\"x\":1}",
        "{\"op\":\"addProject\",\"actor\":" OWNER ",\"projectId\":\"p2\",\"now\":\"2026-11-28T10:00:00.000Z\"",
        "{\"op\":\"addProject\",\"actor\":" OWNER ",\"projectId\":\"p2\",\"now\":\"2026-11-28T10:00:00.000Z\"}}",
    };
    for (size_t i = 0; i < sizeof bad_cmds / sizeof bad_cmds[0]; i++) {
        s = NULL;
        sa_status st = sa_apply(p, bad_cmds[i], &s);
        CHECK(st != SA_OK && st != SA_PANIC && sa_status_name(st), "bad command %zu: %s", i, sa_status_name(st));
        CHECK(contains(s, "{\"error\":{\"code\":\""), "bad command %zu JSON error: %s", i, s ? s : "(null)");
        if (s && sa_status_name(st)) CHECK(contains(s, sa_status_name(st)), "status matches the JSON code");
        sa_string_free(s);
        check_unchanged(p, before, bad_cmds[i]);
    }
    /* Typed calls that fail. */
    EXPECT(sa_add_project(p, OWNER, "p1", T0), SA_DUPLICATE_PROJECT);
    check_unchanged(p, before, "duplicate project");
    EXPECT(sa_add_cluster(p, OWNER, "p1", "Cluster0", SA_CLUSTER_KIND_DEDICATED, false, T0),
           SA_DUPLICATE_CLUSTER);
    check_unchanged(p, before, "duplicate cluster");
    EXPECT(sa_add_cluster(p, OWNER, "p1", "-bad-", SA_CLUSTER_KIND_DEDICATED, false, T0),
           SA_INVALID_CLUSTER_NAME);
    EXPECT(sa_add_cluster(p, OWNER, "p1", "C9", (sa_cluster_kind)77, false, T0), SA_INVALID_ENUM_VALUE);
    EXPECT(sa_grant(p, OWNER, "Cluster0", (sa_grant_type)0xFFFFFFFFu, T0, false, 0, &exp), SA_INVALID_ENUM_VALUE);
    EXPECT(sa_grant(p, OWNER, "Cluster0", SA_GRANT_TYPE_CLUSTER_INFRASTRUCTURE, T0, true, T0 - 1, &exp),
           SA_EXPIRATION_NOT_IN_FUTURE);
    EXPECT(sa_grant(p, OWNER, "Cluster0", SA_GRANT_TYPE_CLUSTER_INFRASTRUCTURE, T0, true, INT64_MAX, &exp),
           SA_INVALID_TIMESTAMP);
    EXPECT_TYPED_ERROR(sa_grant(p, OWNER, "Cluster0", SA_GRANT_TYPE_CLUSTER_INFRASTRUCTURE, INT64_MIN, false, 0, &exp));
    EXPECT_TYPED_ERROR(sa_revoke(p, OWNER, "Cluster0", T0 - HOUR)); /* clock went backwards */
    EXPECT(sa_revoke(p, OWNER, "Nope", T0), SA_CLUSTER_NOT_FOUND);
    EXPECT(sa_set_restriction(p, "{\"id\":\"x\",\"roles\":[]}", false, T0), SA_FORBIDDEN);
    EXPECT_TYPED_ERROR(sa_expire_due(p, INT64_MAX, &n));
    EXPECT_TYPED_ERROR(sa_evaluate(p, "Cluster0", (sa_resource)9, T0, &d));
    EXPECT_TYPED_ERROR(sa_evaluate_id(p, 0xFFFFFFFFu, SA_RESOURCE_INFRASTRUCTURE, T0, &d));
    check_unchanged(p, before, "failed typed calls");

    /* The policy still works after all of that, and the record still verifies. */
    EXPECT(sa_evaluate(p, "Cluster0", SA_RESOURCE_INFRASTRUCTURE, T0 + 1, &d), SA_OK);
    CHECK(d.allowed && d.reason == SA_REASON_GRANT_ACTIVE, "still allowed");
    EXPECT(sa_revoke(p, OWNER, "Cluster0", T0 + 2), SA_OK);
    EXPECT(sa_evaluate(p, "Cluster0", SA_RESOURCE_INFRASTRUCTURE, T0 + 3, &d), SA_OK);
    CHECK(!d.allowed, "revoked denies");
    char *after = export_record(p);
    uint64_t events = 0, seq = 0;
    EXPECT(sa_verify_record(after, &events, &seq), SA_OK);
    CHECK(events > 0, "events counted");
    sa_policy *r = NULL;
    EXPECT(sa_policy_from_record(after, &r), SA_OK);
    char *again = r ? export_record(r) : NULL;
    CHECK(again && after && strcmp(again, after) == 0, "replay reproduces the record");
    sa_string_free(again);
    sa_policy_free(r);
    sa_string_free(after);
    sa_string_free(before);
    sa_policy_free(p);
}

/* Many create/use/free cycles; leak checkers (valgrind, LSan) see every allocation. */
static void test_cycles(void) {
    unsigned long bad = 0;
    for (int i = 0; i < 500; i++) {
        sa_policy *p = NULL;
        if (sa_policy_new(OPTIONS, &p) != SA_OK || !p) {
            bad++;
            continue;
        }
        char *s = NULL;
        if (sa_apply(p, "{\"op\":\"exportRecord\"}", &s) != SA_OK) bad++;
        sa_string_free(s);
        s = NULL;
        if (sa_apply(p, "\xFF", &s) != SA_MALFORMED_INPUT) bad++;
        sa_string_free(s);
        if (i % 2) {
            char *rec = NULL;
            if (sa_export_record(p, &rec) != SA_OK) bad++;
            sa_policy *q = NULL;
            if (sa_policy_from_record(rec, &q) != SA_OK) bad++;
            sa_policy_free(q);
            sa_string_free(rec);
        }
        sa_policy_free(p);
    }
    CHECK(bad == 0, "%lu failures in 500 create/free cycles", bad);
    /* Failed creations allocate nothing that leaks. */
    for (int i = 0; i < 200; i++) {
        sa_policy *p = NULL;
        sa_status st = sa_policy_new(i % 2 ? "{" : "\xC0", &p);
        if (st != SA_MALFORMED_INPUT || p) bad++;
    }
    CHECK(bad == 0, "%lu failures in 200 failed creations", bad);
}

/* The checkpoint entry points (SPEC section 9): NULL in every pointer argument, seeds of wrong
 * lengths, malformed key and checkpoint texts, invalid UTF-8, NULL items in the trusted keys,
 * free of NULL and create/free cycles. Typed statuses only; out-pointers reset; no leaks. */
static void test_checkpoint_abuse(void) {
    uint8_t seed[64];
    memset(seed, 3, sizeof seed);
    sa_signing_key *k = (sa_signing_key *)0x1;
    char *s = (char *)0x1;
    bool valid;
    sa_checkpoints_verified v;

    /* Everything NULL at once. */
    EXPECT(sa_signing_key_from_seed(NULL, 32, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_signing_key_parse(NULL, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_signing_key_text(NULL, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_signing_key_public_key(NULL, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_public_key_id(NULL, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_checkpoint_verify_signature(NULL, NULL, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_policy_checkpoint(NULL, NULL, 0, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_policy_verify_checkpoints(NULL, NULL, NULL, 0, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_verify_checkpoints(NULL, NULL, NULL, 0, NULL), SA_NULL_ARGUMENT);
    sa_signing_key_free(NULL);

    /* Seeds: NULL with a length, and every wrong length; the out-pointer is reset. */
    EXPECT(sa_signing_key_from_seed(NULL, 32, &k), SA_NULL_ARGUMENT);
    CHECK(k == NULL, "out_key reset to NULL");
    EXPECT(sa_signing_key_from_seed(seed, 32, NULL), SA_NULL_ARGUMENT);
    const size_t lengths[] = {0, 1, 16, 31, 33, 64};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        k = (sa_signing_key *)0x1;
        EXPECT(sa_signing_key_from_seed(seed, lengths[i], &k), SA_MALFORMED_INPUT);
        CHECK(k == NULL && contains(sa_last_error_message(), "exactly 32 bytes"), "seed of %zu bytes", lengths[i]);
    }
    sa_signing_key *key = NULL;
    EXPECT(sa_signing_key_from_seed(seed, 32, &key), SA_OK);
    char *pub = NULL, *text = NULL;
    EXPECT(sa_signing_key_public_key(key, &pub), SA_OK);
    EXPECT(sa_signing_key_text(key, &text), SA_OK);

    /* One NULL at a time. */
    EXPECT(sa_signing_key_text(key, NULL), SA_NULL_ARGUMENT);
    s = (char *)0x1;
    EXPECT(sa_signing_key_text(NULL, &s), SA_NULL_ARGUMENT);
    CHECK(s == NULL, "out_text reset to NULL");
    EXPECT(sa_signing_key_public_key(key, NULL), SA_NULL_ARGUMENT);
    s = (char *)0x1;
    EXPECT(sa_public_key_id(NULL, &s), SA_NULL_ARGUMENT);
    CHECK(s == NULL, "out_key_id reset to NULL");
    EXPECT(sa_public_key_id(pub, NULL), SA_NULL_ARGUMENT);

    /* Malformed key texts (the signing key's message never repeats the secret). */
    const char *bad_keys[] = {"", "sa-ed25519-key:", "sa-ed25519-key:secretsecret", "SA-ED25519-KEY:0303",
                              "sa-ed25519-pub:0303030303030303030303030303030303030303030303030303030303030303",
                              "sa-ed25519-key:03030303030303030303030303030303030303030303030303030303030303030"};
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
        k = (sa_signing_key *)0x1;
        EXPECT(sa_signing_key_parse(bad_keys[i], &k), SA_MALFORMED_INPUT);
        CHECK(k == NULL && !contains(sa_last_error_message(), "secretsecret"), "signing key %zu", i);
        if (i == 4) continue; /* a public key (a valid point), just not a signing key */
        s = (char *)0x1;
        EXPECT(sa_public_key_id(bad_keys[i], &s), SA_MALFORMED_INPUT);
        CHECK(s == NULL, "out_key_id reset on a bad key");
    }
    EXPECT(sa_public_key_id(text, &s), SA_MALFORMED_INPUT); /* a signing key is not a public key */
    /* The identity point: small-order, refused. */
    EXPECT(sa_public_key_id("sa-ed25519-pub:0100000000000000000000000000000000000000000000000000000000000000", &s),
           SA_MALFORMED_INPUT);
    for (size_t i = 0; i < N_BAD; i++) {
        EXPECT(sa_signing_key_parse(BAD_UTF8[i], &k), SA_MALFORMED_INPUT);
        EXPECT(sa_public_key_id(BAD_UTF8[i], &s), SA_MALFORMED_INPUT);
    }

    /* A policy, a checkpoint, then every bad argument of sign and verify. */
    sa_policy *p = setup_policy();
    char *before = export_record(p);
    char *c = NULL;
    EXPECT(sa_policy_checkpoint(p, key, T0, &c), SA_OK);
    const char *trusted[] = {pub};
    s = (char *)0x1;
    EXPECT(sa_policy_checkpoint(p, NULL, T0, &s), SA_NULL_ARGUMENT);
    CHECK(s == NULL, "out_checkpoint reset to NULL");
    EXPECT(sa_policy_checkpoint(NULL, key, T0, &s), SA_NULL_ARGUMENT);
    EXPECT(sa_policy_checkpoint(p, key, T0, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_policy_checkpoint(p, key, -1, &s), SA_INVALID_TIMESTAMP);
    EXPECT(sa_policy_checkpoint(p, key, INT64_MAX, &s), SA_INVALID_TIMESTAMP);
    EXPECT(sa_checkpoint_verify_signature(c, pub, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_checkpoint_verify_signature(NULL, pub, &valid), SA_NULL_ARGUMENT);
    EXPECT(sa_checkpoint_verify_signature(c, NULL, &valid), SA_NULL_ARGUMENT);
    EXPECT(sa_policy_verify_checkpoints(p, NULL, trusted, 1, &v), SA_NULL_ARGUMENT);
    EXPECT(sa_policy_verify_checkpoints(p, c, NULL, 1, &v), SA_NULL_ARGUMENT);
    EXPECT(sa_policy_verify_checkpoints(p, c, NULL, 0, &v), SA_NULL_ARGUMENT);
    EXPECT(sa_policy_verify_checkpoints(p, c, trusted, 1, NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_policy_verify_checkpoints(NULL, c, trusted, 1, &v), SA_NULL_ARGUMENT);
    EXPECT(sa_verify_checkpoints(NULL, c, trusted, 1, &v), SA_NULL_ARGUMENT);
    EXPECT(sa_verify_checkpoints(before, c, trusted, 1, NULL), SA_NULL_ARGUMENT);
    const char *with_null[] = {pub, NULL};
    EXPECT(sa_policy_verify_checkpoints(p, c, with_null, 2, &v), SA_NULL_ARGUMENT);
    const char *bad_trusted[] = {pub, "sa-ed25519-pub:xyz"};
    EXPECT(sa_policy_verify_checkpoints(p, c, bad_trusted, 2, &v), SA_MALFORMED_INPUT);
    for (size_t i = 0; i < N_BAD; i++) {
        const char *utf8_trusted[] = {BAD_UTF8[i]};
        EXPECT(sa_policy_verify_checkpoints(p, c, utf8_trusted, 1, &v), SA_MALFORMED_INPUT);
        EXPECT(sa_policy_verify_checkpoints(p, BAD_UTF8[i], trusted, 1, &v), SA_MALFORMED_INPUT);
        EXPECT(sa_checkpoint_verify_signature(BAD_UTF8[i], pub, &valid), SA_MALFORMED_INPUT);
        EXPECT(sa_verify_checkpoints(BAD_UTF8[i], c, trusted, 1, &v), SA_MALFORMED_INPUT);
    }

    /* Malformed checkpoint texts: cut short, one byte more, other spellings, two glued wrong. */
    size_t n = strlen(c);
    char *m = malloc(2 * n + 2);
    const char *swaps[][2] = {{"\nseq ", "\nseq 0"}, {".000Z", "Z"}, {"v1\n", "v1\r\n"}, {"\nsig ", "\nsig 0"},
                              {"\nkey ", "\nkey X"}, {"\norg ", "\norg\t"}};
    for (size_t i = 0; i < sizeof swaps / sizeof swaps[0]; i++) {
        const char *at = strstr(c, swaps[i][0]);
        CHECK(at != NULL, "swap %zu applies", i);
        if (!at) continue;
        size_t head = (size_t)(at - c), from = strlen(swaps[i][0]), to = strlen(swaps[i][1]);
        memcpy(m, c, head);
        memcpy(m + head, swaps[i][1], to);
        strcpy(m + head + to, at + from);
        EXPECT(sa_policy_verify_checkpoints(p, m, trusted, 1, &v), SA_MALFORMED_INPUT);
        EXPECT(sa_checkpoint_verify_signature(m, pub, &valid), SA_MALFORMED_INPUT);
    }
    memcpy(m, c, n - 1);
    m[n - 1] = '\0';
    EXPECT(sa_policy_verify_checkpoints(p, m, trusted, 1, &v), SA_MALFORMED_INPUT);
    memcpy(m, c, n);
    memcpy(m + n, "\n", 2);
    EXPECT(sa_policy_verify_checkpoints(p, m, trusted, 1, &v), SA_MALFORMED_INPUT);
    EXPECT(sa_checkpoint_verify_signature(m, pub, &valid), SA_MALFORMED_INPUT);
    memcpy(m, c, n);
    memcpy(m + n, c, 20);
    m[n + 20] = '\0';
    EXPECT(sa_policy_verify_checkpoints(p, m, trusted, 1, &v), SA_MALFORMED_INPUT);
    EXPECT(sa_policy_verify_checkpoints(p, "", trusted, 1, &v), SA_MALFORMED_INPUT);
    free(m);

    /* None of that changed the policy; it still verifies. */
    check_unchanged(p, before, "checkpoint abuse");
    EXPECT(sa_policy_verify_checkpoints(p, c, trusted, 1, &v), SA_OK);

    /* Create/free cycles of keys. */
    for (int i = 0; i < 200; i++) {
        sa_signing_key *t = NULL;
        EXPECT(sa_signing_key_parse(text, &t), SA_OK);
        sa_signing_key_free(t);
    }

    sa_string_free(c);
    sa_string_free(before);
    sa_policy_free(p);
    sa_string_free(text);
    sa_string_free(pub);
    sa_signing_key_free(key);
}

int main(void) {
    test_nulls();
    test_apply_n_buffers();
    test_invalid_utf8();
    test_huge();
    test_deep_nesting();
    test_after_errors();
    test_cycles();
    test_checkpoint_abuse();
    printf("%lu passed, %lu failed\n", passed, failed);
    return failed ? 1 : 0;
}
