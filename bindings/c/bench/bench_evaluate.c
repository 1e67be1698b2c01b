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
    return 0;
}
