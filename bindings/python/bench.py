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
from typing import Callable, List, Tuple

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
    sys.stdout.flush()


if __name__ == "__main__":
    main()
