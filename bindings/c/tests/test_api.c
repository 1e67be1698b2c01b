/*
 * Typed C API tests, every error path included: NULL handle, NULL out-pointer, NULL string,
 * invalid UTF-8, unknown enum values, out-of-range times, oversized input, use of a policy after
 * an error (state unchanged), string_free(NULL), per-thread error messages, signed checkpoints.
 * Prints "N passed, N failed"; exits non-zero on any failure. Run under valgrind by the xtask.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static int streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }
static int contains(const char *hay, const char *needle) { return hay && strstr(hay, needle) != NULL; }

#define OWNER "{\"id\":\"alice\",\"roles\":[{\"role\":\"ORG_OWNER\"}]}"
#define MANAGER "{\"id\":\"bob\",\"roles\":[{\"role\":\"PROJECT_SUPPORT_ACCESS_MANAGER\",\"projectId\":\"p1\"}]}"
#define READER "{\"id\":\"carol\",\"roles\":[{\"role\":\"PROJECT_READ_ONLY\",\"projectId\":\"p1\"}]}"

/* 2026-11-28T10:00:00Z */
static const int64_t T0 = 1795860000000LL;
static const int64_t HOUR = 3600000LL;

static char *export_record(const sa_policy *p) {
    char *r = NULL;
    sa_status s = sa_export_record(p, &r);
    CHECK(s == SA_OK && r != NULL, "export_record: %s", sa_status_name(s));
    return r;
}

static sa_policy *new_policy(const char *options) {
    sa_policy *p = NULL;
    EXPECT(sa_policy_new(options, &p), SA_OK);
    CHECK(p != NULL, "sa_policy_new gave NULL");
    return p;
}

static void test_names(void) {
    CHECK(streq(sa_version(), "0.1.0") || sa_version() != NULL, "version");
    CHECK(streq(sa_status_name(SA_OK), "OK"), "OK name");
    CHECK(streq(sa_status_name(SA_FORBIDDEN), "FORBIDDEN"), "FORBIDDEN name");
    CHECK(streq(sa_status_name(SA_RECORD_TAMPERED), "RECORD_TAMPERED"), "RECORD_TAMPERED name");
    CHECK(streq(sa_status_name(SA_CLUSTER_NOT_FOUND), "CLUSTER_NOT_FOUND"), "CLUSTER_NOT_FOUND name");
    CHECK(streq(sa_status_name(SA_NULL_ARGUMENT), "NULL_ARGUMENT"), "NULL_ARGUMENT name");
    CHECK(streq(sa_status_name(SA_PANIC), "PANIC"), "PANIC name");
    CHECK(streq(sa_status_name(SA_UNTRUSTED_KEY), "UNTRUSTED_KEY"), "UNTRUSTED_KEY name");
    CHECK(sa_status_name(25) == NULL && sa_status_name(99) == NULL && sa_status_name(0xFFFFFFFFu) == NULL,
          "unknown status names are NULL");
    /* every SPEC status 1..24 has a distinct non-empty name */
    for (unsigned s = 1; s <= 24; s++) CHECK(sa_status_name(s) && sa_status_name(s)[0], "status %u has a name", s);

    CHECK(streq(sa_grant_type_name(SA_GRANT_TYPE_CLUSTER_INFRASTRUCTURE), "CLUSTER_INFRASTRUCTURE"), "gt0");
    CHECK(streq(sa_grant_type_name(SA_GRANT_TYPE_CLUSTER_DATABASE_LOGS), "CLUSTER_DATABASE_LOGS"), "gt1");
    CHECK(streq(sa_grant_type_name(SA_GRANT_TYPE_CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA),
                "CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA"), "gt2");
    CHECK(sa_grant_type_name(3) == NULL && sa_grant_type_name(99) == NULL, "unknown grant type name");

    CHECK(streq(sa_resource_name(SA_RESOURCE_INFRASTRUCTURE), "INFRASTRUCTURE"), "r0");
    CHECK(streq(sa_resource_name(SA_RESOURCE_DATABASE_LOGS), "DATABASE_LOGS"), "r1");
    CHECK(streq(sa_resource_name(SA_RESOURCE_AUDIT_LOGS), "AUDIT_LOGS"), "r2");
    CHECK(streq(sa_resource_name(SA_RESOURCE_SYNC_DATA), "SYNC_DATA"), "r3");
    CHECK(streq(sa_resource_name(SA_RESOURCE_DATABASE_DATA), "DATABASE_DATA"), "r4");
    CHECK(sa_resource_name(5) == NULL && sa_resource_name(99) == NULL, "unknown resource name");

    const char *reasons[] = {"CLUSTER_NOT_FOUND", "DATABASE_DATA_NEVER_ACCESSIBLE", "SYNC_DATA_REQUIRES_GRANT",
                             "ORG_UNRESTRICTED", "GRANT_ACTIVE", "NOT_COVERED_BY_GRANT", "GRANT_EXPIRED",
                             "GRANT_REVOKED", "NO_GRANT"};
    for (unsigned i = 0; i < 9; i++) CHECK(streq(sa_reason_name(i), reasons[i]), "reason %u", i);
    CHECK(sa_reason_name(SA_REASON_NO_GRANT + 1) == NULL, "unknown reason name");

    CHECK(streq(sa_cluster_kind_name(SA_CLUSTER_KIND_DEDICATED), "DEDICATED"), "k0");
    CHECK(streq(sa_cluster_kind_name(SA_CLUSTER_KIND_FLEX), "FLEX"), "k1");
    CHECK(streq(sa_cluster_kind_name(SA_CLUSTER_KIND_SERVERLESS), "SERVERLESS"), "k2");
    CHECK(sa_cluster_kind_name(3) == NULL, "unknown kind name");
}

