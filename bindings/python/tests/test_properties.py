"""Hypothesis property tests over the typed API and `apply`."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import List, Optional, Tuple

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import support_access as sa
from support_access import GrantType, Policy, Reason, Resource

from conftest import HOUR, OWNER, T0_MS

MAX_MS = 253402300799999
CLUSTERS = ["C0", "C1", "Sync0"]

times = st.integers(min_value=0, max_value=MAX_MS)
near_times = st.integers(min_value=T0_MS - 48 * HOUR, max_value=T0_MS + 72 * HOUR)
resources = st.sampled_from(list(Resource))
grant_types = st.sampled_from(list(GrantType))
settings.register_profile("ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")


def fresh(restrict: bool = True) -> Policy:
    p = Policy("org-1", restrict_employee_access=restrict)
    p.add_project(OWNER, "p1", 0)
    p.add_cluster(OWNER, "p1", "C0", 0)
    p.add_cluster(OWNER, "p1", "C1", 0)
    p.add_cluster(OWNER, "p1", "Sync0", 0, app_services_sync_enabled=True)
    return p


# A random history: grants (with durations), revokes and org setting changes, in time order.
Op = Tuple[str, str, int, Optional[GrantType], int]
ops = st.lists(
    st.tuples(
        st.sampled_from(["grant", "revoke", "restrict", "unrestrict", "expire"]),
        st.sampled_from(CLUSTERS),
        st.integers(min_value=0, max_value=6 * HOUR),  # time step
        st.none() | grant_types,
        st.integers(min_value=1, max_value=30 * HOUR),  # requested duration
    ),
    max_size=25,
)


def run_history(p: Policy, history: List[Op]) -> int:
    """Applies a history, swallowing the SPEC errors it may hit; returns the final time."""
    now = T0_MS
    for op, cluster, step, grant_type, duration in history:
        now += step
        try:
            if op == "grant":
                p.grant(OWNER, cluster, grant_type or GrantType.CLUSTER_INFRASTRUCTURE, now, now + duration)
            elif op == "revoke":
                p.revoke(OWNER, cluster, now)
            elif op == "restrict":
                p.set_restriction(OWNER, True, now)
            elif op == "unrestrict":
                p.set_restriction(OWNER, False, now)
            else:
                p.expire_due(now)
        except sa.SupportAccessError as e:
            assert e.code in {"SYNC_NOT_ENABLED", "EXPIRATION_TOO_FAR", "NO_ACTIVE_GRANT"}, e
    return now


@given(history=ops, cluster=st.sampled_from(CLUSTERS), resource=resources, now=times)
def test_evaluate_never_raises_for_known_clusters(history: List[Op], cluster: str, resource: Resource, now: int) -> None:
    p = fresh()
    run_history(p, history)
    d = p.evaluate(cluster, resource, now)
    assert isinstance(d.reason, Reason)
    if resource is Resource.DATABASE_DATA:
        assert not d.allowed and d.reason is Reason.DATABASE_DATA_NEVER_ACCESSIBLE
    if d.remaining_ms is not None:
        assert d.remaining_ms > 0 and d.expiration_time is not None
        assert p.remaining(cluster, now) == timedelta(milliseconds=d.remaining_ms)
    else:
        assert p.remaining(cluster, now) is None
    # Every time form gives the same answer.
    iso = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=now)
    assert p.evaluate(cluster, resource, iso) == d
    assert p.evaluate(cluster, resource.value, iso.isoformat()) == d
    # The batch and JSON forms agree with the single call.
    assert p.evaluate_many([(cluster, resource, now)]) == [d]
    assert p.apply(json.dumps({"op": "evaluate", "cluster": cluster, "resource": resource.value, "now": now})) == (
        '{"ok":' + d.to_json() + "}"
    )


def restricted_with_grant(history: List[Op], grant_type: GrantType, lifetime: int) -> Tuple[Policy, int]:
    """A fresh policy after `history`, restricted, with a grant on Sync0 for `lifetime` ms from
    the history's last time (returned with it)."""
    p = fresh()
    now = run_history(p, history)
    p.set_restriction(OWNER, True, now)
    p.grant(OWNER, "Sync0", grant_type, now, now + lifetime)
    return p, now


