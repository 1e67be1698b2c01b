"""The one Python reader of vectors.txt (the format of this folder's README.md), used by the
Python binding's tests and the plugin's wasmtime host: plain Python, no JSON parsing, no imports
beyond the standard library, so any interpreter can load it by path."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional


@dataclass(frozen=True)
class Step:
    """`policy JSON` (`expect` is None: make a fresh policy from `text`) or `command TEXT` with
    the `expect` line that follows it. `line`: where `text` stands in the file, from 1."""

    line: int
    text: str
    expect: Optional[str] = None

    @property
    def is_policy(self) -> bool:
        return self.expect is None


@dataclass
class Vector:
    name: str
    line: int
    steps: List[Step] = field(default_factory=list)


class FormatError(ValueError):
    """vectors.txt does not follow the format (the message names the line)."""


def parse_vectors(text: str) -> List[Vector]:
    """Every vector of the file's text, in order; a line out of place is a FormatError."""
    vectors: List[Vector] = []
    current: Optional[Vector] = None
    pending: Optional[Step] = None
    for number, line in enumerate(text.split("\n"), start=1):
        if line == "" or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if keyword == "vector":
            if current is not None:
                raise FormatError(f"line {number}: vector {rest} starts before {current.name} ends")
            current = Vector(rest, number)
        elif current is None:
            raise FormatError(f"line {number}: `{keyword}` outside a vector")
        elif keyword == "policy" and pending is None:
            current.steps.append(Step(number, rest))
        elif keyword == "command" and pending is None:
            pending = Step(number, rest)
        elif keyword == "expect" and pending is not None:
            current.steps.append(Step(pending.line, pending.text, rest))
            pending = None
        elif keyword == "end" and pending is None:
            vectors.append(current)
            current = None
        elif keyword in ("policy", "command", "expect", "end"):
            raise FormatError(f"line {number}: `{keyword}` out of place (a command takes one expect)")
        else:
            raise FormatError(f"line {number}: unknown item `{keyword}`")
    if current is not None:
        raise FormatError(f"vector {current.name} never ends")
    return vectors
