/*
 * support-access from C: restrict support access, grant it on one cluster for two hours, and
 * watch the countdown until the grant runs out. The library never reads a clock; this program
 * starts from the real time and then steps a simulated clock 30 minutes at a time.
 *
 * Build: make            (uses pkg-config; see docs/quickstart-c.md)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <support_access.h>

#define OWNER "{\"id\":\"alice\",\"roles\":[{\"role\":\"ORG_OWNER\"}]}"

static int check(sa_status s, const char *what) {
    if (s == SA_OK) return 1;
    fprintf(stderr, "%s: %s: %s\n", what, sa_status_name(s), sa_last_error_message());
    return 0;
}

static void show(const sa_decision *d, int64_t minutes) {
    printf("t+%3lldmin  logs %-7s %-22s", (long long)minutes, d->allowed ? "ALLOWED" : "denied",
           sa_reason_name(d->reason));
    if (d->has_remaining) {
        int64_t s = d->remaining_ms / 1000;
        printf("  %02lld:%02lld:%02lld left", (long long)(s / 3600), (long long)(s / 60 % 60), (long long)(s % 60));
    }
    printf("\n");
}

int main(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    const int64_t now = (int64_t)ts.tv_sec * 1000, minute = 60000;

    sa_policy *policy = NULL;
    if (!check(sa_policy_new("{\"orgId\":\"org-1\",\"restrictEmployeeAccess\":true}", &policy), "new policy"))
        return 1;
    int ok = check(sa_add_project(policy, OWNER, "p1", now), "add project") &&
             check(sa_add_cluster(policy, OWNER, "p1", "Cluster0", SA_CLUSTER_KIND_DEDICATED, false, now), "add cluster");

    uint32_t id = 0;
    sa_decision d;
    ok = ok && check(sa_cluster_id(policy, "Cluster0", &id), "cluster id") &&
         check(sa_evaluate_id(policy, id, SA_RESOURCE_DATABASE_LOGS, now, &d), "evaluate");
    if (ok) printf("before any grant: %s (%s)\n", d.allowed ? "allowed" : "denied", sa_reason_name(d.reason));

    int64_t expires = 0;
    ok = ok && check(sa_grant(policy, OWNER, "Cluster0", SA_GRANT_TYPE_CLUSTER_DATABASE_LOGS, now, true,
                              now + 120 * minute, &expires),
                     "grant");
    if (ok) printf("granted %s for 2 h\n", sa_grant_type_name(SA_GRANT_TYPE_CLUSTER_DATABASE_LOGS));
    for (int64_t m = 0; ok && m <= 150; m += 30) {
        ok = check(sa_evaluate_id(policy, id, SA_RESOURCE_DATABASE_LOGS, now + m * minute, &d), "evaluate");
        if (ok) show(&d, m);
    }

    char *record = NULL;
    uint64_t events = 0, bad_seq = 0;
    ok = ok && check(sa_export_record(policy, &record), "export") &&
         check(sa_verify_record(record, &events, &bad_seq), "verify");
    if (ok) printf("record verified: %llu events\n", (unsigned long long)events);

    /* Sign a checkpoint of the head (SPEC section 9) and verify the record against it, as a
     * verifier that trusts only the public key's text would. A real signer takes its 32 seed
     * bytes from the operating system (getrandom(2)) and keeps them secret. */
    uint8_t seed[32] = {7};
    sa_signing_key *key = NULL;
    char *public_key = NULL, *checkpoint = NULL;
    sa_checkpoints_verified v;
    ok = ok && check(sa_signing_key_from_seed(seed, sizeof seed, &key), "signing key") &&
         check(sa_signing_key_public_key(key, &public_key), "public key") &&
         check(sa_policy_checkpoint(policy, key, now + 150 * minute, &checkpoint), "checkpoint");
    const char *trusted[] = {public_key};
    ok = ok && check(sa_verify_checkpoints(record, checkpoint, trusted, 1, &v), "verify checkpoints");
    if (ok) printf("checkpoint verified: events 1-%llu signed\n", (unsigned long long)v.verified_up_to);
    sa_string_free(checkpoint);
    sa_string_free(public_key);
    sa_signing_key_free(key);
    sa_string_free(record);
    sa_policy_free(policy);
    return ok ? 0 : 1;
}
