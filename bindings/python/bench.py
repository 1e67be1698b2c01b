"""Benchmarks: ns per `Policy.evaluate` call and per decision in `Policy.evaluate_many`.

Usage: python bench.py [--quick]

The policy: a restricting org, 1,000 clusters in 10 projects, every third one with an active
grant. Each figure is the best of several timed repeats (the least disturbed by other load).
"""

from __future__ import annotations

import argparse
import platform
import sys
import timeit
from datetime import datetime, timezone
from typing import Callable, Dict, List, Optional, Tuple

import support_access as sa
from support_access import Actor, GrantType, Policy, Resource

T0 = 1795860000000  # 2026-11-28T10:00:00Z
NOW = T0 + 3_600_000


def build(clusters: int = 1000) -> Policy:
    p = Policy("org-bench", restrict_employee_access=True)
    owner = Actor.org_owner("bench")
    for j in range(10):
        p.add_project(owner, f"p{j}", T0)
    for i in range(clusters):
        p.add_cluster(owner, f"p{i % 10}", f"Cluster{i}", T0)
        if i % 3 == 0:
            p.grant(owner, f"Cluster{i}", GrantType.CLUSTER_INFRASTRUCTURE, T0)
    return p


def best_ns(fn: Callable[[], object], number: int, repeat: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description="support_access Python benchmarks")
    ap.add_argument("--quick", action="store_true", help="fewer iterations (smoke test)")
    args = ap.parse_args()
    n, repeat, batch = (20_000, 3, 10_000) if args.quick else (500_000, 7, 100_000)

    p = build()
    ev = p.evaluate
    logs = Resource.DATABASE_LOGS
    aware = datetime(2026, 11, 28, 11, tzinfo=timezone.utc)
    rfc = "2026-11-28T11:00:00Z"
    print(f"support_access {sa.__version__}, Python {platform.python_version()}, {platform.machine()}")

    singles: List[Tuple[str, Callable[[], object]]] = [
        ("evaluate(name, Resource, epoch ms)", lambda: ev("Cluster42", logs, NOW)),
        ("evaluate(name, 'DATABASE_LOGS', epoch ms)", lambda: ev("Cluster42", "DATABASE_LOGS", NOW)),
        ("evaluate(name, Resource)  [now = clock]", lambda: ev("Cluster42", logs)),
        ("evaluate(name, Resource, RFC 3339 str)", lambda: ev("Cluster42", logs, rfc)),
        ("evaluate(name, Resource, aware datetime)", lambda: ev("Cluster42", logs, aware)),
    ]
    # The lambda's own call costs something too: measure it and subtract nothing, but show it.
    noop = best_ns(lambda: None, n, repeat)
    for label, fn in singles:
        print(f"{label:<46} {best_ns(fn, n, repeat):8.0f} ns/call")
    print(f"{'(an empty lambda call, included above)':<46} {noop:8.0f} ns/call")

    resources = list(Resource)
    triples = [(f"Cluster{i % 1000}", resources[i % 5], NOW) for i in range(batch)]
    pairs = [(f"Cluster{i % 1000}", resources[i % 5]) for i in range(batch)]
    many3 = best_ns(lambda: p.evaluate_many(triples), 1, repeat) / batch
    many2 = best_ns(lambda: p.evaluate_many(pairs, NOW), 1, repeat) / batch
    print(f"{f'evaluate_many, {batch:,} (name, Resource, ms)':<46} {many3:8.0f} ns/decision")
    print(f"{f'evaluate_many, {batch:,} (name, Resource) + now':<46} {many2:8.0f} ns/decision")
    issue16_workload(repeat)
    sys.stdout.flush()


def issue16_workload(repeat: int) -> None:
    """Issue 16's workload: 1,000 clusters, 100,000 requests with varying names, about 40 % of
    the decisions carrying an active grant, against a plain dict rule in the same run."""
    import random

    cl, req = 1000, 100_000
    types = list(GrantType)
    R = Resource
    covers = {
        GrantType.CLUSTER_INFRASTRUCTURE: {R.INFRASTRUCTURE, R.DATABASE_LOGS, R.AUDIT_LOGS},
        GrantType.CLUSTER_DATABASE_LOGS: {R.DATABASE_LOGS},
        GrantType.CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA: {
            R.INFRASTRUCTURE, R.DATABASE_LOGS, R.AUDIT_LOGS, R.SYNC_DATA,
        },
    }
    sync = GrantType.CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA
    p = Policy("org-w16", restrict_employee_access=True)
    owner = Actor.org_owner("bench")
    p.add_project(owner, "p1", T0)
    rule: Dict[str, Optional[Tuple[GrantType, int]]] = {}
    for i in range(cl):
        name = f"cluster-{i}"
        p.add_cluster(owner, "p1", name, T0, app_services_sync_enabled=True)
        if i % 5 < 2:
            exp = T0 + 3_600_000 + i * 1000
            p.grant(owner, name, types[i % 3], T0, exp)
            rule[name] = (types[i % 3], exp)
        else:
            rule[name] = None
    rng = random.Random(16)
    resources = list(Resource)
    now = T0 + 1_800_000
    reqs = [(f"cluster-{rng.randrange(cl)}", resources[rng.randrange(5)], now) for _ in range(req)]

    def dict_rule(name: str, resource: Resource, t: int) -> Tuple[bool, str, Optional[int]]:
        g = rule.get(name)
        if resource is R.DATABASE_DATA:
            allowed, reason = False, "DATABASE_DATA_NEVER_ACCESSIBLE"
        elif resource is R.SYNC_DATA:
            allowed = g is not None and g[0] is sync
            reason = "GRANT_ACTIVE" if allowed else "SYNC_DATA_REQUIRES_GRANT"
        elif g is None:
            allowed, reason = False, "NO_GRANT"
        elif resource in covers[g[0]]:
            allowed, reason = True, "GRANT_ACTIVE"
        else:
            allowed, reason = False, "NOT_COVERED_BY_GRANT"
        return (allowed, reason, None if g is None else g[1] - t)

    got = p.evaluate_many(reqs[:2000])
    for q, d in zip(reqs[:2000], got):
        want = dict_rule(*q)
        assert (d.allowed, d.reason.value) == want[:2], (q, d, want)
    with_grant = sum(d.grant_type is not None for d in got) / len(got)
    ev = p.evaluate

    def run_rule() -> None:
        for q in reqs:
            dict_rule(*q)

    def run_one() -> None:
        for q in reqs:
            ev(*q)

    base = best_ns(run_rule, 1, repeat) / req
    one = best_ns(run_one, 1, repeat) / req
    many = best_ns(lambda: p.evaluate_many(reqs), 1, repeat) / req
    print(f"issue 16 workload: {cl:,} clusters, {req:,} requests, {with_grant:.0%} with an active grant")
    print(f"{'  dict rule, per request (baseline)':<46} {base:8.0f} ns/request")
    print(f"{'  Policy.evaluate, per call':<46} {one:8.0f} ns/call ({one / base:.2f}x, target <= 1.2)")
    print(f"{'  Policy.evaluate_many(100,000), per decision':<46} {many:8.0f} ns/decision ({many / base:.2f}x)")


if __name__ == "__main__":
    main()
