"""The typed API on every SPEC rule: roles, grants, expiry, evaluation, downloads, record, Atlas."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Tuple

import pytest

import support_access as sa
from support_access import (
    Actor,
    ClusterKind,
    Decision,
    GrantType,
    Policy,
    Reason,
    Resource,
    Role,
    RoleName,
)

from conftest import HOUR, OWNER, T0, T0_MS

DT0 = datetime(2026, 11, 28, 10, tzinfo=timezone.utc)
LOGS = Resource.DATABASE_LOGS


def at(hours: float) -> int:
    """T0 plus some hours, as epoch ms."""
    return T0_MS + int(hours * HOUR)


# ----- construction and properties -----


def test_defaults() -> None:
    p = Policy("org-1")
    assert p.org_id == "org-1"
    assert p.restrict_employee_access is False
    assert p.max_grant_duration == timedelta(hours=24)
    assert p.projects == []
    assert p.clusters(T0) == []
    assert [e.type for e in p.record] == ["POLICY_CREATED"]
    assert p.record[0].fields == {"orgId": "org-1", "restrictEmployeeAccess": False, "maxGrantDurationMs": 86400000}
    assert "org-1" in repr(p)


def test_options() -> None:
    p = Policy("org-2", restrict_employee_access=True, max_grant_duration=timedelta(hours=2))
    assert p.restrict_employee_access is True
    assert p.max_grant_duration == timedelta(hours=2)
    assert Policy("o", max_grant_duration=None).max_grant_duration is None
    assert Policy.from_json('{"orgId":"o","maxGrantDurationMs":null}').max_grant_duration is None


@pytest.mark.parametrize("now", [DT0, T0, T0_MS])
def test_creation_time(now: Any) -> None:
    """`now` stamps POLICY_CREATED and is the clock's floor; it survives replay."""
    p = Policy("org-1", now=now)
    assert p.record[0].at == DT0
    assert p.record[0].fields == {"orgId": "org-1", "restrictEmployeeAccess": False, "maxGrantDurationMs": 86400000}
    with pytest.raises(sa.ClockWentBackwards):
        p.add_project(OWNER, "p1", T0_MS - 1)
    assert len(p.record) == 1
    p.add_project(OWNER, "p1", T0)
    assert Policy.replay(p.export_record()) == p
    assert Policy.from_json(f'{{"orgId":"org-1","now":"{T0}"}}').export_record() == Policy("org-1", now=T0).export_record()


def test_creation_time_default_is_the_epoch() -> None:
    """Unlike other `now`s, None at creation is not the current time: the record starts at 1970."""
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert Policy("org-1").record[0].at == epoch
    assert Policy("org-1", now=None).export_record() == Policy("org-1").export_record()


def test_bad_creation_time() -> None:
    with pytest.raises(sa.InvalidTimestamp):
        Policy("o", now="soon")
    with pytest.raises(sa.InvalidTimestamp):
        Policy("o", now=-1)
    with pytest.raises(sa.InvalidTimestamp):
        Policy.from_json('{"orgId":"o","now":"soon"}')
    with pytest.raises(TypeError):
        Policy("o", now=True)


@pytest.mark.parametrize("org_id", ["", "a\nb", "x" * 257])
def test_bad_org_id(org_id: str) -> None:
    with pytest.raises(sa.MalformedInput):
        Policy(org_id)


@pytest.mark.parametrize("duration", [timedelta(0), timedelta(hours=-1)])
def test_bad_max_duration(duration: timedelta) -> None:
    with pytest.raises(sa.MalformedInput):
        Policy("o", max_grant_duration=duration)


