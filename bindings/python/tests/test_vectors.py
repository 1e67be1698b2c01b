"""Every conformance vector (tests/vectors/vectors.txt) through `Policy.apply`, byte for byte."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Tuple

import pytest

from support_access import Policy

from conftest import VECTORS


@dataclass
class Vector:
    name: str
    line: int
    policy: str = ""
    steps: List[Tuple[int, str, str]] = field(default_factory=list)


def load_vectors() -> List[Vector]:
    """Reads the file as tests/vectors/README.md describes it (no JSON parsing needed)."""
    vectors: List[Vector] = []
    current: Vector | None = None
    pending: Tuple[int, str] | None = None
    text = VECTORS.read_text(encoding="utf-8")
    for number, raw in enumerate(text.split("\n"), start=1):
        if raw == "" or raw.startswith("#"):
            continue
        keyword, _, rest = raw.partition(" ")
        if keyword == "vector":
            assert current is None, f"line {number}: vector inside vector"
            current = Vector(rest, number)
        elif keyword == "policy":
            assert current is not None, f"line {number}: policy outside a vector"
            current.policy = rest
        elif keyword == "command":
            assert current is not None and pending is None, f"line {number}: unexpected command"
            pending = (number, rest)
        elif keyword == "expect":
            assert current is not None and pending is not None, f"line {number}: expect without command"
            current.steps.append((pending[0], pending[1], rest))
            pending = None
        elif keyword == "end":
            assert current is not None and pending is None, f"line {number}: unexpected end"
            vectors.append(current)
            current = None
        else:
            raise AssertionError(f"line {number}: unknown item {keyword!r}")
    assert current is None, "file ends inside a vector"
    return vectors


VECTOR_LIST = load_vectors()


def test_vectors_file_is_not_empty() -> None:
    assert len(VECTOR_LIST) > 0
    assert sum(len(v.steps) for v in VECTOR_LIST) > 0


@pytest.mark.parametrize("vector", VECTOR_LIST, ids=[v.name for v in VECTOR_LIST])
def test_vector(vector: Vector) -> None:
    policy = Policy.from_json(vector.policy)
    for line, command, expect in vector.steps:
        result = policy.apply(command)
        assert result == expect, f"{vector.name}, vectors.txt line {line}: {command}"
