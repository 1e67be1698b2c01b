"""Typed exceptions. Every error carries the SPEC code string in ``.code``.

The hierarchy lets callers catch as broadly or as narrowly as they like::

    SupportAccessError
    ├── Forbidden                      FORBIDDEN
    ├── InvalidInput (ValueError)
    │   ├── InvalidEnumValue           INVALID_ENUM_VALUE
    │   ├── InvalidTimestamp           INVALID_TIMESTAMP
    │   ├── InvalidClusterName         INVALID_CLUSTER_NAME
    │   ├── MalformedInput             MALFORMED_INPUT
    │   └── UnknownOp                  UNKNOWN_OP
    ├── NotFound (LookupError)
    │   ├── ProjectNotFound            PROJECT_NOT_FOUND
    │   ├── ClusterNotFound            CLUSTER_NOT_FOUND
    │   └── DownloadNotFound           DOWNLOAD_NOT_FOUND
    ├── Conflict
    │   ├── Duplicate
    │   │   ├── DuplicateProject       DUPLICATE_PROJECT
    │   │   └── DuplicateCluster       DUPLICATE_CLUSTER
    │   ├── UnsupportedClusterKind     UNSUPPORTED_CLUSTER_KIND
    │   ├── SyncNotEnabled             SYNC_NOT_ENABLED
    │   └── NoActiveGrant              NO_ACTIVE_GRANT
    ├── ExpirationError (ValueError)
    │   ├── ExpirationNotInFuture      EXPIRATION_NOT_IN_FUTURE
    │   └── ExpirationTooFar           EXPIRATION_TOO_FAR
    ├── ClockWentBackwards             CLOCK_WENT_BACKWARDS
    ├── AccessDenied                   ACCESS_DENIED   (.reason: Reason)
    ├── RecordTampered                 RECORD_TAMPERED (.seq: int)
    └── CheckpointError                (.seq: int, the refused checkpoint's)
        ├── RecordTruncated            RECORD_TRUNCATED
        ├── CheckpointMismatch         CHECKPOINT_MISMATCH
        ├── CheckpointsDisagree        CHECKPOINTS_DISAGREE
        ├── BadSignature               BAD_SIGNATURE
        └── UntrustedKey               UNTRUSTED_KEY
"""

from __future__ import annotations

from typing import Dict, Optional, Type

from ._enums import Reason

__all__ = [
    "AccessDenied",
    "BadSignature",
    "CheckpointError",
    "CheckpointMismatch",
    "CheckpointsDisagree",
    "ClockWentBackwards",
    "ClusterNotFound",
    "Conflict",
    "DownloadNotFound",
    "Duplicate",
    "DuplicateCluster",
    "DuplicateProject",
    "ExpirationError",
    "ExpirationNotInFuture",
    "ExpirationTooFar",
    "Forbidden",
    "InvalidClusterName",
    "InvalidEnumValue",
    "InvalidInput",
    "InvalidTimestamp",
    "MalformedInput",
    "NoActiveGrant",
    "NotFound",
    "ProjectNotFound",
    "RecordTampered",
    "RecordTruncated",
    "SupportAccessError",
    "SyncNotEnabled",
    "UnknownOp",
    "UnsupportedClusterKind",
    "UntrustedKey",
    "ERROR_CLASSES",
]


