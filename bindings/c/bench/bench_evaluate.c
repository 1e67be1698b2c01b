/*
 * Micro-benchmark: nanoseconds per sa_evaluate_id (cluster id) and per sa_evaluate (by name)
 * through the C ABI. Not part of the tests; run by hand (docs/benchmarks.md), and compare with the
 * same loop in Rust: `cargo run -p support-access-c --release --example bench_rust`.
 *
 *   cc -O2 -std=c11 -Ibindings/c/include bindings/c/bench/bench_evaluate.c \
 *      target/release/libsupport_access.a -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc -o /tmp/bench_c
 *   /tmp/bench_c
 *
 * Setup (same as the Rust example): restricted org, 1000 dedicated clusters c0..c999, every
 * other one with a CLUSTER_INFRASTRUCTURE grant; the loop cycles clusters and the resources
 * INFRASTRUCTURE / DATABASE_LOGS / AUDIT_LOGS at a fixed time one hour after the grants.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "support_access.h"

#define CLUSTERS 1000
#define OWNER "{\"id\":\"alice\",\"roles\":[{\"role\":\"ORG_OWNER\"}]}"

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void must(sa_status s, const char *what) {
    if (s != SA_OK) {
        fprintf(stderr, "%s: %s: %s\n", what, sa_status_name(s), sa_last_error_message());
        exit(1);
    }
}

/* ----- issue 16's workload: 1,000 clusters, 100,000 requests with varying names, ~40 % of the
 * decisions carrying an active grant, against a plain C rule (FNV-1a hash table by name) in the
 * same run. ----- */
#define W_CL 1000
#define W_REQ 100000
#define W_SLOTS 4096
typedef struct {
    const char *name;
    int grant; /* -1: none, else the sa_grant_type */
    int64_t exp;
} w_entry;
static w_entry w_table[W_SLOTS];
static char w_names[W_CL][24];
static uint32_t w_hash(const char *s) {
    uint32_t h = 2166136261u;
    while (*s) h = (h ^ (uint8_t)*s++) * 16777619u;
    return h;
}
static const w_entry *w_find(const char *name) {
    for (uint32_t i = w_hash(name) & (W_SLOTS - 1);; i = (i + 1) & (W_SLOTS - 1)) {
        if (w_table[i].name == NULL) return NULL;
        if (strcmp(w_table[i].name, name) == 0) return &w_table[i];
    }
}
/* SPEC section 4 rules 2-7 by hand: allowed, and the time left (-1 without an active grant). */
static int w_rule(const char *name, int r, int64_t now, int64_t *remaining) {
    const w_entry *e = w_find(name);
    int g = e ? e->grant : -1;
    *remaining = g < 0 ? -1 : e->exp - now;
    if (r == SA_RESOURCE_DATABASE_DATA) return 0;
    if (r == SA_RESOURCE_SYNC_DATA) return g == SA_GRANT_TYPE_CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA;
    if (g < 0) return 0;
    if (g == SA_GRANT_TYPE_CLUSTER_DATABASE_LOGS) return r == SA_RESOURCE_DATABASE_LOGS;
    return 1;
}
static void workload(void) {
    const int64_t t0 = 1795860000000LL, now = t0 + 1800000LL;
    sa_policy *p = NULL;
    must(sa_policy_new("{\"orgId\":\"w16\",\"restrictEmployeeAccess\":true}", &p), "new");
    must(sa_add_project(p, OWNER, "p1", t0), "project");
    for (int i = 0; i < W_CL; i++) {
        snprintf(w_names[i], sizeof w_names[i], "cluster-%d", i);
        must(sa_add_cluster(p, OWNER, "p1", w_names[i], SA_CLUSTER_KIND_DEDICATED, true, t0), "cluster");
        int g = i % 5 < 2 ? i % 3 : -1;
        int64_t exp = t0 + 3600000LL + i * 1000LL;
        if (g >= 0) must(sa_grant(p, OWNER, w_names[i], (sa_grant_type)g, t0, true, exp, NULL), "grant");
        uint32_t h = w_hash(w_names[i]) & (W_SLOTS - 1);
        while (w_table[h].name) h = (h + 1) & (W_SLOTS - 1);
        w_table[h] = (w_entry){w_names[i], g, exp};
    }
    static const char *req_name[W_REQ];
    static int req_res[W_REQ];
    uint32_t seed = 16;
    for (int i = 0; i < W_REQ; i++) {
        seed = seed * 1103515245u + 12345u;
        req_name[i] = w_names[(seed >> 8) % W_CL];
        seed = seed * 1103515245u + 12345u;
        req_res[i] = (int)((seed >> 8) % 5);
    }
    sa_decision d;
    long with_grant = 0;
    for (int i = 0; i < W_REQ; i++) {
        int64_t rem;
        int allowed = w_rule(req_name[i], req_res[i], now, &rem);
        must(sa_evaluate(p, req_name[i], (sa_resource)req_res[i], now, &d), "evaluate");
        if (d.allowed != allowed || (d.has_grant ? d.remaining_ms : -1) != rem) {
            fprintf(stderr, "workload: request %d differs from the plain rule\n", i);
            exit(1);
        }
        with_grant += d.has_grant;
    }
    printf("issue 16 workload: %d clusters, %d requests, %.0f %% with an active grant\n", W_CL, W_REQ,
           100.0 * (double)with_grant / W_REQ);
    for (int round = 0; round < 3; round++) {
        long sink = 0;
        double start = now_ns();
        for (int i = 0; i < W_REQ; i++) {
            int64_t rem;
            sink += w_rule(req_name[i], req_res[i], now, &rem) + (rem > 0);
        }
        double base = (now_ns() - start) / W_REQ;
        start = now_ns();
        for (int i = 0; i < W_REQ; i++) {
            if (sa_evaluate(p, req_name[i], (sa_resource)req_res[i], now, &d) != SA_OK) exit(1);
            sink += d.allowed + d.has_grant;
        }
        double by_name = (now_ns() - start) / W_REQ;
        printf("  round %d: plain C rule %.1f ns/request (baseline), sa_evaluate (by name) %.1f ns/call (%.2fx) [%ld]\n",
               round, base, by_name, by_name / base, sink);
    }
    sa_policy_free(p);
}