static void test_policy_new_errors(void) {
    sa_policy *p = (sa_policy *)0x1; /* must be overwritten with NULL on failure */
    EXPECT(sa_policy_new(NULL, &p), SA_NULL_ARGUMENT);
    CHECK(p == NULL, "out_policy set to NULL on failure");
    CHECK(contains(sa_last_error_message(), "options_json"), "message names the argument");
    EXPECT(sa_policy_new("{\"orgId\":\"o\"}", NULL), SA_NULL_ARGUMENT);
    p = (sa_policy *)0x1;
    EXPECT(sa_policy_new("{\"orgId\":", &p), SA_MALFORMED_INPUT);
    CHECK(p == NULL, "out_policy NULL after malformed options");
    EXPECT(sa_policy_new("{\"orgId\":\"o\",\"extra\":1}", &p), SA_MALFORMED_INPUT);
    EXPECT(sa_policy_new("{\"orgId\":\"o\xff\"}", &p), SA_MALFORMED_INPUT);
    CHECK(contains(sa_last_error_message(), "UTF-8"), "invalid UTF-8 message");
    EXPECT(sa_policy_new("{\"orgId\":\"o\",\"maxGrantDurationMs\":0}", &p), SA_MALFORMED_INPUT);
    EXPECT(sa_policy_from_record(NULL, &p), SA_NULL_ARGUMENT);
    EXPECT(sa_policy_from_record("", NULL), SA_NULL_ARGUMENT);
    EXPECT(sa_policy_from_record("", &p), SA_RECORD_TAMPERED);
    CHECK(p == NULL, "from_record: out NULL on failure");
    EXPECT(sa_policy_from_record("not a record\n", &p), SA_RECORD_TAMPERED);
    EXPECT(sa_policy_from_record("\xff\n", &p), SA_MALFORMED_INPUT);
    sa_policy_free(NULL); /* must be a no-op */
    passed++;
}

/* The options' `now` is the genesis time: the first event's `at`, and the clock's floor. */
static void test_genesis_time(void) {
    sa_policy *p = new_policy("{\"orgId\":\"org-1\",\"now\":\"2026-11-28T10:00:00Z\"}");
    char *r = export_record(p);
    CHECK(contains(r, "{\"seq\":1,\"at\":\"2026-11-28T10:00:00.000Z\","), "genesis at now: %s", r);
    EXPECT(sa_add_project(p, OWNER, "p1", T0 - 1), SA_CLOCK_WENT_BACKWARDS);
    EXPECT(sa_add_project(p, OWNER, "p1", T0), SA_OK);
    sa_string_free(r);
    r = export_record(p);
    sa_policy *q = NULL;
    EXPECT(sa_policy_from_record(r, &q), SA_OK);
    char *again = export_record(q);
    CHECK(streq(r, again), "replay keeps the genesis time");
    sa_string_free(again);
    sa_string_free(r);
    sa_policy_free(q);
    sa_policy_free(p);

    p = new_policy("{\"orgId\":\"org-1\",\"now\":1795860000000}");
    r = export_record(p);
    CHECK(contains(r, "\"at\":\"2026-11-28T10:00:00.000Z\""), "epoch ms now: %s", r);
    sa_string_free(r);
    sa_policy_free(p);
    p = new_policy("{\"orgId\":\"org-1\"}");
    r = export_record(p);
    CHECK(contains(r, "\"at\":\"1970-01-01T00:00:00.000Z\""), "no now: the epoch: %s", r);
    sa_string_free(r);
    sa_policy_free(p);

    p = (sa_policy *)0x1;
    EXPECT(sa_policy_new("{\"orgId\":\"o\",\"now\":\"tomorrow\"}", &p), SA_INVALID_TIMESTAMP);
    CHECK(p == NULL, "out_policy NULL after a bad now");
    CHECK(contains(sa_last_error_message(), "tomorrow"), "message names the bad time");
    EXPECT(sa_policy_new("{\"orgId\":\"o\",\"now\":-1}", &p), SA_INVALID_TIMESTAMP);
}

