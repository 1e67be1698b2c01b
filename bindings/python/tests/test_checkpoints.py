"""Signed checkpoints (SPEC §9) through the typed API: keys, texts, signing, verification, errors.

Every check is the core's; these tests pin the Python surface (types, exceptions, ``.seq``) and
that it agrees with the JSON commands (``publicKey``, ``checkpoint``, ``verifyCheckpoints``).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

import support_access as sa
from support_access import (
    BadSignature,
    Checkpoint,
    CheckpointError,
    CheckpointMismatch,
    CheckpointsDisagree,
    CheckpointsVerified,
    ClockWentBackwards,
    MalformedInput,
    Policy,
    PublicKey,
    RecordTampered,
    RecordTruncated,
    SigningKey,
    UntrustedKey,
)

from conftest import HOUR, OWNER, T0, T0_MS

KEY = SigningKey.from_seed(bytes([7]) * 32)
OTHER = SigningKey.from_seed(bytes([8]) * 32)


def test_keys_round_trip_and_agree_with_the_command(policy: Policy) -> None:
    text = KEY.to_text()
    assert text.startswith("sa-ed25519-key:") and len(text) == 15 + 64
    assert SigningKey.parse(text).key_id == KEY.key_id
    pub = KEY.public_key
    assert isinstance(pub, PublicKey)
    assert PublicKey.parse(str(pub)) == pub
    assert hash(PublicKey.parse(pub.to_text())) == hash(pub)
    assert pub.key_id == KEY.key_id and len(pub.key_id) == 16
    assert pub != OTHER.public_key
    cmd = json.dumps({"op": "publicKey", "signingKey": text})
    assert json.loads(policy.apply(cmd))["ok"] == {"publicKey": str(pub), "keyId": pub.key_id}
    # The secret never shows in a repr.
    assert text[15:] not in repr(KEY) and KEY.key_id in repr(KEY)


@pytest.mark.parametrize("seed", [b"", bytes(31), bytes(33), bytes(64)])
def test_seed_must_be_32_bytes(seed: bytes) -> None:
    with pytest.raises(MalformedInput, match="exactly 32 bytes") as e:
        SigningKey.from_seed(seed)
    assert isinstance(e.value, ValueError) and e.value.code == "MALFORMED_INPUT"


def test_seed_must_be_bytes() -> None:
    with pytest.raises(TypeError):
        SigningKey.from_seed("x" * 32)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    ["", "sa-ed25519-key:", "sa-ed25519-key:" + "A" * 64, "sa-ed25519-pub:" + "00" * 32, "sa-ed25519-key:secret"],
)
def test_bad_signing_key_texts(text: str) -> None:
    with pytest.raises(MalformedInput) as e:
        SigningKey.parse(text)
    assert "secret" not in str(e.value)


@pytest.mark.parametrize(
    "text",
    ["", KEY.to_text(), str(KEY.public_key).upper(), "sa-ed25519-pub:01" + "00" * 31, str(KEY.public_key) + "\n"],
)
def test_bad_public_key_texts(text: str) -> None:
    with pytest.raises(MalformedInput):
        PublicKey.parse(text)


def test_sign_parse_and_verify(policy: Policy) -> None:
    now = datetime(2026, 11, 28, 11, tzinfo=timezone.utc)
    c = policy.checkpoint(KEY, now)
    assert isinstance(c, Checkpoint)
    head = policy.record[-1]
    assert (c.org_id, c.seq, c.hash, c.at, c.key_id) == ("org-1", head.seq, head.hash, now, KEY.key_id)
    assert Checkpoint.parse(c.to_text()) == c and str(c) == c.to_text()
    assert hash(Checkpoint.parse(str(c))) == hash(c)
    assert c.verify_signature(KEY.public_key) and c.verify_signature(str(KEY.public_key))
    assert not c.verify_signature(OTHER.public_key)
    # The same command through the JSON interface signs the same bytes (Ed25519 is deterministic).
    cmd = json.dumps({"op": "checkpoint", "signingKey": KEY.to_text(), "now": "2026-11-28T11:00:00Z"})
    assert json.loads(policy.apply(cmd))["ok"]["checkpoint"] == c.to_text()
    # A key's text signs like the key.
    assert policy.checkpoint(KEY.to_text(), now) == c
    v = policy.verify_checkpoints([c], [KEY.public_key])
    assert isinstance(v, CheckpointsVerified)
    assert (v.events, v.last_hash, v.verified_up_to, v.key_ids) == (head.seq, head.hash, head.seq, [KEY.key_id])
    assert sa.verify_checkpoints(policy.export_record(), [str(c)], [str(KEY.public_key)]) == v
    assert Checkpoint.parse_many(str(c) * 2) == [c, c]
    assert Checkpoint.parse_many("") == []


def test_checkpoint_before_the_head_is_clock_went_backwards(policy: Policy) -> None:
    with pytest.raises(ClockWentBackwards):
        policy.checkpoint(KEY, T0_MS - 1)


def test_each_checkpoint_error_is_typed_with_its_seq(policy: Policy) -> None:
    # The fixture's record holds 4 events: c3 is the head before the grant, c4 after it.
    c3 = policy.checkpoint(KEY, T0)
    record3 = policy.export_record()
    policy.grant(OWNER, "Cluster0", "CLUSTER_DATABASE_LOGS", T0)
    c4 = policy.checkpoint(KEY, T0)
    assert (c3.seq, c4.seq) == (4, 5)
    with pytest.raises(UntrustedKey) as e:
        policy.verify_checkpoints([c4], [OTHER.public_key])
    assert e.value.seq == 5 and isinstance(e.value, CheckpointError)
    forged = Checkpoint.parse(str(c4).replace("org org-1", "org org-2"))
    with pytest.raises(BadSignature) as e2:
        policy.verify_checkpoints([forged], [KEY.public_key])
    assert e2.value.seq == 5
    with pytest.raises(RecordTruncated) as e3:
        sa.verify_checkpoints(record3, [c3, c4], [KEY.public_key])
    assert e3.value.seq == 5
    other = Policy("org-2")
    assert other.verify_checkpoints([other.checkpoint(KEY, T0)], [KEY.public_key]).events == 1
    with pytest.raises(CheckpointMismatch):
        policy.verify_checkpoints([other.checkpoint(KEY, T0)], [KEY.public_key])
    # Two policies of one org, different heads at the same seq: the checkpoints disagree.
    fork = Policy.replay(record3)
    fork.grant(OWNER, "Cluster0", "CLUSTER_INFRASTRUCTURE", T0)
    with pytest.raises(CheckpointsDisagree) as e4:
        policy.verify_checkpoints([c4, fork.checkpoint(KEY, T0)], [KEY.public_key])
    assert e4.value.seq == 5
    with pytest.raises(RecordTampered):
        sa.verify_checkpoints(record3.replace('"p1"', '"p2"', 1), [c3], [KEY.public_key])
    with pytest.raises(MalformedInput, match="no checkpoint"):
        policy.verify_checkpoints([], [KEY.public_key])


@pytest.mark.parametrize("bad", [None, 3, b"x", object()])
def test_wrong_argument_types_are_type_errors(policy: Policy, bad: object) -> None:
    c = policy.checkpoint(KEY, T0)
    with pytest.raises(TypeError):
        policy.verify_checkpoints([bad], [KEY.public_key])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        policy.verify_checkpoints([c], [bad])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        policy.checkpoint(bad, T0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        c.verify_signature(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        policy.verify_checkpoints(str(c), [KEY.public_key])  # a str is not a list of checkpoints
    with pytest.raises(TypeError):
        policy.verify_checkpoints(bad, [KEY.public_key])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1],
        lambda t: t + "\n",
        lambda t: t.replace("\nseq ", "\nseq 0"),
        lambda t: t.replace(".000Z", "Z"),
        lambda t: t.replace("v1\n", "v1\r\n"),
        lambda t: "",
    ],
)
def test_malformed_checkpoint_texts(policy: Policy, mangle: object) -> None:
    text = policy.checkpoint(KEY, T0).to_text()
    bad = mangle(text)  # type: ignore[operator]
    with pytest.raises(MalformedInput):
        Checkpoint.parse(bad)
    with pytest.raises(MalformedInput):
        policy.verify_checkpoints([bad], [KEY.public_key])


def test_later_checkpoint_covers_more(policy: Policy) -> None:
    c3 = policy.checkpoint(KEY, T0)
    policy.grant(OWNER, "Cluster0", "CLUSTER_DATABASE_LOGS", T0)
    v = policy.verify_checkpoints([c3], [KEY.public_key, OTHER.public_key])
    assert (v.events, v.verified_up_to) == (5, 4)
    c4 = policy.checkpoint(OTHER, T0_MS + HOUR)
    v = policy.verify_checkpoints((c for c in [c4, c3]), {KEY.public_key, OTHER.public_key})
    assert v.verified_up_to == 5 and v.key_ids == sorted([KEY.key_id, OTHER.key_id])