def test_bad_option_types() -> None:
    with pytest.raises(TypeError):
        Policy("o", max_grant_duration=3600)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Policy(1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Policy("o", True)  # type: ignore[call-arg]


# ----- enums, actors, roles -----


def test_enums_are_spec_strings() -> None:
    assert GrantType.CLUSTER_DATABASE_LOGS == "CLUSTER_DATABASE_LOGS"
    assert str(Resource.SYNC_DATA) == "SYNC_DATA"
    assert Reason("GRANT_ACTIVE") is Reason.GRANT_ACTIVE
    assert [r.value for r in Resource] == [
        "INFRASTRUCTURE",
        "DATABASE_LOGS",
        "AUDIT_LOGS",
        "SYNC_DATA",
        "DATABASE_DATA",
    ]
    assert len(Reason) == 9 and len(GrantType) == 3 and len(ClusterKind) == 3 and len(RoleName) == 4
    assert isinstance(Resource.INFRASTRUCTURE, str)


def test_actor_and_roles() -> None:
    a = Actor("bob", [Role.project_owner("p1"), Role(RoleName.PROJECT_READ_ONLY, "p2"), Role.org_owner()])
    assert a.id == "bob"
    assert [r.name for r in a.roles] == [RoleName.PROJECT_OWNER, RoleName.PROJECT_READ_ONLY, RoleName.ORG_OWNER]
    assert [r.project_id for r in a.roles] == ["p1", "p2", None]
    assert a == Actor("bob", [Role("PROJECT_OWNER", "p1"), Role("PROJECT_READ_ONLY", "p2"), Role("ORG_OWNER")])
    assert hash(Actor.org_owner("x")) == hash(Actor("x", [Role.org_owner()]))
    assert Actor.support_access_manager("s", "p1").roles == (Role.support_access_manager("p1"),)
    assert Actor.read_only("r", "p1").roles == (Role.read_only("p1"),)
    assert Actor("nobody").roles == ()
    assert "bob" in repr(a) and "PROJECT_OWNER" in repr(a)


def test_bad_roles() -> None:
    with pytest.raises(sa.MalformedInput):
        Role(RoleName.PROJECT_OWNER)  # a project role needs its project
    with pytest.raises(sa.MalformedInput):
        Role(RoleName.ORG_OWNER, "p1")
    with pytest.raises(sa.InvalidEnumValue):
        Role("ADMIN")
    with pytest.raises(sa.MalformedInput):
        Actor("")
    with pytest.raises(TypeError):
        Actor("a", ["ORG_OWNER"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        Actor("a", "ORG_OWNER")  # type: ignore[arg-type]


# ----- SPEC section 2: who may change what -----


def test_only_org_owner_sets_restriction(policy: Policy) -> None:
    for actor in [Actor.project_owner("po", "p1"), Actor.support_access_manager("m", "p1"), Actor("none")]:
        with pytest.raises(sa.Forbidden) as e:
            policy.set_restriction(actor, False, T0)
        assert e.value.code == "FORBIDDEN"
    ev = policy.set_restriction(OWNER, False, T0)
    assert ev.type == "ORG_EMPLOYEE_ACCESS_UNRESTRICTED"
    assert policy.restrict_employee_access is False
    assert policy.set_restriction(OWNER, True, T0).type == "ORG_EMPLOYEE_ACCESS_RESTRICTED"


def test_grant_roles(policy: Policy) -> None:
    policy.add_project(OWNER, "p2", T0)
    allowed = [OWNER, Actor.project_owner("po", "p1"), Actor.support_access_manager("m", "p1")]
    denied = [
        Actor.read_only("r", "p1"),
        Actor.project_owner("po2", "p2"),
        Actor.support_access_manager("m2", "p2"),
        Actor("none"),
    ]
    for actor in denied:
        with pytest.raises(sa.Forbidden):
            policy.grant(actor, "Cluster0", GrantType.CLUSTER_INFRASTRUCTURE, T0)
    for actor in allowed:
        g = policy.grant(actor, "Cluster0", GrantType.CLUSTER_INFRASTRUCTURE, T0)
        assert g.granted_by == actor.id
        for d in denied:
            with pytest.raises(sa.Forbidden):
                policy.revoke(d, "Cluster0", T0)
        policy.revoke(actor, "Cluster0", T0)


def test_inventory_roles(policy: Policy) -> None:
    po = Actor.project_owner("po", "p9")
    with pytest.raises(sa.Forbidden):
        policy.add_project(Actor.support_access_manager("m", "p9"), "p9", T0)
    policy.add_project(po, "p9", T0)  # a project owner may add its own project
    with pytest.raises(sa.Forbidden):
        policy.add_cluster(Actor.support_access_manager("m", "p9"), "p9", "C9", T0)
    with pytest.raises(sa.Forbidden):
        policy.add_cluster(Actor.project_owner("other", "p1"), "p9", "C9", T0)
    policy.add_cluster(po, "p9", "C9", T0)
    with pytest.raises(sa.Forbidden):
        policy.remove_cluster(Actor.read_only("r", "p9"), "C9", T0)
    policy.remove_cluster(po, "C9", T0)
    with pytest.raises(sa.Forbidden):
        policy.remove_project(Actor.project_owner("other", "p1"), "p9", T0)
    policy.remove_project(po, "p9", T0)


def test_multiple_roles(policy: Policy) -> None:
    a = Actor("multi", [Role.read_only("p1"), Role.support_access_manager("p1")])
    policy.grant(a, "Cluster0", GrantType.CLUSTER_DATABASE_LOGS, T0)


# ----- inventory -----


def test_inventory(policy: Policy) -> None:
    assert policy.projects == ["p1"]
    with pytest.raises(sa.DuplicateProject):
        policy.add_project(OWNER, "p1", T0)
    with pytest.raises(sa.DuplicateCluster):
        policy.add_cluster(OWNER, "p1", "Cluster0", T0)
    with pytest.raises(sa.ProjectNotFound):
        policy.add_cluster(OWNER, "nope", "C1", T0)
    with pytest.raises(sa.ProjectNotFound):
        policy.remove_project(OWNER, "nope", T0)
    with pytest.raises(sa.ClusterNotFound):
        policy.remove_cluster(OWNER, "Nope", T0)
    with pytest.raises(sa.InvalidClusterName):
        policy.add_cluster(OWNER, "p1", "bad_name", T0)
    with pytest.raises(sa.InvalidEnumValue):
        policy.add_cluster(OWNER, "p1", "C1", T0, kind="HUGE")
    policy.add_cluster(OWNER, "p1", "Flex0", T0, kind=ClusterKind.FLEX)
    policy.add_cluster(OWNER, "p1", "Srv0", T0, kind="SERVERLESS")
    clusters = {c.name: c for c in policy.clusters(T0)}
    assert list(clusters) == ["Cluster0", "Sync0", "Flex0", "Srv0"]
    assert clusters["Flex0"].kind is ClusterKind.FLEX
    assert clusters["Sync0"].app_services_sync_enabled is True
    assert clusters["Cluster0"].project_id == "p1" and clusters["Cluster0"].grant is None
    ev = policy.remove_project(OWNER, "p1", T0)
    assert ev.fields["clustersRemoved"] == ["Cluster0", "Flex0", "Srv0", "Sync0"]
    assert policy.clusters(T0) == [] and policy.projects == []
    with pytest.raises(sa.ClusterNotFound):
        policy.evaluate("Cluster0", LOGS, T0)


def test_remove_cluster_drops_grant(granted: Policy) -> None:
    ev = granted.remove_cluster(OWNER, "Cluster0", at(1))
    assert ev.type == "CLUSTER_REMOVED" and ev.fields == {"cluster": "Cluster0", "projectId": "p1"}
    granted.add_cluster(OWNER, "p1", "Cluster0", at(1))
    assert granted.evaluate("Cluster0", LOGS, at(1)).reason is Reason.NO_GRANT


# ----- SPEC section 3: granting, revoking, expiry -----


def test_grant_defaults_to_24h(policy: Policy) -> None:
    g = policy.grant(OWNER, "Cluster0", GrantType.CLUSTER_DATABASE_LOGS, DT0)
    assert g.cluster == "Cluster0"
    assert g.grant_type is GrantType.CLUSTER_DATABASE_LOGS
    assert g.expiration_time == DT0 + timedelta(hours=24)
    assert g.granted_at == DT0 and g.granted_by == "alice" and g.replaced is None
    assert g.event is not None and g.event.type == "EMPLOYEE_ACCESS_GRANTED"
    assert policy.remaining("Cluster0", DT0) == timedelta(hours=24)
    assert policy.active_grant("Cluster0", DT0) == sa_grant_without_event(policy, DT0)
    assert "Cluster0" in repr(g)


def sa_grant_without_event(policy: Policy, now: datetime) -> sa.Grant | None:
    return policy.clusters(now)[0].grant


def test_expiration_bounds(policy: Policy) -> None:
    with pytest.raises(sa.ExpirationNotInFuture) as e:
        policy.grant(OWNER, "Cluster0", GrantType.CLUSTER_INFRASTRUCTURE, T0, T0)
    assert isinstance(e.value, ValueError) and isinstance(e.value, sa.ExpirationError)
    with pytest.raises(sa.ExpirationNotInFuture):
        policy.grant(OWNER, "Cluster0", GrantType.CLUSTER_INFRASTRUCTURE, at(1), at(0.5))
    with pytest.raises(sa.ExpirationTooFar):
        policy.grant(OWNER, "Cluster0", GrantType.CLUSTER_INFRASTRUCTURE, T0, at(24) + 1)
    g = policy.grant(OWNER, "Cluster0", GrantType.CLUSTER_INFRASTRUCTURE, T0, at(24))
    assert g.expiration_time == DT0 + timedelta(hours=24)


def test_unbounded_and_short_max_duration() -> None:
    p = Policy("o", restrict_employee_access=True, max_grant_duration=None)
    p.add_project(OWNER, "p", T0)
    p.add_cluster(OWNER, "p", "C", T0)
    g = p.grant(OWNER, "C", GrantType.CLUSTER_INFRASTRUCTURE, T0, "2027-11-28T10:00:00Z")
    assert g.expiration_time.year == 2027
    short = Policy("o", max_grant_duration=timedelta(hours=1))
    short.add_project(OWNER, "p", T0)
    short.add_cluster(OWNER, "p", "C", T0)
    with pytest.raises(sa.ExpirationTooFar):
        short.grant(OWNER, "C", GrantType.CLUSTER_INFRASTRUCTURE, T0)  # the 24 h default is too far
    short.grant(OWNER, "C", GrantType.CLUSTER_INFRASTRUCTURE, T0, at(1))


def test_sync_and_kinds(policy: Policy) -> None:
    sync = GrantType.CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA
    with pytest.raises(sa.SyncNotEnabled):
        policy.grant(OWNER, "Cluster0", sync, T0)
    policy.grant(OWNER, "Sync0", sync, T0)
    policy.add_cluster(OWNER, "p1", "Flex0", T0, kind=ClusterKind.FLEX)
    policy.add_cluster(OWNER, "p1", "Srv0", T0, kind=ClusterKind.SERVERLESS)
    for name in ["Flex0", "Srv0"]:
        with pytest.raises(sa.UnsupportedClusterKind) as e:
            policy.grant(OWNER, name, GrantType.CLUSTER_INFRASTRUCTURE, T0)
        assert isinstance(e.value, sa.Conflict)


def test_regrant_replaces(granted: Policy) -> None:
    g = granted.grant(OWNER, "Cluster0", GrantType.CLUSTER_DATABASE_LOGS, at(2), at(20))
    assert g.replaced is not None
    assert g.replaced.grant_type is GrantType.CLUSTER_INFRASTRUCTURE
    assert g.replaced.expiration_time == DT0 + timedelta(hours=24)
    assert g.replaced.granted_at == DT0
    d = granted.evaluate("Cluster0", Resource.INFRASTRUCTURE, at(3))
    assert (d.allowed, d.reason, d.grant_type) == (False, Reason.NOT_COVERED_BY_GRANT, GrantType.CLUSTER_DATABASE_LOGS)
    assert granted.remaining("Cluster0", at(3)) == timedelta(hours=17)


def test_revoke(granted: Policy) -> None:
    ev = granted.revoke(OWNER, "Cluster0", at(1))
    assert ev.type == "EMPLOYEE_ACCESS_REVOKED" and ev.actor == OWNER
    d = granted.evaluate("Cluster0", LOGS, at(1))
    assert (d.allowed, d.reason, d.grant_type, d.remaining) == (False, Reason.GRANT_REVOKED, None, None)
    with pytest.raises(sa.NoActiveGrant) as e:
        granted.revoke(OWNER, "Cluster0", at(2))
    assert e.value.code == "NO_ACTIVE_GRANT"
    with pytest.raises(sa.NoActiveGrant):
        granted.revoke(OWNER, "Sync0", at(2))  # never granted
    assert granted.remaining("Cluster0", at(2)) is None


def test_expiry_is_strict(granted: Policy) -> None:
    just_before = granted.evaluate("Cluster0", LOGS, at(24) - 1)
    assert just_before.allowed and just_before.remaining_ms == 1
    at_expiry = granted.evaluate("Cluster0", LOGS, at(24))
    assert (at_expiry.allowed, at_expiry.reason) == (False, Reason.GRANT_EXPIRED)
    with pytest.raises(sa.NoActiveGrant):
        granted.revoke(OWNER, "Cluster0", at(24))


def test_expire_due_and_sweep(granted: Policy) -> None:
    granted.grant(OWNER, "Sync0", GrantType.CLUSTER_DATABASE_LOGS, T0, at(2))
    assert granted.expire_due(at(1)) == []
    events = granted.expire_due(at(30))
    assert [(e.type, e.fields["cluster"]) for e in events] == [
        ("EMPLOYEE_ACCESS_EXPIRED", "Sync0"),
        ("EMPLOYEE_ACCESS_EXPIRED", "Cluster0"),
    ]
    assert [e.at for e in events] == [DT0 + timedelta(hours=2), DT0 + timedelta(hours=24)]
    assert events[0].actor is None


def test_mutation_sweeps_first(granted: Policy) -> None:
    granted.add_project(OWNER, "p2", at(25))
    assert [e.type for e in granted.record[-2:]] == ["EMPLOYEE_ACCESS_EXPIRED", "PROJECT_ADDED"]


def test_failed_mutation_records_nothing(granted: Policy) -> None:
    before = granted.export_record()
    with pytest.raises(sa.Forbidden):
        granted.add_project(Actor("nobody"), "p2", at(25))  # the sweep it would do is not recorded
    with pytest.raises(sa.NoActiveGrant):
        granted.revoke(OWNER, "Sync0", at(25))
    assert granted.export_record() == before


def test_clock_went_backwards(granted: Policy) -> None:
    granted.add_project(OWNER, "p2", at(5))
    with pytest.raises(sa.ClockWentBackwards) as e:
        granted.revoke(OWNER, "Cluster0", at(4))
    assert e.value.code == "CLOCK_WENT_BACKWARDS"
    with pytest.raises(sa.ClockWentBackwards):
        granted.expire_due(at(4))
    # Evaluation at any time is allowed; it judges the current state (the past is evaluate_at's).
    assert granted.evaluate("Cluster0", LOGS, at(-1)).reason is Reason.GRANT_ACTIVE
    with pytest.raises(sa.ClusterNotFound):
        granted.evaluate_at("Cluster0", LOGS, at(-1))  # it did not exist yet


def test_typed_check_order_matches_json(policy: Policy) -> None:
    """Two bad arguments: the typed API names the same one as `apply` (the cluster first)."""
    with pytest.raises(sa.InvalidClusterName):
        policy.evaluate("bad name", "NOPE", "never")
    assert json.loads(policy.apply('{"op":"evaluate","cluster":"bad name","resource":"NOPE","now":"never"}'))[
        "error"
    ]["code"] == "INVALID_CLUSTER_NAME"
    with pytest.raises(sa.InvalidClusterName):
        policy.revoke(OWNER, "bad name", "never")
    with pytest.raises(sa.InvalidEnumValue):
        policy.evaluate("Cluster0", "NOPE", "never")


def test_check_order(policy: Policy) -> None:
    # well-formed input first, then clock, then existence, then role, then state.
    nobody = Actor("nobody")
    policy.add_project(OWNER, "p2", at(5))
    with pytest.raises(sa.InvalidClusterName):
        policy.grant(nobody, "bad name", "NOPE", at(1))
    with pytest.raises(sa.InvalidEnumValue):
        policy.grant(nobody, "Cluster0", "NOPE", at(1))
    with pytest.raises(sa.ClockWentBackwards):
        policy.grant(nobody, "Missing", GrantType.CLUSTER_INFRASTRUCTURE, at(1))
    with pytest.raises(sa.ClusterNotFound):
        policy.grant(nobody, "Missing", GrantType.CLUSTER_INFRASTRUCTURE, at(6))
    with pytest.raises(sa.Forbidden):
        policy.revoke(nobody, "Cluster0", at(6))
    with pytest.raises(sa.NoActiveGrant):
        policy.revoke(OWNER, "Cluster0", at(6))


# ----- SPEC section 4: evaluation -----

COVERAGE = {
    GrantType.CLUSTER_INFRASTRUCTURE: {Resource.INFRASTRUCTURE, Resource.DATABASE_LOGS, Resource.AUDIT_LOGS},
    GrantType.CLUSTER_DATABASE_LOGS: {Resource.DATABASE_LOGS},
    GrantType.CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA: {
        Resource.INFRASTRUCTURE,
        Resource.DATABASE_LOGS,
        Resource.AUDIT_LOGS,
        Resource.SYNC_DATA,
    },
}


@pytest.mark.parametrize("restricted", [True, False])
@pytest.mark.parametrize("grant_type", [None, *GrantType])
@pytest.mark.parametrize("resource", list(Resource))
def test_rule_matrix(restricted: bool, grant_type: GrantType | None, resource: Resource) -> None:
    p = Policy("o", restrict_employee_access=restricted)
    p.add_project(OWNER, "p", T0)
    p.add_cluster(OWNER, "p", "C", T0, app_services_sync_enabled=True)
    if grant_type is not None:
        p.grant(OWNER, "C", grant_type, T0)
    d = p.evaluate("C", resource, at(1))
    covered = grant_type is not None and resource in COVERAGE[grant_type]
    if resource is Resource.DATABASE_DATA:
        expected = (False, Reason.DATABASE_DATA_NEVER_ACCESSIBLE)
    elif resource is Resource.SYNC_DATA:
        expected = (True, Reason.GRANT_ACTIVE) if covered else (False, Reason.SYNC_DATA_REQUIRES_GRANT)
    elif not restricted:
        expected = (True, Reason.ORG_UNRESTRICTED)
    elif covered:
        expected = (True, Reason.GRANT_ACTIVE)
    elif grant_type is not None:
        expected = (False, Reason.NOT_COVERED_BY_GRANT)
    else:
        expected = (False, Reason.NO_GRANT)
    assert (d.allowed, d.reason) == expected
    assert bool(d) is d.allowed
    if grant_type is None:
        assert (d.grant_type, d.expiration_time, d.remaining, d.remaining_ms) == (None, None, None, None)
    else:
        assert d.grant_type is grant_type
        assert d.expiration_time == DT0 + timedelta(hours=24)
        assert d.remaining == timedelta(hours=23) and d.remaining_ms == 23 * HOUR
    # The typed answer is the JSON interface's answer.
    cmd = {"op": "evaluate", "cluster": "C", "resource": resource.value, "now": at(1)}
    assert p.apply(json.dumps(cmd)) == '{"ok":' + d.to_json() + "}"


def test_sync_grant_needs_sync_when_loaded() -> None:
    p = Policy("o", restrict_employee_access=True)
    grant = {"grantType": "CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA", "expirationTime": T0}
    with pytest.raises(sa.SyncNotEnabled):
        p.load_atlas({}, [{"name": "C", "groupId": "g", "appServicesSyncEnabled": False, "mongoDBEmployeeAccessGrant": grant}], at(-1))
    p.load_atlas({}, [{"name": "C", "groupId": "g", "mongoDBEmployeeAccessGrant": grant}], at(-1))
    assert p.evaluate("C", Resource.SYNC_DATA, at(-1)).reason is Reason.GRANT_ACTIVE


def test_unknown_cluster(policy: Policy) -> None:
    with pytest.raises(sa.ClusterNotFound) as e:
        policy.evaluate("Nope", LOGS, T0)
    assert isinstance(e.value, LookupError)
    with pytest.raises(sa.InvalidClusterName):
        policy.evaluate("no pe", LOGS, T0)
    with pytest.raises(sa.ClusterNotFound):
        policy.remaining("Nope", T0)
    with pytest.raises(sa.ClusterNotFound):
        policy.active_grant("Nope", T0)


def test_evaluate_many(granted: Policy) -> None:
    reqs: List[Any] = [
        ("Cluster0", LOGS),
        ("Cluster0", "SYNC_DATA", at(2)),
        ("Nope", Resource.INFRASTRUCTURE),
        ("bad name", Resource.INFRASTRUCTURE),
        ("Sync0", Resource.AUDIT_LOGS, DT0),
    ]
    out = granted.evaluate_many(reqs, at(1))
    assert [(d.allowed, d.reason) for d in out] == [
        (True, Reason.GRANT_ACTIVE),
        (False, Reason.SYNC_DATA_REQUIRES_GRANT),
        (False, Reason.CLUSTER_NOT_FOUND),
        (False, Reason.CLUSTER_NOT_FOUND),
        (False, Reason.NO_GRANT),
    ]
    assert out[0] == granted.evaluate("Cluster0", LOGS, at(1))
    assert granted.evaluate_many([]) == []
    big = granted.evaluate_many([("Cluster0", LOGS, at(i % 30)) for i in range(5000)])
    assert [d.allowed for d in big] == [i % 30 < 24 for i in range(5000)]
    # Any iterable works, also one whose names are fresh objects freed as it goes.
    gen = ((name + "", LOGS, at(1)) for name in ["Cluster0", "Sync0", "Nope"] * 100)
    assert [d.reason for d in granted.evaluate_many(gen)] == [
        Reason.GRANT_ACTIVE,
        Reason.NO_GRANT,
        Reason.CLUSTER_NOT_FOUND,
    ] * 100
    with pytest.raises(TypeError):
        granted.evaluate_many([("Cluster0",)])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        granted.evaluate_many(["Cluster0"])  # type: ignore[list-item]
    with pytest.raises(sa.InvalidEnumValue):
        granted.evaluate_many([("Cluster0", "NOPE")])


def test_evaluate_at(granted: Policy) -> None:
    granted.revoke(OWNER, "Cluster0", at(5))
    granted.remove_cluster(OWNER, "Sync0", at(6))
    assert granted.evaluate_at("Cluster0", LOGS, at(4)).reason is Reason.GRANT_ACTIVE
    assert granted.evaluate_at("Cluster0", LOGS, at(5)).reason is Reason.GRANT_REVOKED
    with pytest.raises(sa.ClusterNotFound):
        granted.evaluate_at("Cluster0", LOGS, "2026-11-28T09:00:00Z")  # before it was added
    assert granted.evaluate_at("Sync0", LOGS, at(5.5)).reason is Reason.NO_GRANT
    with pytest.raises(sa.ClusterNotFound):
        granted.evaluate_at("Sync0", LOGS, at(7))
    with pytest.raises(TypeError):
        granted.evaluate_at("Cluster0", LOGS, None)  # type: ignore[arg-type]


# ----- downloads in progress -----


def test_downloads(granted: Policy) -> None:
    dl = granted.begin_log_download("Cluster0", Resource.AUDIT_LOGS, at(1))
    assert dl.startswith("dl-") and granted.downloads_in_progress == [dl]
    assert granted.record[-1].type == "EMPLOYEE_DOWNLOADED_CLUSTER_LOGS"
    granted.revoke(OWNER, "Cluster0", at(2))
    d = granted.continue_log_download(dl, at(3))
    assert d.allowed and d.reason is Reason.GRANT_ACTIVE
    with pytest.raises(sa.AccessDenied) as e:
        granted.begin_log_download("Cluster0", LOGS, at(3))
    assert e.value.reason is Reason.GRANT_REVOKED and e.value.code == "ACCESS_DENIED"
    ev = granted.finish_log_download(dl, at(4))
    assert ev.type == "EMPLOYEE_LOG_DOWNLOAD_FINISHED" and ev.fields["downloadId"] == dl
    with pytest.raises(sa.DownloadNotFound):
        granted.continue_log_download(dl, at(5))
    with pytest.raises(sa.DownloadNotFound):
        granted.finish_log_download("dl-999", at(5))
    with pytest.raises(sa.InvalidEnumValue):
        granted.begin_log_download("Cluster0", Resource.INFRASTRUCTURE, at(5))
    assert granted.downloads_in_progress == []
    # A bad name and a resource that is no log: the name's error wins, as in the command.
    with pytest.raises(sa.InvalidClusterName):
        granted.begin_log_download("bad name", Resource.INFRASTRUCTURE, at(5))
    command = {"op": "beginLogDownload", "cluster": "bad name", "resource": "INFRASTRUCTURE", "now": "2026-11-28T15:00:00Z"}
    assert json.loads(granted.apply(json.dumps(command)))["error"]["code"] == "INVALID_CLUSTER_NAME"


def test_download_survives_expiry(granted: Policy) -> None:
    dl = granted.begin_log_download("Cluster0", LOGS, at(23))
    assert granted.continue_log_download(dl, at(30)).allowed
    with pytest.raises(sa.AccessDenied) as e:
        granted.begin_log_download("Cluster0", LOGS, at(30))
    assert e.value.reason is Reason.GRANT_EXPIRED


# ----- SPEC section 5: the record -----


def test_record_events(granted: Policy) -> None:
    record = granted.record
    assert [e.seq for e in record] == list(range(1, len(record) + 1))
    assert [e.type for e in record] == [
        "POLICY_CREATED",
        "PROJECT_ADDED",
        "CLUSTER_ADDED",
        "CLUSTER_ADDED",
        "EMPLOYEE_ACCESS_GRANTED",
    ]
    assert record[0].prev == "0" * 64
    for a, b in zip(record, record[1:]):
        assert b.prev == a.hash and len(a.hash) == 64
    assert record[1].at == DT0 and record[1].actor == OWNER
    assert granted.export_record() == "".join(e.json + "\n" for e in record)
    ev = record[-1]
    assert ev.to_dict()["hash"] == ev.hash
    assert ev.fields == {
        "cluster": "Cluster0",
        "grantType": "CLUSTER_INFRASTRUCTURE",
        "expirationTime": "2026-11-29T10:00:00.000Z",
        "replaced": None,
    }
    assert "EMPLOYEE_ACCESS_GRANTED" in repr(ev) and "Cluster0" in repr(ev)
    assert ev == granted.record[-1] and hash(ev) == hash(granted.record[-1])


def test_replay_and_verify(granted: Policy) -> None:
    dl = granted.begin_log_download("Cluster0", LOGS, at(1))
    text = granted.export_record()
    assert sa.verify_record(text) == len(granted.record)
    again = Policy.replay(text)
    assert again == granted and again is not granted
    assert again.downloads_in_progress == [dl]
    # Replaying and continuing gives the same bytes as never stopping.
    for p in (granted, again):
        p.revoke(OWNER, "Cluster0", at(2))
        p.finish_log_download(dl, at(3))
    assert again.export_record() == granted.export_record()


def test_tampering(granted: Policy) -> None:
    lines = granted.export_record().splitlines(keepends=True)
    edited = lines[:]
    edited[2] = edited[2].replace('"Cluster0"', '"Cluster9"')
    with pytest.raises(sa.RecordTampered) as e:
        sa.verify_record("".join(edited))
    assert e.value.seq == 3 and e.value.code == "RECORD_TAMPERED"
    swapped = lines[:]
    swapped[2], swapped[3] = swapped[3], swapped[2]
    with pytest.raises(sa.RecordTampered):
        Policy.replay("".join(swapped))
    with pytest.raises(sa.RecordTampered) as e:
        sa.verify_record("")
    assert e.value.seq == 1


def test_copy_and_equality(granted: Policy) -> None:
    c = granted.copy()
    assert c == granted and copy.copy(granted) == granted and copy.deepcopy(granted) == granted
    c.revoke(OWNER, "Cluster0", at(1))
    assert c != granted
    assert granted == granted
    assert granted != "policy"
    with pytest.raises(TypeError):
        hash(granted)


# ----- Atlas JSON -----

ATLAS_CLUSTERS: List[Dict[str, Any]] = [
    {
        "name": "Cluster0",
        "groupId": "5f1a",
        "clusterType": "REPLICASET",
        "mongoDBEmployeeAccessGrant": {"grantType": "CLUSTER_DATABASE_LOGS", "expirationTime": "2026-11-29T10:00:00Z"},
        "stateName": "IDLE",
    },
    {"name": "Analytics", "groupId": "5f1a", "clusterType": "SHARDED"},
    {"name": "Flex1", "groupId": "6a2b", "clusterType": "FLEX"},
]


def test_load_atlas() -> None:
    p = Policy("org-1")
    s = p.load_atlas({"restrictEmployeeAccess": True, "links": []}, ATLAS_CLUSTERS, T0)
    assert (s.projects, s.clusters, s.grants, s.expired_grants_skipped) == (2, 3, 1, 0)
    assert "clusters=3" in repr(s)
    assert p.restrict_employee_access is True
    assert p.projects == ["5f1a", "6a2b"]
    assert p.evaluate("Cluster0", LOGS, T0).reason is Reason.GRANT_ACTIVE
    assert p.evaluate("Analytics", LOGS, T0).reason is Reason.NO_GRANT
    assert p.record[-1].type == "ATLAS_LOADED" and p.record[-1].at == DT0
    assert Policy.replay(p.export_record()) == p
    # Loading again is a duplicate; the failed load changes nothing.
    before = p.export_record()
    with pytest.raises(sa.DuplicateCluster):
        p.load_atlas({}, ATLAS_CLUSTERS, T0)
    with pytest.raises(sa.ClockWentBackwards):
        p.load_atlas({}, [{"name": "Other", "groupId": "g"}], at(-1))
    assert p.export_record() == before


def test_load_atlas_page() -> None:
    """An Admin API listClusters page loads exactly as its `results` list does."""
    listed = Policy("org-1")
    listed.load_atlas({}, ATLAS_CLUSTERS, T0)
    paged = Policy("org-1")
    page = {"results": ATLAS_CLUSTERS, "totalCount": 3, "links": [{"rel": "self", "href": "https://example.invalid"}]}
    s = paged.load_atlas({}, page, T0)
    assert (s.projects, s.clusters, s.grants, s.expired_grants_skipped) == (2, 3, 1, 0)
    assert paged.export_record() == listed.export_record()
    bad_pages: List[Tuple[Dict[str, Any], str]] = [
        ({"results": ATLAS_CLUSTERS, "pageNum": 1}, "pageNum"),
        ({"results": {"name": "C"}}, "results"),
        ({"totalCount": 0}, "results"),
    ]
    for bad, field in bad_pages:
        with pytest.raises(sa.MalformedInput, match=field):
            paged.load_atlas({}, bad, T0)
    assert paged.export_record() == listed.export_record()


def test_load_atlas_skips_expired_grants() -> None:
    p = Policy("org-1", restrict_employee_access=True)
    s = p.load_atlas({}, ATLAS_CLUSTERS, at(25))
    assert (s.grants, s.expired_grants_skipped) == (0, 1)
    assert p.evaluate("Cluster0", LOGS, at(25)).reason is Reason.NO_GRANT


def test_load_atlas_errors() -> None:
    p = Policy("org-1")
    with pytest.raises(sa.InvalidEnumValue):
        p.load_atlas({}, [{"name": "C", "groupId": "g", "clusterType": "BIG"}])
    with pytest.raises(sa.InvalidClusterName):
        p.load_atlas({}, [{"name": "C_1", "groupId": "g"}])
    with pytest.raises(sa.MalformedInput):
        p.load_atlas({}, [{"name": "C"}])
    with pytest.raises(sa.InvalidTimestamp):
        p.load_atlas({}, [{"name": "C", "groupId": "g", "mongoDBEmployeeAccessGrant": {"grantType": "CLUSTER_INFRASTRUCTURE", "expirationTime": "soon"}}])
    with pytest.raises(TypeError):
        p.load_atlas({}, [{"name": "C", "groupId": object()}])
    with pytest.raises(sa.MalformedInput, match="unexpected field `name` in listClusters page"):
        p.load_atlas({}, {"name": "C"})  # a dict is a page, and this one is not
    with pytest.raises(sa.MalformedInput, match="must be an array of cluster descriptions"):
        p.load_atlas({}, "Cluster0")  # type: ignore[arg-type]
    assert len(p.record) == 1


# ----- apply -----


def test_apply_matches_typed(policy: Policy) -> None:
    out = json.loads(
        policy.apply(
            json.dumps(
                {
                    "op": "grant",
                    "actor": {"id": "alice", "roles": [{"role": "ORG_OWNER"}]},
                    "cluster": "Cluster0",
                    "grantType": "CLUSTER_INFRASTRUCTURE",
                    "now": T0,
                }
            )
        )
    )
    assert out["ok"]["type"] == "EMPLOYEE_ACCESS_GRANTED"
    assert policy.record[-1].json == json.dumps(out["ok"], separators=(",", ":"))
    assert json.loads(policy.apply("{")) ["error"]["code"] == "MALFORMED_INPUT"
    assert json.loads(policy.apply('{"op":"dance"}'))["error"]["code"] == "UNKNOWN_OP"
    res = json.loads(policy.apply('{"op":"remaining","cluster":"Cluster0","now":"2026-11-28T11:00:00Z"}'))
    assert res == {"ok": {"remainingMs": 23 * HOUR}}


# ----- times -----


class _UtcSubclass(datetime):
    pass


@pytest.mark.parametrize(
    "now",
    [
        T0_MS + HOUR,
        "2026-11-28T11:00:00Z",
        "2026-11-28T11:00:00.000Z",
        "2026-11-28T12:00:00+01:00",
        DT0 + timedelta(hours=1),
        datetime(2026, 11, 28, 6, tzinfo=timezone(timedelta(hours=-5))),
        DT0 + timedelta(hours=1, microseconds=999),  # sub-millisecond digits are floored
        datetime(2026, 11, 28, 11, 0, 0, 999, tzinfo=timezone(timedelta(0))),  # UTC, not timezone.utc
        _UtcSubclass(2026, 11, 28, 11, tzinfo=timezone.utc),
    ],
)
def test_time_forms(granted: Policy, now: Any) -> None:
    assert granted.evaluate("Cluster0", LOGS, now).remaining_ms == 23 * HOUR


def test_naive_datetime_is_a_clear_value_error(granted: Policy) -> None:
    with pytest.raises(ValueError, match="naive datetime") as e:
        granted.evaluate("Cluster0", LOGS, datetime(2026, 11, 28, 11))
    assert isinstance(e.value, sa.InvalidTimestamp)
    with pytest.raises(ValueError, match="naive"):
        granted.revoke(OWNER, "Cluster0", datetime(2026, 11, 28, 11))


@pytest.mark.parametrize("now", [True, False, 1.5, b"2026", [1]])
def test_wrong_time_types(granted: Policy, now: Any) -> None:
    with pytest.raises(TypeError):
        granted.evaluate("Cluster0", LOGS, now)


@pytest.mark.parametrize(
    "now",
    [
        -1,
        253402300800000,
        10**30,
        "yesterday",
        "2026-11-28",
        "2026-11-28T11:00:00.0001Z",
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
        datetime(1969, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=1))),
    ],
)
def test_invalid_times(granted: Policy, now: Any) -> None:
    with pytest.raises(sa.InvalidTimestamp):
        granted.evaluate("Cluster0", LOGS, now)


def test_now_defaults_to_current_utc() -> None:
    p = Policy("o", restrict_employee_access=True)
    p.add_project(OWNER, "p")
    p.add_cluster(OWNER, "p", "C")
    g = p.grant(OWNER, "C", GrantType.CLUSTER_INFRASTRUCTURE)
    assert g.granted_at is not None
    assert abs(datetime.now(timezone.utc) - g.granted_at) < timedelta(minutes=1)
    rem = p.remaining("C")
    assert rem is not None and timedelta(hours=23) < rem <= timedelta(hours=24)
    assert p.evaluate("C", LOGS).allowed


def test_enum_arguments(granted: Policy) -> None:
    assert granted.evaluate("Cluster0", "DATABASE_LOGS", at(1)) == granted.evaluate("Cluster0", LOGS, at(1))
    with pytest.raises(sa.InvalidEnumValue):
        granted.evaluate("Cluster0", "database_logs", at(1))
    with pytest.raises(TypeError):
        granted.evaluate("Cluster0", 1, at(1))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        granted.evaluate(1, LOGS, at(1))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        granted.grant("alice", "Cluster0", GrantType.CLUSTER_INFRASTRUCTURE, at(1))  # type: ignore[arg-type]


# ----- result objects -----


def test_results_are_frozen(granted: Policy) -> None:
    g = granted.grant(OWNER, "Cluster0", GrantType.CLUSTER_INFRASTRUCTURE, at(1))
    d = granted.evaluate("Cluster0", LOGS, at(1))
    e = granted.record[0]
    for obj, attr in [(d, "allowed"), (g, "cluster"), (e, "seq"), (OWNER, "id")]:
        with pytest.raises(AttributeError):
            setattr(obj, attr, None)
    assert isinstance(d, Decision)
    assert repr(d).startswith("Decision(allowed=True, reason=Reason.GRANT_ACTIVE")
    assert {d, granted.evaluate("Cluster0", LOGS, at(1))} == {d}
    assert type(d).__module__ == "support_access"


def test_error_classes() -> None:
    codes = [
        "FORBIDDEN", "INVALID_ENUM_VALUE", "INVALID_TIMESTAMP", "INVALID_CLUSTER_NAME", "MALFORMED_INPUT",
        "UNKNOWN_OP", "PROJECT_NOT_FOUND", "CLUSTER_NOT_FOUND", "DUPLICATE_PROJECT", "DUPLICATE_CLUSTER",
        "UNSUPPORTED_CLUSTER_KIND", "SYNC_NOT_ENABLED", "EXPIRATION_NOT_IN_FUTURE", "EXPIRATION_TOO_FAR",
        "NO_ACTIVE_GRANT", "CLOCK_WENT_BACKWARDS", "ACCESS_DENIED", "DOWNLOAD_NOT_FOUND", "RECORD_TAMPERED",
        "RECORD_TRUNCATED", "CHECKPOINT_MISMATCH", "CHECKPOINTS_DISAGREE", "BAD_SIGNATURE", "UNTRUSTED_KEY",
    ]  # fmt: skip
    assert sorted(sa.ERROR_CLASSES) == sorted(codes)
    for code, cls in sa.ERROR_CLASSES.items():
        assert cls.code == code and issubclass(cls, sa.SupportAccessError)
    assert issubclass(sa.InvalidTimestamp, sa.InvalidInput) and issubclass(sa.InvalidInput, ValueError)
    assert issubclass(sa.ClusterNotFound, sa.NotFound) and issubclass(sa.NotFound, LookupError)
    assert issubclass(sa.DuplicateCluster, sa.Duplicate) and issubclass(sa.Duplicate, sa.Conflict)
    assert issubclass(sa.NoActiveGrant, sa.Conflict)
    assert issubclass(sa.ExpirationTooFar, sa.ExpirationError)
    assert issubclass(sa.RecordTruncated, sa.CheckpointError) and issubclass(sa.UntrustedKey, sa.CheckpointError)


def test_every_error_code_reachable_typed(granted: Policy) -> None:
    """Each SPEC error code raised through the typed API (UNKNOWN_OP and MALFORMED_INPUT too)."""
    seen = set()

    def expect(cls: type[sa.SupportAccessError], fn: Any) -> None:
        with pytest.raises(cls) as e:
            fn()
        seen.add(e.value.code)

    p = granted
    nobody = Actor("nobody")
    expect(sa.Forbidden, lambda: p.set_restriction(nobody, False, at(1)))
    expect(sa.InvalidEnumValue, lambda: p.evaluate("Cluster0", "X", at(1)))
    expect(sa.InvalidTimestamp, lambda: p.evaluate("Cluster0", LOGS, "x"))
    expect(sa.InvalidClusterName, lambda: p.evaluate("-x", LOGS, at(1)))
    expect(sa.MalformedInput, lambda: Policy(""))
    expect(sa.UnknownOp, lambda: _raise_apply(p, '{"op":"nope"}'))
    expect(sa.ProjectNotFound, lambda: p.remove_project(OWNER, "p9", at(1)))
    expect(sa.ClusterNotFound, lambda: p.evaluate("C9", LOGS, at(1)))
    expect(sa.DuplicateProject, lambda: p.add_project(OWNER, "p1", at(1)))
    expect(sa.DuplicateCluster, lambda: p.add_cluster(OWNER, "p1", "Sync0", at(1)))
    p.add_cluster(OWNER, "p1", "Flex0", at(1), kind=ClusterKind.FLEX)
    expect(sa.UnsupportedClusterKind, lambda: p.grant(OWNER, "Flex0", GrantType.CLUSTER_INFRASTRUCTURE, at(1)))
    expect(sa.SyncNotEnabled, lambda: p.grant(OWNER, "Cluster0", "CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA", at(1)))
    expect(sa.ExpirationNotInFuture, lambda: p.grant(OWNER, "Cluster0", GrantType.CLUSTER_INFRASTRUCTURE, at(1), at(1)))
    expect(sa.ExpirationTooFar, lambda: p.grant(OWNER, "Cluster0", GrantType.CLUSTER_INFRASTRUCTURE, at(1), at(26)))
    expect(sa.NoActiveGrant, lambda: p.revoke(OWNER, "Sync0", at(1)))
    expect(sa.ClockWentBackwards, lambda: p.revoke(OWNER, "Cluster0", at(0.5)))
    expect(sa.AccessDenied, lambda: p.begin_log_download("Sync0", LOGS, at(1)))
    expect(sa.DownloadNotFound, lambda: p.continue_log_download("dl-1", at(1)))
    expect(sa.RecordTampered, lambda: sa.verify_record("{}\n"))
    _checkpoint_errors(p, expect)
    assert seen == set(sa.ERROR_CLASSES)


KEY_A = "sa-ed25519-key:" + bytes(range(32)).hex()
KEY_B = "sa-ed25519-key:" + bytes(range(32, 64)).hex()


def _checkpoint_errors(p: Policy, expect: Any) -> None:
    """The checkpoint codes (SPEC section 9), raised from `apply` results with their seq."""

    def ok(policy: Policy, command: dict[str, Any]) -> Any:
        return json.loads(policy.apply(json.dumps(command)))["ok"]

    def verify(record: str, cps: list[str], keys: list[str]) -> None:
        command = {"op": "verifyCheckpoints", "record": record, "checkpoints": cps, "trustedKeys": keys}
        _raise_apply(p, json.dumps(command))

    def checkpoint(policy: Policy) -> Any:
        return ok(policy, {"op": "checkpoint", "signingKey": KEY_A, "now": at(2)})

    public_a = ok(p, {"op": "publicKey", "signingKey": KEY_A})["publicKey"]
    public_b = ok(p, {"op": "publicKey", "signingKey": KEY_B})["publicKey"]
    head = checkpoint(p)
    cp, record = head["checkpoint"], p.export_record()
    shorter = "".join(record.splitlines(keepends=True)[:-1])
    expect(sa.RecordTruncated, lambda: verify(shorter, [cp], [public_a]))
    foreign = checkpoint(Policy(json.dumps({"orgId": "other"})))["checkpoint"]
    expect(sa.CheckpointMismatch, lambda: verify(record, [foreign], [public_a]))
    forged = cp.replace(f"hash {head['hash']}", f"hash {'0' * 64}")
    expect(sa.BadSignature, lambda: verify(record, [forged], [public_a]))
    expect(sa.UntrustedKey, lambda: verify(record, [cp], [public_b]))
    # Two forks of one record, each signed at the same seq.
    forks = [Policy.replay(record), Policy.replay(record)]
    for i, fork in enumerate(forks):
        fork.add_project(OWNER, f"fork-{i}", at(2))
    both = [checkpoint(fork)["checkpoint"] for fork in forks]
    expect(sa.CheckpointsDisagree, lambda: verify(forks[0].export_record(), both, [public_a]))
    with pytest.raises(sa.RecordTruncated) as e:
        verify(shorter, [cp], [public_a])
    assert e.value.seq == head["seq"]


def _raise_apply(p: Policy, command: str) -> None:
    """Raises the typed exception for an error result of `apply` (for codes only JSON can cause)."""
    result = json.loads(p.apply(command))
    if "error" in result:
        err = result["error"]
        cls = sa.ERROR_CLASSES[err["code"]]
        if issubclass(cls, (sa.RecordTampered, sa.CheckpointError)):
            raise cls(err["message"], err["code"], seq=err["seq"])
        raise cls(err["message"], err["code"])