static void test_flow(void) {
    sa_policy *p = new_policy("{\"orgId\":\"org-1\",\"restrictEmployeeAccess\":true}");
    EXPECT(sa_add_project(p, OWNER, "p1", T0), SA_OK);
    EXPECT(sa_add_cluster(p, OWNER, "p1", "Cluster0", SA_CLUSTER_KIND_DEDICATED, false, T0), SA_OK);
    EXPECT(sa_add_cluster(p, OWNER, "p1", "Synced", SA_CLUSTER_KIND_DEDICATED, true, T0), SA_OK);
    EXPECT(sa_add_cluster(p, OWNER, "p1", "Flexy", SA_CLUSTER_KIND_FLEX, false, T0), SA_OK);

    sa_decision d;
    memset(&d, 0xAB, sizeof d);
    EXPECT(sa_evaluate(p, "Cluster0", SA_RESOURCE_DATABASE_LOGS, T0, &d), SA_OK);
    CHECK(!d.allowed && d.reason == SA_REASON_NO_GRANT && !d.has_grant && !d.has_remaining && d.remaining_ms == 0 &&
              d.expiration_ms == 0,
          "no grant yet: reason %s", sa_reason_name(d.reason));

    int64_t exp = 0;
    EXPECT(sa_grant(p, MANAGER, "Cluster0", SA_GRANT_TYPE_CLUSTER_DATABASE_LOGS, T0, false, 0, &exp), SA_OK);
    CHECK(exp == T0 + 24 * HOUR, "default expiration is now + 24 h: %lld", (long long)exp);

    EXPECT(sa_evaluate(p, "Cluster0", SA_RESOURCE_DATABASE_LOGS, T0 + 2 * HOUR, &d), SA_OK);
    CHECK(d.allowed && d.reason == SA_REASON_GRANT_ACTIVE && d.has_grant &&
              d.grant_type == SA_GRANT_TYPE_CLUSTER_DATABASE_LOGS && d.expiration_ms == T0 + 24 * HOUR &&
              d.has_remaining && d.remaining_ms == 22 * HOUR,
          "grant active: %s remaining %lld", sa_reason_name(d.reason), (long long)d.remaining_ms);
    EXPECT(sa_evaluate(p, "Cluster0", SA_RESOURCE_AUDIT_LOGS, T0 + 2 * HOUR, &d), SA_OK);
    CHECK(!d.allowed && d.reason == SA_REASON_NOT_COVERED_BY_GRANT && d.has_grant, "not covered");
    EXPECT(sa_evaluate(p, "Cluster0", SA_RESOURCE_DATABASE_DATA, T0, &d), SA_OK);
    CHECK(!d.allowed && d.reason == SA_REASON_DATABASE_DATA_NEVER_ACCESSIBLE, "database data");
    EXPECT(sa_evaluate(p, "Cluster0", SA_RESOURCE_SYNC_DATA, T0, &d), SA_OK);
    CHECK(!d.allowed && d.reason == SA_REASON_SYNC_DATA_REQUIRES_GRANT, "sync data");

    /* by id */
    uint32_t id = 12345;
    EXPECT(sa_cluster_id(p, "Cluster0", &id), SA_OK);
    CHECK(id != 12345, "id written");
    sa_decision d2;
    EXPECT(sa_evaluate_id(p, id, SA_RESOURCE_DATABASE_LOGS, T0 + 2 * HOUR, &d2), SA_OK);
    EXPECT(sa_evaluate(p, "Cluster0", SA_RESOURCE_DATABASE_LOGS, T0 + 2 * HOUR, &d), SA_OK);
    CHECK(memcmp(&d.allowed, &d2.allowed, sizeof(bool)) == 0 && d.reason == d2.reason &&
              d.remaining_ms == d2.remaining_ms && d.expiration_ms == d2.expiration_ms,
          "by id equals by name");
    EXPECT(sa_evaluate_id(p, 999, SA_RESOURCE_DATABASE_LOGS, T0, &d2), SA_CLUSTER_NOT_FOUND);
    EXPECT(sa_cluster_id(p, "Nope", &id), SA_CLUSTER_NOT_FOUND);
    EXPECT(sa_cluster_id(p, "bad name!", &id), SA_INVALID_CLUSTER_NAME);

    /* remaining */
    bool has = false;
    int64_t ms = -1;
    EXPECT(sa_remaining(p, "Cluster0", T0 + HOUR, &has, &ms), SA_OK);
    CHECK(has && ms == 23 * HOUR, "remaining 23 h: %lld", (long long)ms);
    EXPECT(sa_remaining(p, "Synced", T0, &has, &ms), SA_OK);
    CHECK(!has && ms == 0, "no remaining without a grant");
    EXPECT(sa_remaining(p, "Nope", T0, &has, &ms), SA_CLUSTER_NOT_FOUND);

    /* explicit expiration, sync grant */
    EXPECT(sa_grant(p, OWNER, "Synced", SA_GRANT_TYPE_CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA, T0 + HOUR,
                    true, T0 + 3 * HOUR, NULL),
           SA_OK);
    EXPECT(sa_evaluate(p, "Synced", SA_RESOURCE_SYNC_DATA, T0 + 2 * HOUR, &d), SA_OK);
    CHECK(d.allowed && d.reason == SA_REASON_GRANT_ACTIVE && d.remaining_ms == HOUR, "sync grant active");

    /* the state-changing error paths: each leaves the record byte-identical */
    char *before = export_record(p);
    EXPECT(sa_grant(p, READER, "Cluster0", SA_GRANT_TYPE_CLUSTER_INFRASTRUCTURE, T0 + 2 * HOUR, false, 0, NULL),
           SA_FORBIDDEN);
    EXPECT(sa_grant(p, MANAGER, "Cluster0", SA_GRANT_TYPE_CLUSTER_INFRASTRUCTURE, T0, false, 0, NULL),
           SA_CLOCK_WENT_BACKWARDS);
    EXPECT(sa_grant(p, MANAGER, "Cluster0", SA_GRANT_TYPE_CLUSTER_INFRASTRUCTURE, T0 + 2 * HOUR, true, T0 + HOUR, NULL),
           SA_EXPIRATION_NOT_IN_FUTURE);
    EXPECT(sa_grant(p, MANAGER, "Cluster0", SA_GRANT_TYPE_CLUSTER_INFRASTRUCTURE, T0 + 2 * HOUR, true,
                    T0 + 27 * HOUR, NULL),
           SA_EXPIRATION_TOO_FAR);
    EXPECT(sa_grant(p, MANAGER, "Cluster0", SA_GRANT_TYPE_CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA,
                    T0 + 2 * HOUR, false, 0, NULL),
           SA_SYNC_NOT_ENABLED);
    EXPECT(sa_grant(p, OWNER, "Flexy", SA_GRANT_TYPE_CLUSTER_INFRASTRUCTURE, T0 + 2 * HOUR, false, 0, NULL),
           SA_UNSUPPORTED_CLUSTER_KIND);
    EXPECT(sa_grant(p, OWNER, "Nope", SA_GRANT_TYPE_CLUSTER_INFRASTRUCTURE, T0 + 2 * HOUR, false, 0, NULL),
           SA_CLUSTER_NOT_FOUND);
    EXPECT(sa_grant(p, OWNER, "bad name", SA_GRANT_TYPE_CLUSTER_INFRASTRUCTURE, T0 + 2 * HOUR, false, 0, NULL),
           SA_INVALID_CLUSTER_NAME);
    /* unknown enum values */
    EXPECT(sa_grant(p, OWNER, "Cluster0", 99, T0 + 2 * HOUR, false, 0, NULL), SA_INVALID_ENUM_VALUE);
    CHECK(contains(sa_last_error_message(), "99"), "message names the value");
    EXPECT(sa_grant(p, OWNER, "Cluster0", 0xFFFFFFFFu, T0 + 2 * HOUR, false, 0, NULL), SA_INVALID_ENUM_VALUE);
    EXPECT(sa_add_cluster(p, OWNER, "p1", "New1", 99, false, T0 + 2 * HOUR), SA_INVALID_ENUM_VALUE);
    /* times out of range */
    EXPECT(sa_grant(p, OWNER, "Cluster0", SA_GRANT_TYPE_CLUSTER_INFRASTRUCTURE, -1, false, 0, NULL),
           SA_INVALID_TIMESTAMP);
    EXPECT(sa_grant(p, OWNER, "Cluster0", SA_GRANT_TYPE_CLUSTER_INFRASTRUCTURE, T0 + 2 * HOUR, true, INT64_MAX, NULL),
           SA_INVALID_TIMESTAMP);
    EXPECT(sa_set_restriction(p, OWNER, false, INT64_MIN), SA_INVALID_TIMESTAMP);
    /* bad actors */
    EXPECT(sa_set_restriction(p, MANAGER, false, T0 + 2 * HOUR), SA_FORBIDDEN);
    EXPECT(sa_set_restriction(p, "{\"id\":\"x\"}", false, T0 + 2 * HOUR), SA_MALFORMED_INPUT);
    EXPECT(sa_set_restriction(p, "{\"id\":\"x\",\"roles\":[{\"role\":\"KING\"}]}", false, T0 + 2 * HOUR),
           SA_INVALID_ENUM_VALUE);
    EXPECT(sa_set_restriction(p, "not json", false, T0 + 2 * HOUR), SA_MALFORMED_INPUT);
    EXPECT(sa_set_restriction(p, "{\"id\":\"\xc3\x28\",\"roles\":[]}", false, T0 + 2 * HOUR), SA_MALFORMED_INPUT);
    CHECK(contains(sa_last_error_message(), "UTF-8"), "invalid UTF-8 actor");
    /* inventory */
    EXPECT(sa_add_project(p, OWNER, "p1", T0 + 2 * HOUR), SA_DUPLICATE_PROJECT);
    EXPECT(sa_add_cluster(p, OWNER, "p1", "Cluster0", SA_CLUSTER_KIND_DEDICATED, false, T0 + 2 * HOUR),
           SA_DUPLICATE_CLUSTER);
    EXPECT(sa_add_cluster(p, OWNER, "p9", "Other", SA_CLUSTER_KIND_DEDICATED, false, T0 + 2 * HOUR),
           SA_PROJECT_NOT_FOUND);
    EXPECT(sa_add_project(p, OWNER, "", T0 + 2 * HOUR), SA_MALFORMED_INPUT);
    /* revoke with nothing to revoke */
    EXPECT(sa_revoke(p, OWNER, "Flexy", T0 + 2 * HOUR), SA_NO_ACTIVE_GRANT);
    EXPECT(sa_revoke(p, READER, "Cluster0", T0 + 2 * HOUR), SA_FORBIDDEN);
    /* expire_due back in time */
    size_t n = 77;
    EXPECT(sa_expire_due(p, T0, &n), SA_CLOCK_WENT_BACKWARDS);
    CHECK(n == 77, "out_count untouched on failure");
    /* failing JSON commands */
    char *json = NULL;
    EXPECT(sa_apply(p, "{\"op\":\"nope\"}", &json), SA_UNKNOWN_OP);
    CHECK(contains(json, "\"code\":\"UNKNOWN_OP\""), "error result JSON: %s", json);
    CHECK(contains(json, sa_last_error_message()), "last error message is the result's message");
    sa_string_free(json);
    EXPECT(sa_apply(p, "{\"op\":\"revoke\",\"actor\":" OWNER ",\"cluster\":\"Flexy\",\"now\":1795867200000}", &json),
           SA_NO_ACTIVE_GRANT);
    sa_string_free(json);
    EXPECT(sa_apply(p, "{\"op\":\"grant\"", &json), SA_MALFORMED_INPUT);
    sa_string_free(json);
    char *after = export_record(p);
    CHECK(streq(before, after), "record unchanged after every failed call");
    sa_string_free(after);

    /* the policy still works after all those errors */
    EXPECT(sa_revoke(p, MANAGER, "Cluster0", T0 + 3 * HOUR), SA_OK);
    EXPECT(sa_revoke(p, MANAGER, "Cluster0", T0 + 3 * HOUR), SA_NO_ACTIVE_GRANT);
    EXPECT(sa_evaluate(p, "Cluster0", SA_RESOURCE_DATABASE_LOGS, T0 + 3 * HOUR, &d), SA_OK);
    CHECK(!d.allowed && d.reason == SA_REASON_GRANT_REVOKED && !d.has_grant, "revoked");
    after = export_record(p);
    CHECK(!streq(before, after) && strncmp(before, after, strlen(before)) == 0, "record grew by appending");
    sa_string_free(after);
    sa_string_free(before);

    /* expiry: the sync grant ran out at T0 + 3 h */
    EXPECT(sa_evaluate(p, "Synced", SA_RESOURCE_INFRASTRUCTURE, T0 + 4 * HOUR, &d), SA_OK);
    CHECK(!d.allowed && d.reason == SA_REASON_GRANT_EXPIRED, "expired: %s", sa_reason_name(d.reason));
    n = 0;
    EXPECT(sa_expire_due(p, T0 + 4 * HOUR, &n), SA_OK);
    CHECK(n == 0, "revoke already swept the expiry (it ran first): %zu", n);

    /* restriction off: everything but data and sync is allowed */
    EXPECT(sa_set_restriction(p, OWNER, false, T0 + 5 * HOUR), SA_OK);
    EXPECT(sa_evaluate(p, "Cluster0", SA_RESOURCE_AUDIT_LOGS, T0 + 5 * HOUR, &d), SA_OK);
    CHECK(d.allowed && d.reason == SA_REASON_ORG_UNRESTRICTED, "org unrestricted");

    /* record: export, verify, replay, tamper */
    char *rec = export_record(p);
    uint64_t events = 0, seq = 99;
    EXPECT(sa_verify_record(rec, &events, &seq), SA_OK);
    CHECK(events == 10 && seq == 0, "verify: %llu events, seq %llu", (unsigned long long)events,
          (unsigned long long)seq);
    sa_policy *q = NULL;
    EXPECT(sa_policy_from_record(rec, &q), SA_OK);
    char *rec2 = export_record(q);
    CHECK(streq(rec, rec2), "replayed policy exports the same record");
    sa_string_free(rec2);
    EXPECT(sa_evaluate(q, "Cluster0", SA_RESOURCE_AUDIT_LOGS, T0 + 5 * HOUR, &d2), SA_OK);
    CHECK(d2.allowed && d2.reason == SA_REASON_ORG_UNRESTRICTED, "replayed policy decides alike");
    sa_policy_free(q);
    /* tamper with event 2 (the project id) */
    char *tampered = strdup(rec);
    char *at = strstr(tampered, "\"projectId\":\"p1\"");
    CHECK(at != NULL, "project event found");
    if (at) at[14] = '2';
    events = 5;
    EXPECT(sa_verify_record(tampered, &events, &seq), SA_RECORD_TAMPERED);
    CHECK(seq == 2 && events == 0, "tampered at seq %llu", (unsigned long long)seq);
    free(tampered);
    /* drop the last line: the chain is fine, so it verifies with one event less */
    char *cut = strdup(rec);
    cut[strlen(cut) - 1] = '\0';
    *(strrchr(cut, '\n') + 1) = '\0';
    EXPECT(sa_verify_record(cut, &events, &seq), SA_OK);
    CHECK(events == 9, "cut record: %llu", (unsigned long long)events);
    free(cut);
    EXPECT(sa_verify_record("\xff", &events, &seq), SA_MALFORMED_INPUT);
    /* replaying a tampered record builds nothing */
    tampered = strdup(rec);
    at = strstr(tampered, "\"hash\":\"");
    if (at) at[8] = at[8] == '0' ? '1' : '0';
    q = (sa_policy *)0x1;
    EXPECT(sa_policy_from_record(tampered, &q), SA_RECORD_TAMPERED);
    CHECK(q == NULL, "no policy from a tampered record");
    free(tampered);
    sa_string_free(rec);
    sa_policy_free(p);
}

