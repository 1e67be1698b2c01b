"""Time conversions the native module delegates to Python (datetime and timedelta objects).

Epoch milliseconds, RFC 3339 strings and ``None`` (= now) are handled natively; this module
only turns ``datetime``/``timedelta`` objects into milliseconds and back, exactly (integer
arithmetic, no floats).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ._errors import InvalidTimestamp

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MS = timedelta(milliseconds=1)


def to_ms(value: object) -> int:
    """Epoch milliseconds of an aware ``datetime`` (sub-millisecond digits are floored)."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise InvalidTimestamp(
                f"naive datetime {value.isoformat()} has no timezone: pass an aware datetime "
                "such as datetime.now(timezone.utc) or datetime(..., tzinfo=timezone.utc)",
                "INVALID_TIMESTAMP",
            )
        return (value - _EPOCH) // _MS
    raise TypeError(
        "a time must be an aware datetime, an RFC 3339 string, integer epoch milliseconds, "
        f"or None for now; got {type(value).__name__}"
    )


def from_ms(ms: int) -> datetime:
    """An aware UTC ``datetime`` for epoch milliseconds."""
    return _EPOCH + timedelta(milliseconds=ms)


def duration_to_ms(value: object) -> int:
    """Whole milliseconds of a ``timedelta`` (sub-millisecond digits are floored)."""
    if isinstance(value, timedelta):
        return value // _MS
    raise TypeError(f"a duration must be a datetime.timedelta or None; got {type(value).__name__}")


def ms_to_duration(ms: int) -> timedelta:
    """A ``timedelta`` of ``ms`` milliseconds."""
    return timedelta(milliseconds=ms)
