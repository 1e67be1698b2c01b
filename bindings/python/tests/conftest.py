"""Shared fixtures: a small policy in a fixed state, the repository paths, a thread runner."""

from __future__ import annotations

from pathlib import Path
import sys
import threading
from typing import Callable, Iterator, List

import pytest

from support_access import Actor, GrantType, Policy

ROOT = Path(__file__).resolve().parents[3]
VECTORS = ROOT / "tests" / "vectors" / "vectors.txt"
# The one Python reader of that file (tests/vectors/vectorfile.py), shared with the plugin's host.
sys.path.insert(0, str(VECTORS.parent))

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


def run_threads(targets: List[Callable[[], None]], timeout: float = 120) -> None:
    """Runs each target on a thread of its own; fails if one is stuck or any raised."""
    errors: List[BaseException] = []

    def wrap(f: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                f()
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        return run

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
        assert not t.is_alive(), "a thread is stuck (deadlock?)"
    assert not errors, errors