static void test_expire_due(void) {
    sa_policy *p = new_policy("{\"orgId\":\"org-1\",\"restrictEmployeeAccess\":true}");
    EXPECT(sa_add_project(p, OWNER, "p1", T0), SA_OK);
    EXPECT(sa_add_cluster(p, OWNER, "p1", "A", SA_CLUSTER_KIND_DEDICATED, false, T0), SA_OK);
    EXPECT(sa_add_cluster(p, OWNER, "p1", "B", SA_CLUSTER_KIND_DEDICATED, false, T0), SA_OK);
    EXPECT(sa_grant(p, OWNER, "A", SA_GRANT_TYPE_CLUSTER_INFRASTRUCTURE, T0, true, T0 + HOUR, NULL), SA_OK);
    EXPECT(sa_grant(p, OWNER, "B", SA_GRANT_TYPE_CLUSTER_INFRASTRUCTURE, T0, true, T0 + 2 * HOUR, NULL), SA_OK);
    size_t n = 99;
    EXPECT(sa_expire_due(p, T0 + HOUR - 1, &n), SA_OK);
    CHECK(n == 0, "nothing due yet: %zu", n);
    EXPECT(sa_expire_due(p, T0 + 3 * HOUR, &n), SA_OK);
    CHECK(n == 2, "both grants expired: %zu", n);
    EXPECT(sa_expire_due(p, T0 + 3 * HOUR, &n), SA_OK);
    CHECK(n == 0, "recorded once: %zu", n);
    char *rec = export_record(p);
    CHECK(contains(rec, "EMPLOYEE_ACCESS_EXPIRED"), "expiry events in the record");
    sa_string_free(rec);
    sa_decision d;
    EXPECT(sa_evaluate(p, "A", SA_RESOURCE_INFRASTRUCTURE, T0 + 3 * HOUR, &d), SA_OK);
    CHECK(!d.allowed && d.reason == SA_REASON_GRANT_EXPIRED, "expired");
    sa_policy_free(p);
}

