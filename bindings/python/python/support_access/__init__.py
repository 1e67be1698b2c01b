"""support_access: who may reach a managed database cluster's backend, and the record of it.

A Pythonic front end over the Rust core (``support-access-core``): time-limited support-access
grants modeled on MongoDB Atlas, evaluated in well under a microsecond, with a hash-chained,
replayable record. Every rule lives in the core; this package only converts types at the edge.

Quick start::

    from datetime import datetime, timedelta, timezone
    from support_access import Actor, GrantType, Policy, Resource

    policy = Policy("org-1", restrict_employee_access=True)
    alice = Actor.org_owner("alice")
    now = datetime(2026, 11, 28, 12, tzinfo=timezone.utc)
    policy.add_project(alice, "p1", now)
    policy.add_cluster(alice, "p1", "Cluster0", now)
    policy.grant(alice, "Cluster0", GrantType.CLUSTER_DATABASE_LOGS, now)
    decision = policy.evaluate("Cluster0", Resource.DATABASE_LOGS, now + timedelta(hours=1))
    assert decision.allowed and decision.remaining == timedelta(hours=23)

Times are accepted as timezone-aware ``datetime``, RFC 3339 strings or integer epoch
milliseconds; ``now=None`` means the current UTC time. Naive datetimes raise ``ValueError``
(``InvalidTimestamp``).
"""

from __future__ import annotations

from typing import Union
from datetime import datetime

from ._enums import ClusterKind, GrantType, Reason, Resource, RoleName
from ._errors import (
    AccessDenied,
    BadSignature,
    CheckpointError,
    CheckpointMismatch,
    CheckpointsDisagree,
    ClockWentBackwards,
    ClusterNotFound,
    Conflict,
    DownloadNotFound,
    Duplicate,
    DuplicateCluster,
    DuplicateProject,
    ERROR_CLASSES,
    ExpirationError,
    ExpirationNotInFuture,
    ExpirationTooFar,
    Forbidden,
    InvalidClusterName,
    InvalidEnumValue,
    InvalidInput,
    InvalidTimestamp,
    MalformedInput,
    NoActiveGrant,
    NotFound,
    ProjectNotFound,
    RecordTampered,
    RecordTruncated,
    SupportAccessError,
    SyncNotEnabled,
    UnknownOp,
    UnsupportedClusterKind,
    UntrustedKey,
)
from ._native import (
    Actor,
    Checkpoint,
    CheckpointsVerified,
    Cluster,
    Decision,
    Event,
    Grant,
    LoadSummary,
    Policy,
    PublicKey,
    Role,
    SigningKey,
    __version__,
    verify_checkpoints,
    verify_record,
)

#: What a time argument may be: an aware ``datetime``, an RFC 3339 string or epoch milliseconds.
Time = Union[datetime, str, int]

__all__ = [
    "AccessDenied",
    "Actor",
    "BadSignature",
    "Checkpoint",
    "CheckpointError",
    "CheckpointMismatch",
    "CheckpointsDisagree",
    "CheckpointsVerified",
    "ClockWentBackwards",
    "Cluster",
    "ClusterKind",
    "ClusterNotFound",
    "Conflict",
    "Decision",
    "DownloadNotFound",
    "Duplicate",
    "DuplicateCluster",
    "DuplicateProject",
    "ERROR_CLASSES",
    "Event",
    "ExpirationError",
    "ExpirationNotInFuture",
    "ExpirationTooFar",
    "Forbidden",
    "Grant",
    "GrantType",
    "InvalidClusterName",
    "InvalidEnumValue",
    "InvalidInput",
    "InvalidTimestamp",
    "LoadSummary",
    "MalformedInput",
    "NoActiveGrant",
    "NotFound",
    "Policy",
    "ProjectNotFound",
    "PublicKey",
    "Reason",
    "RecordTampered",
    "RecordTruncated",
    "Resource",
    "Role",
    "RoleName",
    "SigningKey",
    "SupportAccessError",
    "SyncNotEnabled",
    "Time",
    "UnknownOp",
    "UnsupportedClusterKind",
    "UntrustedKey",
    "__version__",
    "verify_checkpoints",
    "verify_record",
]
