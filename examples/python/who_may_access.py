"""Who may MongoDB support reach, and for how long? Reads Atlas Admin API JSON, prints a table.

Usage:
    python who_may_access.py [--org-settings FILE] [--clusters FILE] [--now TIME] [--record FILE]

The two inputs are what the Admin API returns for `GET /orgs/{orgId}/settings` and
`GET /groups/{groupId}/clusters` (the sample files next to this script). The policy's
tamper-evident record is written as JSON Lines to `--record`.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import List, Optional

import support_access as sa
from support_access import Policy, Resource

HERE = Path(__file__).resolve().parent


def countdown(left: Optional[timedelta]) -> str:
    if left is None:
        return "-"
    minutes = int(left.total_seconds()) // 60
    return f"{minutes // 60}h{minutes % 60:02d}m left"


def parse_now(text: Optional[str]) -> datetime:
    if text is None:
        return datetime.now(timezone.utc)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--org-id", default="5f0e1d2c3b4a596877665544")
    ap.add_argument("--org-settings", type=Path, default=HERE / "org_settings.json")
    ap.add_argument("--clusters", type=Path, default=HERE / "clusters.json")
    ap.add_argument("--now", help="RFC 3339 time to evaluate at (default: the current UTC time)")
    ap.add_argument("--record", type=Path, default=Path("support-access-record.jsonl"))
    args = ap.parse_args()

    now = parse_now(args.now)
    policy = Policy(args.org_id)
    settings = json.loads(args.org_settings.read_text(encoding="utf-8"))
    # A listClusters page ({"results": [...], ...}) or a plain list: the core reads either.
    clusters = json.loads(args.clusters.read_text(encoding="utf-8"))
    summary = policy.load_atlas(settings, clusters, now)
    print(f"organization {policy.org_id}: restrictEmployeeAccess={policy.restrict_employee_access}")
    print(
        f"loaded {summary.clusters} clusters in {summary.projects} projects, {summary.grants} grants "
        f"in force ({summary.expired_grants_skipped} already expired)"
    )
    print(f"as of {now.isoformat()}\n")

    for cluster in policy.clusters(now):
        grant = cluster.grant
        about = (
            f"grant {grant.grant_type.value}, {countdown(policy.remaining(cluster.name, now))}"
            if grant
            else "no active grant"
        )
        print(f"{cluster.name} (project {cluster.project_id}, {cluster.kind.value}): {about}")
        allowed: List[str] = []
        denied: List[str] = []
        for resource in Resource:
            d = policy.evaluate(cluster.name, resource, now)
            if d.allowed:
                allowed.append(f"{resource.value} ({d.reason.value})")
            else:
                denied.append(f"{resource.value} ({d.reason.value})")
        print(f"    may reach: {', '.join(allowed) or 'nothing'}")
        print(f"    denied:    {', '.join(denied)}")

    # The same questions in one batch call, e.g. for a dashboard refresh.
    batch = policy.evaluate_many([(c.name, Resource.DATABASE_LOGS) for c in policy.clusters(now)], now)
    readable = sum(d.allowed for d in batch)
    print(f"\nsupport may read database logs on {readable} of {len(batch)} clusters")

    # Record expiries up to now, then write the record.
    expired = policy.expire_due(now)
    for e in expired:
        print(f"expired: {e.fields['cluster']} at {e.at.isoformat()}")
    args.record.parent.mkdir(parents=True, exist_ok=True)
    args.record.write_text(policy.export_record(), encoding="utf-8")
    count = sa.verify_record(args.record.read_text(encoding="utf-8"))
    print(f"wrote {count} events to {args.record} (verified)")


if __name__ == "__main__":
    main()