/* What a NULL argument and an out-of-range value answer with (every pointer argument, alone and
 * at once, is test_abuse.c's test_nulls). */
static void test_null_arguments(void) {
    sa_policy *p = new_policy("{\"orgId\":\"org-1\"}");
    EXPECT(sa_add_project(p, OWNER, "p1", T0), SA_OK);
    EXPECT(sa_add_cluster(p, OWNER, "p1", "Cluster0", SA_CLUSTER_KIND_DEDICATED, false, T0), SA_OK);
    char *before = export_record(p);
    sa_decision d;
    uint32_t id;
    char *s = (char *)0x1;

    EXPECT(sa_apply(NULL, "{}", &s), SA_NULL_ARGUMENT);
    CHECK(s == NULL, "out_json NULL when no result");
    CHECK(contains(sa_last_error_message(), "policy"), "message names the argument");

    /* unknown resource values on the read path */
    EXPECT(sa_evaluate(p, "Cluster0", 99, T0, &d), SA_INVALID_ENUM_VALUE);
    EXPECT(sa_evaluate(p, "Cluster0", 5, T0, &d), SA_INVALID_ENUM_VALUE);
    EXPECT(sa_evaluate_id(p, 0, 99, T0, &d), SA_INVALID_ENUM_VALUE);
    EXPECT(sa_evaluate(p, "Cluster0", SA_RESOURCE_INFRASTRUCTURE, -5, &d), SA_INVALID_TIMESTAMP);
    EXPECT(sa_evaluate(p, "Clu\xffster0", SA_RESOURCE_INFRASTRUCTURE, T0, &d), SA_MALFORMED_INPUT);
    EXPECT(sa_cluster_id(p, "\xe2\x82", &id), SA_MALFORMED_INPUT);

    char *after = export_record(p);
    CHECK(streq(before, after), "record unchanged after NULL-argument calls");
    sa_string_free(after);
    sa_string_free(before);
    passed++;
    sa_policy_free(p);
}