int main(int argc, char **argv) {
    long iters = argc > 1 ? atol(argv[1]) : 20000000L;
    const int64_t t0 = 1795860000000LL, later = t0 + 3600000LL;
    sa_policy *p = NULL;
    must(sa_policy_new("{\"orgId\":\"org-1\",\"restrictEmployeeAccess\":true}", &p), "new");
    must(sa_add_project(p, OWNER, "p1", t0), "project");
    static char names[CLUSTERS][16];
    static uint32_t ids[CLUSTERS];
    for (int i = 0; i < CLUSTERS; i++) {
        snprintf(names[i], sizeof names[i], "c%d", i);
        must(sa_add_cluster(p, OWNER, "p1", names[i], SA_CLUSTER_KIND_DEDICATED, false, t0), "cluster");
        if (i % 2 == 0)
            must(sa_grant(p, OWNER, names[i], SA_GRANT_TYPE_CLUSTER_INFRASTRUCTURE, t0, false, 0, NULL), "grant");
        must(sa_cluster_id(p, names[i], &ids[i]), "id");
    }
    const sa_resource resources[3] = {SA_RESOURCE_INFRASTRUCTURE, SA_RESOURCE_DATABASE_LOGS, SA_RESOURCE_AUDIT_LOGS};
    sa_decision d;

    for (int round = 0; round < 3; round++) {
        long allowed = 0;
        double start = now_ns();
        for (long i = 0; i < iters; i++) {
            if (sa_evaluate_id(p, ids[i % CLUSTERS], resources[i % 3], later, &d) != SA_OK) return 1;
            allowed += d.allowed;
        }
        double by_id = (now_ns() - start) / (double)iters;
        start = now_ns();
        for (long i = 0; i < iters; i++) {
            if (sa_evaluate(p, names[i % CLUSTERS], resources[i % 3], later, &d) != SA_OK) return 1;
            allowed += d.allowed;
        }
        double by_name = (now_ns() - start) / (double)iters;
        printf("round %d: sa_evaluate_id %.1f ns/op, sa_evaluate (by name) %.1f ns/op (%ld allowed)\n", round, by_id,
               by_name, allowed);
    }
    sa_policy_free(p);
    workload();
    return 0;
}