@given(history=ops, grant_type=grant_types, lifetime=st.integers(1, 24 * HOUR), later=st.integers(0, 100 * HOUR), resource=resources)
def test_nothing_allowed_after_revoke(
    history: List[Op], grant_type: GrantType, lifetime: int, later: int, resource: Resource
) -> None:
    p, now = restricted_with_grant(history, grant_type, lifetime)
    p.revoke(OWNER, "Sync0", now + lifetime // 2)
    d = p.evaluate("Sync0", resource, now + lifetime // 2 + later)
    assert not d.allowed
    assert d.reason in {
        Reason.GRANT_REVOKED,
        Reason.SYNC_DATA_REQUIRES_GRANT,
        Reason.DATABASE_DATA_NEVER_ACCESSIBLE,
    }


@given(history=ops, grant_type=grant_types, lifetime=st.integers(1, 24 * HOUR), later=st.integers(0, 100 * HOUR), resource=resources)
def test_nothing_allowed_after_expiry(
    history: List[Op], grant_type: GrantType, lifetime: int, later: int, resource: Resource
) -> None:
    p, now = restricted_with_grant(history, grant_type, lifetime)
    assert not p.evaluate("Sync0", resource, now + lifetime + later).allowed
    if later > 0:
        expired = [e for e in p.expire_due(now + lifetime + later) if e.fields["cluster"] == "Sync0"]
        assert len(expired) == 1
        # Stamped with the grant's expiration, not the time of the sweep.
        assert expired[0].at == datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=now + lifetime)


@given(history=ops)
def test_record_replays_and_verifies(history: List[Op]) -> None:
    p = fresh()
    end = run_history(p, history)
    text = p.export_record()
    assert sa.verify_record(text) == len(p.record)
    again = Policy.replay(text)
    assert again == p
    # Continuing after replay writes the same bytes as never stopping.
    for q in (p, again):
        q.expire_due(end + 100 * HOUR)
    assert again.export_record() == p.export_record()


@given(history=ops, index=st.integers(min_value=0), flip=st.integers(min_value=0))
def test_any_changed_byte_is_tampering(history: List[Op], index: int, flip: int) -> None:
    p = fresh()
    run_history(p, history)
    text = p.export_record()
    i = index % (len(text) - 1)  # keep the final newline
    replacement = "0123456789abcdef"[flip % 16]
    if text[i] == replacement:
        replacement = "x"
    tampered = text[:i] + replacement + text[i + 1 :]
    try:
        sa.verify_record(tampered)
    except sa.RecordTampered as e:
        assert 1 <= e.seq <= len(p.record) + 1
    else:
        raise AssertionError(f"changing byte {i} went unnoticed")


@given(text=st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_apply_never_raises(text: str) -> None:
    p = fresh()
    before = p.export_record()
    out = json.loads(p.apply(text))
    assert set(out) == {"error"} or set(out) == {"ok"}
    if "error" in out:
        assert out["error"]["code"] in sa.ERROR_CLASSES
        assert p.export_record() == before


@given(
    cluster=st.text(max_size=70),
    resource=st.text(max_size=30) | resources,
    now=st.one_of(times, st.integers(), st.text(max_size=30), st.none(), st.booleans(), st.floats()),
)
def test_typed_evaluate_only_raises_typed_errors(cluster: str, resource: str, now: object) -> None:
    p = fresh()
    try:
        p.evaluate(cluster, resource, now)  # type: ignore[arg-type]
    except sa.SupportAccessError as e:
        assert e.code in sa.ERROR_CLASSES
    except TypeError:
        assert isinstance(now, (bool, float))


@given(
    requests=st.lists(
        st.tuples(st.sampled_from(CLUSTERS + ["Nope", "bad name"]), resources, near_times),
        max_size=50,
    ),
    history=ops,
)
def test_evaluate_many_is_evaluate(requests: List[Tuple[str, Resource, int]], history: List[Op]) -> None:
    p = fresh()
    run_history(p, history)
    out = p.evaluate_many(requests)
    assert len(out) == len(requests)
    for (cluster, resource, now), d in zip(requests, out):
        if cluster in CLUSTERS:
            assert p.evaluate(cluster, resource, now) == d
        else:
            assert (d.allowed, d.reason) == (False, Reason.CLUSTER_NOT_FOUND)
