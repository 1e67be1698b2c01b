"""Every conformance vector (tests/vectors/vectors.txt) through `Policy.apply`, byte for byte."""

from __future__ import annotations

from typing import Optional

import pytest

from support_access import Policy

from conftest import VECTORS
from vectorfile import Vector, parse_vectors

VECTOR_LIST = parse_vectors(VECTORS.read_text(encoding="utf-8"))


def test_vectors_file_is_not_empty() -> None:
    assert len(VECTOR_LIST) > 0
    assert sum(not s.is_policy for v in VECTOR_LIST for s in v.steps) > 0


@pytest.mark.parametrize("vector", VECTOR_LIST, ids=[v.name for v in VECTOR_LIST])
def test_vector(vector: Vector) -> None:
    policy: Optional[Policy] = None
    for step in vector.steps:
        if step.is_policy:
            policy = Policy.from_json(step.text)
            continue
        assert policy is not None, f"{vector.name}, vectors.txt line {step.line}: command before any policy"
        result = policy.apply(step.text)
        assert result == step.expect, f"{vector.name}, vectors.txt line {step.line}: {step.text}"
