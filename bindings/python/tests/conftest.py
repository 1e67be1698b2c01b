"""Shared fixtures: a small policy in a fixed state, and the repository paths."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from support_access import Actor, GrantType, Policy

ROOT = Path(__file__).resolve().parents[3]
VECTORS = ROOT / "tests" / "vectors" / "vectors.txt"

T0 = "2026-11-28T10:00:00Z"
T0_MS = 1795860000000  # 2026-11-28T10:00:00Z
HOUR = 3_600_000

OWNER = Actor.org_owner("alice")


@pytest.fixture
def policy() -> Iterator[Policy]:
    """A restricting org with project p1 and clusters Cluster0 (dedicated) and Sync0 (sync on)."""
    p = Policy("org-1", restrict_employee_access=True)
    p.add_project(OWNER, "p1", T0)
    p.add_cluster(OWNER, "p1", "Cluster0", T0)
    p.add_cluster(OWNER, "p1", "Sync0", T0, app_services_sync_enabled=True)
    yield p


@pytest.fixture
def granted(policy: Policy) -> Policy:
    """`policy` with a CLUSTER_INFRASTRUCTURE grant on Cluster0 from T0 to T0 + 24 h."""
    policy.grant(OWNER, "Cluster0", GrantType.CLUSTER_INFRASTRUCTURE, T0)
    return policy