static void test_apply_input(void) {
    sa_policy *p = new_policy("{\"orgId\":\"org-1\"}");
    char *before = export_record(p);
    char *json = NULL;

    /* invalid UTF-8 command: a MALFORMED_INPUT result, not a crash */
    EXPECT(sa_apply(p, "{\"op\":\"exportRecord\xff\"}", &json), SA_MALFORMED_INPUT);
    CHECK(json && strncmp(json, "{\"error\":{\"code\":\"MALFORMED_INPUT\"", 34) == 0, "utf-8 result: %s", json);
    CHECK(contains(json, "not UTF-8"), "utf-8 message: %s", json);
    sa_string_free(json);

    /* oversized: 32 MiB + 1 bytes of otherwise valid JSON */
    size_t big = (32u << 20) + 1;
    char *cmd = malloc(big + 1);
    CHECK(cmd != NULL, "malloc");
    if (cmd) {
        memset(cmd, ' ', big);
        memcpy(cmd, "{\"op\":\"exportRecord\"}", 21);
        cmd[big] = '\0';
        EXPECT(sa_apply(p, cmd, &json), SA_MALFORMED_INPUT);
        CHECK(contains(json, "longer than"), "oversized result: %.200s", json);
        sa_string_free(json);
        /* the same as options and as an actor */
        sa_policy *q = (sa_policy *)0x1;
        EXPECT(sa_policy_new(cmd, &q), SA_MALFORMED_INPUT);
        CHECK(q == NULL, "no policy from oversized options");
        EXPECT(sa_set_restriction(p, cmd, true, T0), SA_MALFORMED_INPUT);
        /* just under the limit is parsed (and is a fine command) */
        cmd[big - 1] = '\0';
        EXPECT(sa_apply(p, cmd, &json), SA_OK);
        CHECK(json && strncmp(json, "{\"ok\":{\"record\":", 16) == 0, "32 MiB command runs");
        sa_string_free(json);
        free(cmd);
    }

    /* an ok command and the empty string */
    EXPECT(sa_apply(p, "{\"op\":\"exportRecord\"}", &json), SA_OK);
    CHECK(json && strncmp(json, "{\"ok\":", 6) == 0, "ok result");
    sa_string_free(json);
    EXPECT(sa_apply(p, "", &json), SA_MALFORMED_INPUT);
    sa_string_free(json);

    /* sa_apply_n: explicit length, no terminator needed, NUL bytes are just bad JSON */
    const char buf[] = "{\"op\":\"exportRecord\"}XXXX"; /* 21 bytes of command, then junk */
    EXPECT(sa_apply_n(p, (const uint8_t *)buf, 21, &json), SA_OK);
    CHECK(json && strncmp(json, "{\"ok\":{\"record\":", 16) == 0, "apply_n with a length: %s", json);
    char *via_apply = NULL;
    EXPECT(sa_apply(p, "{\"op\":\"exportRecord\"}", &via_apply), SA_OK);
    CHECK(streq(json, via_apply), "apply_n and apply give the same bytes");
    sa_string_free(via_apply);
    sa_string_free(json);
    const char with_nul[] = "{\"op\":\"exportRecord\"}\0x";
    EXPECT(sa_apply_n(p, (const uint8_t *)with_nul, sizeof with_nul - 1, &json), SA_MALFORMED_INPUT);
    CHECK(contains(json, "MALFORMED_INPUT"), "embedded NUL: %s", json);
    sa_string_free(json);
    EXPECT(sa_apply_n(p, (const uint8_t *)"\xff\xfe", 2, &json), SA_MALFORMED_INPUT);
    CHECK(contains(json, "not UTF-8"), "apply_n invalid UTF-8: %s", json);
    sa_string_free(json);
    EXPECT(sa_apply_n(p, (const uint8_t *)buf, 0, &json), SA_MALFORMED_INPUT);
    sa_string_free(json);
    json = (char *)0x1;
    EXPECT(sa_apply_n(p, NULL, 0, &json), SA_NULL_ARGUMENT);
    CHECK(json == NULL, "apply_n: out NULL on NULL command");
    EXPECT(sa_apply_n(NULL, (const uint8_t *)buf, 21, &json), SA_NULL_ARGUMENT);
    EXPECT(sa_apply_n(p, (const uint8_t *)buf, 21, NULL), SA_NULL_ARGUMENT);

    char *after = export_record(p);
    CHECK(streq(before, after), "record unchanged");
    sa_string_free(after);
    sa_string_free(before);
    sa_policy_free(p);
}

