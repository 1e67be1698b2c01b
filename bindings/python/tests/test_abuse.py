"""FFI abuse (issue 8): wrong types, None, huge strings, odd times and threads.

Every bad call must raise a typed, documented exception (a ``SupportAccessError`` subclass, or
``TypeError``/``ValueError``), never ``PanicException`` or a crash, and must leave the exported
record unchanged.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

import support_access as sa
from support_access import Actor, GrantType, Policy, Resource

from conftest import HOUR, OWNER, T0_MS, run_threads

LOGS = Resource.DATABASE_LOGS
INFRA = GrantType.CLUSTER_INFRASTRUCTURE
NOW = T0_MS + HOUR
MIB = 1 << 20

WRONG_STR: List[Any] = [1, 1.5, b"Cluster0", bytearray(b"x"), object(), ["Cluster0"], {"a": 1}, True]
WRONG_TIME: List[Any] = [
    float("nan"),
    float("inf"),
    float("-inf"),
    1e300,
    -0.0,
    True,
    False,
    b"2026-11-28T10:00:00Z",
    object(),
    [NOW],
    timedelta(hours=1),
]
INVALID_TIME: List[Any] = [-1, 10**30, -(10**30), 2**63, 2**64, "", "NaN", "Infinity", "x" * 4096]


def expect_typed(p: Policy, fn: Callable[[], Any], *types: type[BaseException]) -> BaseException:
    """`fn` raises one of `types` (never a panic), and the record of `p` did not change."""
    before = p.export_record()
    with pytest.raises(BaseException) as e:
        fn()
    err = e.value
    assert type(err).__name__ != "PanicException", repr(err)
    assert isinstance(err, (sa.SupportAccessError, TypeError, ValueError)), repr(err)
    if types:
        assert isinstance(err, types), repr(err)
    if isinstance(err, sa.SupportAccessError):
        assert err.code in sa.ERROR_CLASSES
    assert p.export_record() == before
    return err


def mutations(p: Policy, bad: Any) -> List[Callable[[], Any]]:
    """Every main method with `bad` in turn in each string position (`kind` may be None)."""
    calls: List[Callable[[], Any]] = [
        lambda: p.add_project(OWNER, bad, NOW),
        lambda: p.remove_project(OWNER, bad, NOW),
        lambda: p.add_cluster(OWNER, bad, "C9", NOW),
        lambda: p.add_cluster(OWNER, "p1", bad, NOW),
        lambda: p.remove_cluster(OWNER, bad, NOW),
        lambda: p.grant(OWNER, bad, INFRA, NOW),
        lambda: p.grant(OWNER, "Cluster0", bad, NOW),
        lambda: p.revoke(OWNER, bad, NOW),
        lambda: p.evaluate(bad, LOGS, NOW),
        lambda: p.evaluate("Cluster0", bad, NOW),
        lambda: p.evaluate_at(bad, LOGS, NOW),
        lambda: p.evaluate_many([(bad, LOGS)], NOW),
        lambda: p.evaluate_many([("Cluster0", bad)], NOW),
        lambda: p.remaining(bad, NOW),
        lambda: p.active_grant(bad, NOW),
        lambda: p.begin_log_download(bad, LOGS, NOW),
        lambda: p.begin_log_download("Cluster0", bad, NOW),
        lambda: p.continue_log_download(bad, NOW),
        lambda: p.finish_log_download(bad, NOW),
        lambda: p.apply(bad),
        lambda: Policy.from_json(bad),
        lambda: Policy.replay(bad),
        lambda: sa.verify_record(bad),
        lambda: Policy(bad),
        lambda: Actor(bad),
    ]
    if bad is not None:
        calls.append(lambda: p.add_cluster(OWNER, "p1", "C9", NOW, kind=bad))
    return calls


@pytest.mark.parametrize("bad", WRONG_STR, ids=lambda v: type(v).__name__)
def test_wrong_types_for_strings(granted: Policy, bad: Any) -> None:
    for i, call in enumerate(mutations(granted, bad)):
        err = expect_typed(granted, call)
        if isinstance(bad, (int, float, bytes, bytearray, list, dict)) or type(bad) is object:
            assert isinstance(err, (TypeError, sa.SupportAccessError)), (i, err)


@pytest.mark.parametrize("bad", [1, "alice", None, object(), Actor, OWNER.roles])
def test_wrong_actor(granted: Policy, bad: Any) -> None:
    for call in [
        lambda: granted.set_restriction(bad, False, NOW),
        lambda: granted.add_project(bad, "p9", NOW),
        lambda: granted.add_cluster(bad, "p1", "C9", NOW),
        lambda: granted.remove_cluster(bad, "Cluster0", NOW),
        lambda: granted.grant(bad, "Cluster0", INFRA, NOW),
        lambda: granted.revoke(bad, "Cluster0", NOW),
    ]:
        expect_typed(granted, call, TypeError)


def test_none_where_not_allowed(granted: Policy) -> None:
    for call in mutations(granted, None):
        expect_typed(granted, call, TypeError, sa.SupportAccessError)
    for call in [
        lambda: granted.set_restriction(OWNER, None, NOW),  # type: ignore[arg-type]
        lambda: granted.evaluate_many(None, NOW),  # type: ignore[arg-type]
        lambda: granted.evaluate_many([None], NOW),  # type: ignore[list-item]
        lambda: granted.evaluate_many([("Cluster0",)], NOW),  # type: ignore[list-item]
        lambda: granted.evaluate_many([("Cluster0", LOGS, NOW, NOW)], NOW),  # type: ignore[list-item]
        lambda: granted.load_atlas(None, [], NOW),  # type: ignore[arg-type]
        lambda: granted.load_atlas({}, None, NOW),  # type: ignore[arg-type]
        lambda: granted.load_atlas({}, [None], NOW),  # type: ignore[list-item]
        lambda: granted.evaluate_at("Cluster0", LOGS, None),  # type: ignore[arg-type]
        lambda: Actor("a", [None]),  # type: ignore[list-item]
    ]:
        expect_typed(granted, call)


@pytest.mark.parametrize("bad", WRONG_TIME, ids=repr)
def test_wrong_time_types(granted: Policy, bad: Any) -> None:
    for call in [
        lambda: granted.evaluate("Cluster0", LOGS, bad),
        lambda: granted.evaluate_at("Cluster0", LOGS, bad),
        lambda: granted.evaluate_many([("Cluster0", LOGS, bad)], NOW),
        lambda: granted.evaluate_many([("Cluster0", LOGS)], bad),
        lambda: granted.revoke(OWNER, "Cluster0", bad),
        lambda: granted.grant(OWNER, "Cluster0", INFRA, bad),
        lambda: granted.grant(OWNER, "Cluster0", INFRA, NOW, bad),
        lambda: granted.add_project(OWNER, "p9", bad),
        lambda: granted.expire_due(bad),
        lambda: granted.clusters(bad),
        lambda: granted.remaining("Cluster0", bad),
        lambda: Policy("o", now=bad),
    ]:
        expect_typed(granted, call, TypeError, sa.InvalidTimestamp)


@pytest.mark.parametrize("bad", INVALID_TIME, ids=lambda v: repr(v)[:20])
def test_out_of_range_times(granted: Policy, bad: Any) -> None:
    for call in [
        lambda: granted.evaluate("Cluster0", LOGS, bad),
        lambda: granted.revoke(OWNER, "Cluster0", bad),
        lambda: granted.grant(OWNER, "Cluster0", INFRA, NOW, bad),
        lambda: granted.expire_due(bad),
        lambda: Policy("o", now=bad),
    ]:
        expect_typed(granted, call, sa.InvalidTimestamp)


def test_naive_datetimes_everywhere(granted: Policy) -> None:
    naive = datetime(2026, 11, 28, 11)
    for call in [
        lambda: granted.evaluate("Cluster0", LOGS, naive),
        lambda: granted.evaluate_at("Cluster0", LOGS, naive),
        lambda: granted.evaluate_many([("Cluster0", LOGS, naive)]),
        lambda: granted.grant(OWNER, "Cluster0", INFRA, NOW, naive),
        lambda: granted.grant(OWNER, "Cluster0", INFRA, naive),
        lambda: granted.revoke(OWNER, "Cluster0", naive),
        lambda: granted.add_cluster(OWNER, "p1", "C9", naive),
        lambda: granted.expire_due(naive),
        lambda: granted.begin_log_download("Cluster0", LOGS, naive),
        lambda: granted.clusters(naive),
        lambda: granted.load_atlas({}, [], naive),
        lambda: Policy("o", now=naive),
    ]:
        err = expect_typed(granted, call, sa.InvalidTimestamp)
        assert isinstance(err, ValueError)
    # extreme aware datetimes: before the epoch is a typed error, the year 9999 is still valid
    expect_typed(granted, lambda: granted.evaluate("Cluster0", LOGS, datetime.min.replace(tzinfo=timezone.utc)),
                 sa.InvalidTimestamp)
    assert not granted.evaluate("Cluster0", LOGS, datetime.max.replace(tzinfo=timezone.utc)).allowed


def test_huge_strings(granted: Policy) -> None:
    huge = "C" * (64 * MIB)
    for call in [
        lambda: granted.add_cluster(OWNER, "p1", huge, NOW),
        lambda: granted.add_project(OWNER, huge, NOW),
        lambda: granted.evaluate(huge, LOGS, NOW),
        lambda: granted.grant(OWNER, huge, INFRA, NOW),
        lambda: granted.grant(OWNER, "Cluster0", huge, NOW),
        lambda: granted.evaluate("Cluster0", huge, NOW),
        lambda: granted.evaluate("Cluster0", LOGS, huge),
        lambda: Actor(huge),
        lambda: Policy(huge),
    ]:
        expect_typed(granted, call, sa.SupportAccessError)
    before = granted.export_record()
    for cmd in [
        json.dumps({"op": "addCluster", "actor": {"id": "alice", "roles": [{"role": "ORG_OWNER"}]},
                    "projectId": "p1", "name": huge, "now": "2026-11-28T11:00:00Z"}),
        json.dumps({"op": "evaluate", "cluster": huge, "resource": "DATABASE_LOGS", "now": "2026-11-28T11:00:00Z"}),
        huge,
        "[" * (64 * MIB),
    ]:  # fmt: skip
        out = json.loads(granted.apply(cmd))
        assert "error" in out, str(out)[:200]
        assert out["error"]["code"] in sa.ERROR_CLASSES
    assert granted.export_record() == before
    # lone surrogates cannot cross into Rust as UTF-8: a clean error, not a panic
    for call in [
        lambda: granted.evaluate("Cluster\ud800", LOGS, NOW),
        lambda: granted.apply('{"op":"\udfff"}'),
        lambda: granted.add_project(OWNER, "\ud800", NOW),
    ]:
        expect_typed(granted, call)
    # interior NUL and control characters
    expect_typed(granted, lambda: granted.add_cluster(OWNER, "p1", "C\x009", NOW), sa.InvalidClusterName)
    expect_typed(granted, lambda: granted.add_project(OWNER, "p\x00", NOW), sa.SupportAccessError)


class _RaisingTz(tzinfo):
    def utcoffset(self, dt: Optional[datetime]) -> timedelta:
        raise RuntimeError("tz boom")

    def dst(self, dt: Optional[datetime]) -> None:
        return None

    def tzname(self, dt: Optional[datetime]) -> str:
        return "raising"


class _WeirdTz(tzinfo):
    def utcoffset(self, dt: Optional[datetime]) -> Any:
        return "x"

    def dst(self, dt: Optional[datetime]) -> None:
        return None

    def tzname(self, dt: Optional[datetime]) -> str:
        return "weird"


def test_hostile_python_values(granted: Policy) -> None:
    """Exceptions from the caller's own objects propagate as they are; nothing is recorded."""

    def requests() -> Iterator[Tuple[str, str]]:
        yield ("Cluster0", "DATABASE_LOGS")
        raise RuntimeError("gen boom")

    cases: List[Tuple[Callable[[], Any], type[BaseException]]] = [
        (lambda: granted.evaluate("Cluster0", LOGS, datetime(2026, 11, 28, 11, tzinfo=_RaisingTz())), RuntimeError),
        (lambda: granted.revoke(OWNER, "Cluster0", datetime(2026, 11, 28, 11, tzinfo=_RaisingTz())), RuntimeError),
        (lambda: granted.evaluate("Cluster0", LOGS, datetime(2026, 11, 28, 11, tzinfo=_WeirdTz())), TypeError),
        (lambda: granted.evaluate_many(requests(), NOW), RuntimeError),
    ]
    for call, exc in cases:
        before = granted.export_record()
        with pytest.raises(exc):
            call()
        assert granted.export_record() == before
    cyclic: Dict[str, Any] = {}
    cyclic["self"] = cyclic
    for call in [
        lambda: granted.load_atlas(cyclic, [], NOW),
        lambda: granted.load_atlas({"x": {1, 2}}, [], NOW),
        lambda: granted.load_atlas({b"x": 1}, [], NOW),  # type: ignore[dict-item]
        lambda: granted.load_atlas({"restrictEmployeeAccess": float("nan")}, [], NOW),
        lambda: granted.load_atlas({"restrictEmployeeAccess": 10**100}, [], NOW),
        lambda: granted.load_atlas({}, [{"name": "x"}], NOW),
        lambda: granted.load_atlas({}, ["Cluster0"], NOW),  # type: ignore[list-item]
        lambda: granted.grant(OWNER, "Cluster0", INFRA, NOW, timedelta(days=1)),  # type: ignore[arg-type]
        lambda: Policy("o", max_grant_duration=timedelta(microseconds=1)),
        lambda: Policy.from_json("[" * 100_000),
        lambda: Policy.replay(granted.export_record() + "\x00"),
    ]:
        expect_typed(granted, call, TypeError, sa.SupportAccessError)
    before = granted.export_record()
    for cmd in ['{"a":' * 100_000, "[" * 100_000, "\x00", "[]", "1e999", '{"op":"evaluate","cluster":"\\u0000"}']:
        out = json.loads(granted.apply(cmd))
        assert out["error"]["code"] in sa.ERROR_CLASSES, cmd[:20]
    assert granted.export_record() == before


