"""One policy shared between threads: no crash, no deadlock, no torn state."""

from __future__ import annotations

import threading
from typing import Callable, List

import support_access as sa
from support_access import Actor, GrantType, Policy, Reason, Resource

from conftest import HOUR, OWNER, T0_MS, run_threads

INFRA = GrantType.CLUSTER_INFRASTRUCTURE
LOGS_ONLY = GrantType.CLUSTER_DATABASE_LOGS


def test_readers_never_see_a_torn_grant() -> None:
    """A writer flips the grant type; every decision must match one whole grant."""
    p = Policy("org-1", restrict_employee_access=True, max_grant_duration=None)
    p.add_project(OWNER, "p1", T0_MS)
    p.add_cluster(OWNER, "p1", "C0", T0_MS)
    now = T0_MS + HOUR
    stop = threading.Event()
    grants_done = [0]

    def writer() -> None:
        manager = Actor.support_access_manager("m", "p1")
        for i in range(400):
            p.grant(manager, "C0", INFRA if i % 2 else LOGS_ONLY, T0_MS, T0_MS + (i + 2) * HOUR)
            grants_done[0] += 1
        stop.set()

    def reader() -> None:
        while not stop.is_set():
            d = p.evaluate("C0", Resource.INFRASTRUCTURE, now)
            if d.grant_type is None:
                assert d.reason is Reason.NO_GRANT
            elif d.grant_type is INFRA:
                assert d.allowed and d.reason is Reason.GRANT_ACTIVE
            else:
                assert not d.allowed and d.reason is Reason.NOT_COVERED_BY_GRANT
            assert d.expiration_time is None or d.remaining_ms is not None

    def batch_reader() -> None:
        reqs = [("C0", Resource.AUDIT_LOGS, now)] * 2000
        while not stop.is_set():
            out = p.evaluate_many(reqs)
            assert len(out) == len(reqs)
            for d in out:
                assert d.allowed == (d.grant_type is INFRA)

    run_threads([writer, reader, reader, batch_reader])
    assert grants_done[0] == 400
    assert sa.verify_record(p.export_record()) == len(p.record) == 3 + 400


def test_concurrent_writers_keep_a_valid_record() -> None:
    p = Policy("org-1", restrict_employee_access=True)
    p.add_project(OWNER, "p1", T0_MS)
    for i in range(8):
        p.add_cluster(OWNER, "p1", f"C{i}", T0_MS)
    clock = threading.Lock()
    tick = [T0_MS]

    def next_time() -> int:
        with clock:
            tick[0] += 1000
            return tick[0]

    def worker(k: int) -> Callable[[], None]:
        def run() -> None:
            for i in range(150):
                name = f"C{(k + i) % 8}"
                try:
                    if i % 3 == 2:
                        p.revoke(OWNER, name, next_time())
                    else:
                        p.grant(OWNER, name, INFRA, next_time())
                except (sa.NoActiveGrant, sa.ClockWentBackwards):
                    pass  # another thread got there first, or took a later time before us
                p.evaluate(name, Resource.DATABASE_LOGS, next_time())
                p.apply('{"op":"remaining","cluster":"%s","now":%d}' % (name, next_time()))

        return run

    run_threads([worker(k) for k in range(4)])
    text = p.export_record()
    assert sa.verify_record(text) == len(p.record)
    assert Policy.replay(text) == p


def test_large_batches_run_alongside_other_threads() -> None:
    """Huge batches (evaluated with the GIL released) next to a busy Python thread."""
    p = Policy("org-1")
    p.add_project(OWNER, "p1", T0_MS)
    p.add_cluster(OWNER, "p1", "C0", T0_MS)
    reqs = [("C0", Resource.INFRASTRUCTURE, T0_MS)] * 200_000
    done = threading.Event()
    ticks = [0]

    def spinner() -> None:
        while not done.is_set():
            ticks[0] += 1

    t = threading.Thread(target=spinner)
    t.start()
    try:
        for _ in range(3):
            assert all(d.allowed for d in p.evaluate_many(reqs))
    finally:
        done.set()
        t.join()
    assert ticks[0] > 0