/* Error messages are per thread: each thread sees its own last error. */
static void *thread_body(void *arg) {
    const sa_policy *p = arg;
    sa_decision d;
    int ok = 1;
    for (int i = 0; i < 200; i++) {
        ok &= sa_evaluate(p, "Missing", SA_RESOURCE_INFRASTRUCTURE, T0, &d) == SA_CLUSTER_NOT_FOUND;
        ok &= contains(sa_last_error_message(), "Missing");
        ok &= sa_evaluate(p, "Cluster0", SA_RESOURCE_INFRASTRUCTURE, T0, &d) == SA_OK && d.allowed;
    }
    return (void *)(intptr_t)ok;
}

static void test_threads(void) {
    sa_policy *p = new_policy("{\"orgId\":\"org-1\"}");
    EXPECT(sa_add_project(p, OWNER, "p1", T0), SA_OK);
    EXPECT(sa_add_cluster(p, OWNER, "p1", "Cluster0", SA_CLUSTER_KIND_DEDICATED, false, T0), SA_OK);
    sa_decision d;
    EXPECT(sa_evaluate(p, "bad name", SA_RESOURCE_INFRASTRUCTURE, T0, &d), SA_INVALID_CLUSTER_NAME);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, thread_body, p);
    for (int i = 0; i < 2; i++) {
        void *r;
        pthread_join(t[i], &r);
        CHECK(r == (void *)1, "thread %d saw its own errors and right answers", i);
    }
    CHECK(contains(sa_last_error_message(), "bad name"), "main thread's message untouched: %s",
          sa_last_error_message());
    sa_policy_free(p);
}

/* Signed checkpoints (SPEC section 9): sign with a key from a seed or its text, verify against
 * the public key's text, and each checkpoint error with its seq. */
