"""The SPEC's enumerations as str-valued ``enum.Enum`` classes.

Every member *is* its SPEC string (``Resource.DATABASE_LOGS == "DATABASE_LOGS"``), so members and
plain strings may be passed interchangeably wherever the API takes one of these values.
"""

from __future__ import annotations

import enum

__all__ = ["ClusterKind", "GrantType", "Reason", "Resource", "RoleName"]


class _SpecEnum(str, enum.Enum):
    """A SPEC enumeration: ``str(member)`` and ``member.value`` are the SPEC string."""

    def __str__(self) -> str:
        return str(self.value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}.{self.name}"


class GrantType(_SpecEnum):
    """What a grant lets support staff reach (Atlas ``grantType``)."""

    CLUSTER_INFRASTRUCTURE = "CLUSTER_INFRASTRUCTURE"
    CLUSTER_DATABASE_LOGS = "CLUSTER_DATABASE_LOGS"
    CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA = "CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA"


class Resource(_SpecEnum):
    """What support staff ask to reach."""

    INFRASTRUCTURE = "INFRASTRUCTURE"
    DATABASE_LOGS = "DATABASE_LOGS"
    AUDIT_LOGS = "AUDIT_LOGS"
    SYNC_DATA = "SYNC_DATA"
    DATABASE_DATA = "DATABASE_DATA"


class Reason(_SpecEnum):
    """Which SPEC section 4 rule decided."""

    CLUSTER_NOT_FOUND = "CLUSTER_NOT_FOUND"
    DATABASE_DATA_NEVER_ACCESSIBLE = "DATABASE_DATA_NEVER_ACCESSIBLE"
    SYNC_DATA_REQUIRES_GRANT = "SYNC_DATA_REQUIRES_GRANT"
    ORG_UNRESTRICTED = "ORG_UNRESTRICTED"
    GRANT_ACTIVE = "GRANT_ACTIVE"
    NOT_COVERED_BY_GRANT = "NOT_COVERED_BY_GRANT"
    GRANT_EXPIRED = "GRANT_EXPIRED"
    GRANT_REVOKED = "GRANT_REVOKED"
    NO_GRANT = "NO_GRANT"


class ClusterKind(_SpecEnum):
    """The kind of a cluster; only ``DEDICATED`` clusters take grants."""

    DEDICATED = "DEDICATED"
    FLEX = "FLEX"
    SERVERLESS = "SERVERLESS"


class RoleName(_SpecEnum):
    """The roles an actor may hold (SPEC section 1)."""

    ORG_OWNER = "ORG_OWNER"
    PROJECT_OWNER = "PROJECT_OWNER"
    PROJECT_SUPPORT_ACCESS_MANAGER = "PROJECT_SUPPORT_ACCESS_MANAGER"
    PROJECT_READ_ONLY = "PROJECT_READ_ONLY"