def test_calls_after_errors_still_work(granted: Policy) -> None:
    for _ in range(100):
        with pytest.raises(sa.SupportAccessError):
            granted.revoke(OWNER, "Nope", NOW)
        with pytest.raises(TypeError):
            granted.evaluate(None, LOGS, NOW)  # type: ignore[arg-type]
    assert granted.evaluate("Cluster0", LOGS, NOW).allowed
    assert sa.verify_record(granted.export_record()) == len(granted.record)


def test_concurrent_mixed_use_of_one_policy() -> None:
    p = Policy("org-1", restrict_employee_access=True)
    p.add_project(OWNER, "p1", T0_MS)
    n_clusters = 8
    for i in range(n_clusters):
        p.add_cluster(OWNER, "p1", f"C{i}", T0_MS)
    start = len(p.record)
    ok_mutations = [0] * 8
    now = T0_MS + HOUR

    def worker(k: int) -> None:
        name = f"C{k % n_clusters}"
        big = [(f"C{j % n_clusters}", LOGS) for j in range(5000)]  # big enough to release the GIL
        for i in range(600):
            step = i % 6
            try:
                if step == 0:
                    p.grant(OWNER, name, INFRA, now)
                    ok_mutations[k] += 1
                elif step == 1:
                    p.revoke(OWNER, name, now)
                    ok_mutations[k] += 1
                elif step == 2:
                    p.evaluate(name, LOGS, now)
                    p.evaluate_many([(f"C{j}", LOGS) for j in range(n_clusters)], now)
                    if i % 60 == 2:
                        assert len(p.evaluate_many(big, now)) == len(big)
                elif step == 3:
                    p.evaluate(None, LOGS, now)  # type: ignore[arg-type]
                elif step == 4:
                    p.grant(OWNER, name, "BOGUS", now)
                else:
                    json.loads(p.apply('{"op":"evaluate","cluster":"%s","resource":"DATABASE_LOGS",'
                                       '"now":"2026-11-28T11:00:00Z"}' % name))
            except (sa.NoActiveGrant, sa.InvalidEnumValue, TypeError):
                pass

    run_threads([functools.partial(worker, k) for k in range(8)], timeout=60)
    record = p.export_record()
    assert sa.verify_record(record) == len(p.record)
    assert len(p.record) == start + sum(ok_mutations)
    types = [e.type for e in p.record[start:]]
    assert all(t in ("EMPLOYEE_ACCESS_GRANTED", "EMPLOYEE_ACCESS_REVOKED") for t in types), set(types)
    assert Policy.replay(record) == p