static void test_checkpoints(void) {
    uint8_t seed[32], other_seed[32];
    memset(seed, 7, sizeof seed);
    memset(other_seed, 8, sizeof other_seed);
    sa_signing_key *key = NULL, *again = NULL, *other = NULL;
    EXPECT(sa_signing_key_from_seed(seed, sizeof seed, &key), SA_OK);
    EXPECT(sa_signing_key_from_seed(other_seed, sizeof other_seed, &other), SA_OK);
    char *key_text = NULL, *pub = NULL, *pub2 = NULL, *other_pub = NULL, *id = NULL;
    EXPECT(sa_signing_key_text(key, &key_text), SA_OK);
    CHECK(key_text && strncmp(key_text, "sa-ed25519-key:", 15) == 0 && strlen(key_text) == 79, "key text %s", key_text);
    EXPECT(sa_signing_key_parse(key_text, &again), SA_OK);
    EXPECT(sa_signing_key_public_key(key, &pub), SA_OK);
    EXPECT(sa_signing_key_public_key(again, &pub2), SA_OK);
    EXPECT(sa_signing_key_public_key(other, &other_pub), SA_OK);
    CHECK(streq(pub, pub2) && !streq(pub, other_pub), "public keys %s %s", pub, other_pub);
    EXPECT(sa_public_key_id(pub, &id), SA_OK);
    CHECK(id && strlen(id) == 16, "key id %s", id);

    sa_policy *p = new_policy("{\"orgId\":\"org-1\",\"restrictEmployeeAccess\":true}");
    EXPECT(sa_add_project(p, OWNER, "p1", T0), SA_OK);
    char *c2 = NULL, *c2_again = NULL, *c3 = NULL, *forged = NULL, *applied = NULL;
    EXPECT(sa_policy_checkpoint(p, key, T0, &c2), SA_OK);
    EXPECT(sa_policy_checkpoint(p, again, T0, &c2_again), SA_OK);
    CHECK(streq(c2, c2_again) && contains(c2, "\nseq 2\n") && contains(c2, id), "checkpoint %s", c2);
    /* The same bytes as the JSON command. */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "{\"op\":\"checkpoint\",\"signingKey\":\"%s\",\"now\":%lld}", key_text, (long long)T0);
    EXPECT(sa_apply(p, cmd, &applied), SA_OK);
    CHECK(applied && contains(applied, "\"checkpoint\":\"support-access checkpoint v1\\norg org-1\\nseq 2\\n"), "%s", applied);
    bool valid = false;
    EXPECT(sa_checkpoint_verify_signature(c2, pub, &valid), SA_OK);
    CHECK(valid, "signature verifies");
    EXPECT(sa_checkpoint_verify_signature(c2, other_pub, &valid), SA_OK);
    CHECK(!valid, "signature does not verify with another key");

    char *record2 = export_record(p);
    sa_checkpoints_verified v;
    const char *trusted[] = {pub};
    EXPECT(sa_policy_verify_checkpoints(p, c2, trusted, 1, &v), SA_OK);
    CHECK(v.events == 2 && v.verified_up_to == 2 && v.failed_seq == 0 && strlen(v.last_hash) == 64, "verified %llu %llu",
          (unsigned long long)v.events, (unsigned long long)v.verified_up_to);
    EXPECT(sa_verify_checkpoints(record2, c2, trusted, 1, &v), SA_OK);
    CHECK(v.events == 2, "free verify");

    /* A later event, a later checkpoint: a checkpoints text holds both. */
    EXPECT(sa_add_cluster(p, OWNER, "p1", "Cluster0", SA_CLUSTER_KIND_DEDICATED, false, T0), SA_OK);
    EXPECT(sa_policy_checkpoint(p, key, T0 + HOUR, &c3), SA_OK);
    size_t n2 = strlen(c2), n3 = strlen(c3);
    char *both = malloc(n2 + n3 + 1);
    memcpy(both, c2, n2);
    memcpy(both + n2, c3, n3 + 1);
    EXPECT(sa_policy_verify_checkpoints(p, both, trusted, 1, &v), SA_OK);
    CHECK(v.events == 3 && v.verified_up_to == 3, "two checkpoints");

    /* Each checkpoint error, with the refused checkpoint's seq. */
    const char *untrusted[] = {other_pub};
    EXPECT(sa_policy_verify_checkpoints(p, c3, untrusted, 1, &v), SA_UNTRUSTED_KEY);
    CHECK(v.failed_seq == 3 && v.events == 0 && v.last_hash[0] == '\0', "untrusted seq %llu", (unsigned long long)v.failed_seq);
    EXPECT(sa_verify_checkpoints(record2, both, trusted, 1, &v), SA_RECORD_TRUNCATED);
    CHECK(v.failed_seq == 3, "truncated seq %llu", (unsigned long long)v.failed_seq);
    forged = strdup(c3);
    char *org = strstr(forged, "org org-1");
    if (org) org[8] = '2';
    EXPECT(sa_policy_verify_checkpoints(p, forged, trusted, 1, &v), SA_BAD_SIGNATURE);
    CHECK(v.failed_seq == 3, "bad signature seq");
    sa_policy *q = new_policy("{\"orgId\":\"org-2\"}");
    char *other_org = NULL;
    EXPECT(sa_policy_checkpoint(q, key, T0, &other_org), SA_OK);
    EXPECT(sa_policy_verify_checkpoints(p, other_org, trusted, 1, &v), SA_CHECKPOINT_MISMATCH);
    CHECK(v.failed_seq == 1, "mismatch seq");
    free(forged);
    char *late = (char *)0x1;
    EXPECT(sa_policy_checkpoint(p, key, T0 - 1, &late), SA_CLOCK_WENT_BACKWARDS);
    CHECK(late == NULL, "out_checkpoint reset on failure");
    EXPECT(sa_policy_verify_checkpoints(p, "", trusted, 1, &v), SA_MALFORMED_INPUT);
    EXPECT(sa_policy_verify_checkpoints(p, c3, trusted, 0, &v), SA_UNTRUSTED_KEY);

    sa_policy_free(q);
    sa_policy_free(p);
    free(both);
    sa_string_free(other_org);
    sa_string_free(record2);
    sa_string_free(applied);
    sa_string_free(c3);
    sa_string_free(c2_again);
    sa_string_free(c2);
    sa_string_free(id);
    sa_string_free(other_pub);
    sa_string_free(pub2);
    sa_string_free(pub);
    sa_string_free(key_text);
    sa_signing_key_free(other);
    sa_signing_key_free(again);
    sa_signing_key_free(key);
}

int main(void) {
    test_names();
    test_policy_new_errors();
    test_genesis_time();
    test_flow();
    test_expire_due();
    test_null_arguments();
    test_apply_input();
    test_threads();
    test_checkpoints();
    printf("%lu passed, %lu failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