class SupportAccessError(Exception):
    """Base class of every error the policy raises. ``code`` is the SPEC error code."""

    code: str = "UNKNOWN"
    message: str

    def __init__(self, message: str, code: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class Forbidden(SupportAccessError):
    """The actor's roles do not allow the operation (SPEC section 2)."""

    code = "FORBIDDEN"


class InvalidInput(SupportAccessError, ValueError):
    """A value could not be read: bad enum string, time, cluster name, JSON or op."""

    code = "MALFORMED_INPUT"


class InvalidEnumValue(InvalidInput):
    code = "INVALID_ENUM_VALUE"


class InvalidTimestamp(InvalidInput):
    code = "INVALID_TIMESTAMP"


class InvalidClusterName(InvalidInput):
    code = "INVALID_CLUSTER_NAME"


class MalformedInput(InvalidInput):
    code = "MALFORMED_INPUT"


class UnknownOp(InvalidInput):
    code = "UNKNOWN_OP"


class NotFound(SupportAccessError, LookupError):
    """No such project, cluster or download."""

    code = "CLUSTER_NOT_FOUND"


class ProjectNotFound(NotFound):
    code = "PROJECT_NOT_FOUND"


class ClusterNotFound(NotFound):
    code = "CLUSTER_NOT_FOUND"


class DownloadNotFound(NotFound):
    code = "DOWNLOAD_NOT_FOUND"


class Conflict(SupportAccessError):
    """The operation does not fit the current state."""

    code = "NO_ACTIVE_GRANT"


class Duplicate(Conflict):
    """The project or cluster already exists."""

    code = "DUPLICATE_CLUSTER"


class DuplicateProject(Duplicate):
    code = "DUPLICATE_PROJECT"


class DuplicateCluster(Duplicate):
    code = "DUPLICATE_CLUSTER"


class UnsupportedClusterKind(Conflict):
    code = "UNSUPPORTED_CLUSTER_KIND"


class SyncNotEnabled(Conflict):
    code = "SYNC_NOT_ENABLED"


class NoActiveGrant(Conflict):
    code = "NO_ACTIVE_GRANT"


class ExpirationError(SupportAccessError, ValueError):
    """``expiration_time`` is not after ``now``, or further than the policy allows."""

    code = "EXPIRATION_NOT_IN_FUTURE"


class ExpirationNotInFuture(ExpirationError):
    code = "EXPIRATION_NOT_IN_FUTURE"


class ExpirationTooFar(ExpirationError):
    code = "EXPIRATION_TOO_FAR"


class ClockWentBackwards(SupportAccessError):
    """A mutation dated before the last recorded event."""

    code = "CLOCK_WENT_BACKWARDS"


class AccessDenied(SupportAccessError):
    """A log download was asked for without access; ``reason`` says why."""

    code = "ACCESS_DENIED"
    reason: Reason

    def __init__(self, message: str, code: Optional[str] = None, reason: "Reason | str" = Reason.NO_GRANT) -> None:
        super().__init__(message, code)
        self.reason = Reason(reason)


class RecordTampered(SupportAccessError):
    """The record is not what the core would have written; ``seq`` is the first bad event."""

    code = "RECORD_TAMPERED"
    seq: int

    def __init__(self, message: str, code: Optional[str] = None, seq: int = 0) -> None:
        super().__init__(message, code)
        self.seq = seq


class CheckpointError(SupportAccessError):
    """A record does not verify against signed checkpoints (SPEC section 9); ``seq`` is the
    refused checkpoint's."""

    code = "CHECKPOINT_MISMATCH"
    seq: int

    def __init__(self, message: str, code: Optional[str] = None, seq: int = 0) -> None:
        super().__init__(message, code)
        self.seq = seq


class RecordTruncated(CheckpointError):
    """The record ends before a checkpoint's ``seq``: events were cut off its end."""

    code = "RECORD_TRUNCATED"


class CheckpointMismatch(CheckpointError):
    """The event at the checkpoint's ``seq`` has another hash, or it is another org's checkpoint."""

    code = "CHECKPOINT_MISMATCH"


class CheckpointsDisagree(CheckpointError):
    """Two checkpoints name different hashes for one ``seq``."""

    code = "CHECKPOINTS_DISAGREE"


class BadSignature(CheckpointError):
    """A checkpoint's signature does not verify with the key it names."""

    code = "BAD_SIGNATURE"


class UntrustedKey(CheckpointError):
    """A checkpoint is signed by a key that is not trusted."""

    code = "UNTRUSTED_KEY"


#: The class raised for each SPEC error code (the class's ``code``), in the core's order.
ERROR_CLASSES: Dict[str, Type[SupportAccessError]] = {
    cls.code: cls
    for cls in (Forbidden, InvalidEnumValue, InvalidTimestamp, InvalidClusterName, MalformedInput, UnknownOp,
                ProjectNotFound, ClusterNotFound, DuplicateProject, DuplicateCluster, UnsupportedClusterKind,
                SyncNotEnabled, ExpirationNotInFuture, ExpirationTooFar, NoActiveGrant, ClockWentBackwards,
                AccessDenied, DownloadNotFound, RecordTampered, RecordTruncated, CheckpointMismatch,
                CheckpointsDisagree, BadSignature, UntrustedKey)
}


def _from_core(code: str, message: str, seq: Optional[int], reason: Optional[str]) -> SupportAccessError:
    """Builds the exception for an error of the core (called by the native module)."""
    cls = ERROR_CLASSES.get(code, SupportAccessError)
    if issubclass(cls, (RecordTampered, CheckpointError)):
        return cls(message, code, seq=seq or 0)
    if cls is AccessDenied:
        return AccessDenied(message, code, reason=reason or Reason.NO_GRANT)
    return cls(message, code)
