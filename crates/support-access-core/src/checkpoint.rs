//! Signed checkpoints (SPEC §9): small signed statements "this organization's record had `seq`
//! events with head hash `hash`", in the spirit of C2SP tlog-checkpoint, Sigstore Rekor and Go's
//! sumdb.
//!
//! The hash chain of SPEC §5 catches any edit inside a record, but not a record cut short at its
//! end, nor someone who can write the store rewriting the chain from some event on with fresh
//! hashes: both leave a record that verifies. A checkpoint signed with a key the rewriter does not
//! hold pins the head: a record shorter than the checkpoint, or whose event at the checkpoint's
//! `seq` has another hash, no longer verifies against it.
//!
//! Signatures are Ed25519 (RFC 8032), which is deterministic: the same key and fields always give
//! the same bytes, so checkpoints are as exact as every other result (the conformance vectors pin
//! them). The core never draws randomness: a host creates a key from 32 seed bytes of its own
//! ([`SigningKey::from_seed`]).
//!
//! ```
//! use support_access_core::checkpoint::SigningKey;
//! use support_access_core::{Policy, PolicyOptions, Timestamp};
//!
//! let key = SigningKey::from_seed([7; 32]);
//! let policy = Policy::new(PolicyOptions::new("org-1"))?;
//! let now = Timestamp::parse_rfc3339("2026-11-28T12:00:00Z")?;
//! let checkpoint = policy.checkpoint(now, &key)?;
//! let ok = policy.verify_checkpoints(&[checkpoint], &[key.public_key().clone()])?;
//! assert_eq!(ok.verified_up_to, 1);
//! # Ok::<(), support_access_core::Error>(())
//! ```

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

#[cfg(feature = "sign")]
use ed25519_dalek::Signer;
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::codec::to_hex;
use crate::error::{clip, Error};
use crate::model::Timestamp;
use crate::policy::Policy;
use crate::record::Record;

/// The first line of every checkpoint; the version names the text form, so a later form can be
/// told apart rather than misread.
pub const HEADER: &str = "support-access checkpoint v1";

/// How a signing key's text begins (then 64 lower-case hex digits: the 32-byte seed).
pub const SIGNING_KEY_PREFIX: &str = "sa-ed25519-key:";

/// How a public key's text begins (then 64 lower-case hex digits: the 32-byte key).
pub const PUBLIC_KEY_PREFIX: &str = "sa-ed25519-pub:";

#[cfg(feature = "sign")]
const SIGNING_KEY_FORM: &str = "`sa-ed25519-key:` and 64 lower-case hex digits";
const PUBLIC_KEY_FORM: &str = "`sa-ed25519-pub:` and 64 lower-case hex digits";

/// Lines in a checkpoint's text, the signature line included.
const LINES: usize = 7;

/// Strict lower-case hex of exactly `N` bytes: one spelling per value, so a text re-encodes to
/// itself.
fn from_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let b = s.as_bytes();
    if b.len() != 2 * N {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(b.chunks_exact(2)) {
        *o = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    to_hex(bytes, &mut s);
    s
}

/// Names a public key inside a checkpoint: the first 8 bytes of SHA-256 over the key's 32 bytes,
/// written as 16 hex digits. Derived, never chosen, so a verifier computes it from the keys it
/// trusts and a signer cannot claim another key's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId([u8; 8]);

impl KeyId {
    fn of(key: &VerifyingKey) -> KeyId {
        let digest = Sha256::digest(key.as_bytes());
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[..8]);
        KeyId(id)
    }

    /// Reads 16 lower-case hex digits.
    pub fn parse(text: &str) -> Option<KeyId> {
        from_hex(text).map(KeyId)
    }

    /// The 16 hex digits.
    pub fn to_hex(self) -> String {
        hex(&self.0)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// An Ed25519 public key that checkpoints are verified with. Text form:
/// `sa-ed25519-pub:` + 64 lower-case hex digits.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    id: KeyId,
}

impl PublicKey {
    /// Reads the text form. Small-order ("weak") keys are refused: any signature verifies with
    /// some of them, so trusting one would trust anyone.
    pub fn parse(text: &str) -> Result<PublicKey, Error> {
        Self::read(text)
            .ok_or_else(|| Error::malformed(format!("not a public key ({PUBLIC_KEY_FORM})")))
    }

    fn read(text: &str) -> Option<PublicKey> {
        let bytes = from_hex::<32>(text.strip_prefix(PUBLIC_KEY_PREFIX)?)?;
        let key = VerifyingKey::from_bytes(&bytes).ok()?;
        if key.is_weak() {
            return None;
        }
        Some(PublicKey {
            id: KeyId::of(&key),
            key,
        })
    }

    /// The text form.
    pub fn to_text(&self) -> String {
        format!("{PUBLIC_KEY_PREFIX}{}", hex(self.key.as_bytes()))
    }

    /// The id checkpoints signed with the matching signing key carry.
    pub fn key_id(&self) -> KeyId {
        self.id
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PublicKey").field(&self.to_text()).finish()
    }
}

/// An Ed25519 signing key (feature `sign`, on by default). Text form: `sa-ed25519-key:` + 64 lower-case hex digits of the 32-byte
/// seed (RFC 8032's private key). The text is a secret: keep it out of logs; `Debug` shows only
/// the key id, and the key is wiped from memory when dropped.
#[cfg(feature = "sign")]
#[derive(Clone)]
pub struct SigningKey {
    key: ed25519_dalek::SigningKey,
    public: PublicKey,
}

#[cfg(feature = "sign")]
impl SigningKey {
    /// The key for 32 seed bytes. The core has no randomness of its own: a host draws the seed
    /// from its operating system (the CLI's `key new` does), a test passes a fixed one.
    pub fn from_seed(seed: [u8; 32]) -> SigningKey {
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let verifying = key.verifying_key();
        SigningKey {
            key,
            public: PublicKey {
                id: KeyId::of(&verifying),
                key: verifying,
            },
        }
    }

    /// The key for a seed a host hands over as bytes of any length: exactly 32, or the core's
    /// `MALFORMED_INPUT` (every front end's "not 32 bytes" is this one).
    pub fn from_seed_bytes(seed: &[u8]) -> Result<SigningKey, Error> {
        let seed: [u8; 32] = seed.try_into().map_err(|_| {
            Error::malformed(format!(
                "a signing key's seed is exactly 32 bytes, not {}",
                seed.len()
            ))
        })?;
        Ok(SigningKey::from_seed(seed))
    }

    /// Reads the text form. The error never repeats the text (it is a secret).
    pub fn parse(text: &str) -> Result<SigningKey, Error> {
        text.strip_prefix(SIGNING_KEY_PREFIX)
            .and_then(from_hex::<32>)
            .map(SigningKey::from_seed)
            .ok_or_else(|| Error::malformed(format!("not a signing key ({SIGNING_KEY_FORM})")))
    }

    /// The text form (a secret).
    pub fn to_text(&self) -> String {
        format!("{SIGNING_KEY_PREFIX}{}", hex(self.key.as_bytes()))
    }

    /// The public key that verifies this key's checkpoints.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The public key's id.
    pub fn key_id(&self) -> KeyId {
        self.public.id
    }
}

#[cfg(feature = "sign")]
impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("key_id", &self.public.id)
            .finish_non_exhaustive()
    }
}

/// A signed statement that organization `org_id`'s record had `seq` events, the last with hash
/// `hash`, signed at `at` with the key `key_id` names. Its text form (SPEC §9) is seven lines,
/// each ending with `\n`:
///
/// ```text
/// support-access checkpoint v1
/// org <orgId>
/// seq <seq>
/// hash <64 hex>
/// at <YYYY-MM-DDTHH:MM:SS.mmmZ>
/// key <16 hex>
/// sig <128 hex>
/// ```
///
/// The signature covers the first six lines, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    org_id: String,
    seq: u64,
    hash: String,
    at: Timestamp,
    key_id: KeyId,
    signature: [u8; 64],
}

fn signed_text(org_id: &str, seq: u64, hash: &str, at: Timestamp, key_id: KeyId) -> String {
    format!(
        "{HEADER}\norg {org_id}\nseq {seq}\nhash {hash}\nat {}\nkey {key_id}\n",
        at.rfc3339()
    )
}

impl Checkpoint {
    #[cfg(feature = "sign")]
    fn sign(org_id: &str, seq: u64, hash: &str, at: Timestamp, key: &SigningKey) -> Checkpoint {
        let body = signed_text(org_id, seq, hash, at, key.key_id());
        Checkpoint {
            org_id: String::from(org_id),
            seq,
            hash: String::from(hash),
            at,
            key_id: key.key_id(),
            signature: key.key.sign(body.as_bytes()).to_bytes(),
        }
    }

    /// The organization whose record this describes.
    pub fn org_id(&self) -> &str {
        &self.org_id
    }

    /// How many events the record had (the `seq` of its head).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The head's hash: the `hash` of the event at `seq`.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// When it was signed (the signer's clock, never before the head event).
    pub fn at(&self) -> Timestamp {
        self.at
    }

    /// The id of the key that signed it.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The bytes the signature covers: the text's first six lines.
    pub fn signed_text(&self) -> String {
        signed_text(&self.org_id, self.seq, &self.hash, self.at, self.key_id)
    }

    /// The text form (SPEC §9), ending with `\n`.
    pub fn to_text(&self) -> String {
        let mut text = self.signed_text();
        text.push_str("sig ");
        to_hex(&self.signature, &mut text);
        text.push('\n');
        text
    }

    /// Whether the signature verifies with `key` (strict RFC 8032 verification: no malleable
    /// signatures). Only the signature: a verifier also needs the key to be trusted and the key
    /// id to be that key's, which [`Policy::verify_checkpoints`] checks.
    pub fn verify_signature(&self, key: &PublicKey) -> bool {
        key.id == self.key_id
            && key
                .key
                .verify_strict(
                    self.signed_text().as_bytes(),
                    &Signature::from_bytes(&self.signature),
                )
                .is_ok()
    }

    /// Reads exactly the text form: one spelling per checkpoint, so what was signed is what was
    /// read. The signature is not checked here.
    pub fn parse(text: &str) -> Result<Checkpoint, Error> {
        read(text).map_err(|detail| Error::malformed(format!("not a checkpoint: {detail}")))
    }

    /// Reads a checkpoints file: checkpoints one after another (each seven lines), as the CLI
    /// appends them. An empty text holds none.
    pub fn parse_many(text: &str) -> Result<Vec<Checkpoint>, Error> {
        let mut out = Vec::new();
        let mut start = 0;
        let mut lines = 0;
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                lines += 1;
                if lines == LINES {
                    out.push(read(&text[start..=i]).map_err(|detail| {
                        Error::malformed(format!(
                            "checkpoint {} is not a checkpoint: {detail}",
                            out.len() + 1
                        ))
                    })?);
                    start = i + 1;
                    lines = 0;
                }
            }
        }
        if start < text.len() {
            return Err(Error::malformed(format!(
                "checkpoint {} is cut short: a checkpoint is {LINES} lines, each ending with a newline",
                out.len() + 1
            )));
        }
        Ok(out)
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// Parses the text form, or says which line is wrong.
fn read(text: &str) -> Result<Checkpoint, &'static str> {
    let mut lines = text.split_inclusive('\n');
    let mut field = |name: &str, want: &'static str| -> Result<&str, &'static str> {
        lines
            .next()
            .and_then(|l| l.strip_suffix('\n'))
            .and_then(|l| l.strip_prefix(name))
            .and_then(|l| l.strip_prefix(' '))
            .ok_or(want)
    };
    let header = "line 1 must be `support-access checkpoint v1`";
    if field("support-access", header)? != "checkpoint v1" {
        return Err(header);
    }
    let want_org =
        "line 2 must be `org` and an organization id (1-256 bytes, no control character)";
    let org_id = field("org", want_org)?;
    crate::wire::check_id("org", org_id).map_err(|_| want_org)?;
    let want_seq = "line 3 must be `seq` and a number from 1, without leading zeros";
    let seq = field("seq", want_seq)?;
    let seq = (!seq.starts_with('0') && seq.bytes().all(|b| b.is_ascii_digit()))
        .then(|| seq.parse::<u64>().ok())
        .flatten()
        .ok_or(want_seq)?;
    let want_hash = "line 4 must be `hash` and 64 lower-case hex digits";
    let hash = field("hash", want_hash)?;
    from_hex::<32>(hash).ok_or(want_hash)?;
    let want_at = "line 5 must be `at` and a time in the form 2026-11-28T12:00:00.000Z";
    let at_text = field("at", want_at)?;
    let at = Timestamp::parse_canonical(at_text.as_bytes()).ok_or(want_at)?;
    let want_key = "line 6 must be `key` and 16 lower-case hex digits";
    let key_id = KeyId::parse(field("key", want_key)?).ok_or(want_key)?;
    let want_sig = "line 7 must be `sig` and 128 lower-case hex digits";
    let signature = from_hex::<64>(field("sig", want_sig)?).ok_or(want_sig)?;
    if lines.next().is_some() {
        return Err("nothing may follow the `sig` line");
    }
    Ok(Checkpoint {
        org_id: String::from(org_id),
        seq,
        hash: String::from(hash),
        at,
        key_id,
        signature,
    })
}

/// What verifying a record against checkpoints found (the `verifyCheckpoints` result).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// How many events the record holds.
    pub events: u64,
    /// The hash of its last event.
    pub last_hash: String,
    /// The highest `seq` a checkpoint vouches for: events past it are covered by the chain only.
    pub verified_up_to: u64,
    /// The keys whose checkpoints were checked, sorted, each once.
    pub key_ids: Vec<KeyId>,
}

/// Checks a verified record against checkpoints (SPEC §9, in this order): each checkpoint in turn
/// is signed by a trusted key (`UNTRUSTED_KEY`), its signature verifies (`BAD_SIGNATURE`) and it
/// is of this organization (`CHECKPOINT_MISMATCH`); no two name different hashes for one `seq`
/// (`CHECKPOINTS_DISAGREE`); then, by ascending `seq`, the record reaches each one
/// (`RECORD_TRUNCATED`) and holds its hash there (`CHECKPOINT_MISMATCH`).
fn check(
    record: &Record,
    org_id: &str,
    checkpoints: &[Checkpoint],
    trusted: &[PublicKey],
) -> Result<Verified, Error> {
    if checkpoints.is_empty() {
        // Verifying against nothing would pass every truncated record: say so instead.
        return Err(Error::malformed("no checkpoint to verify against"));
    }
    let mut key_ids = Vec::with_capacity(checkpoints.len());
    for c in checkpoints {
        let key_id = || c.key_id.to_hex();
        let key = trusted
            .iter()
            .find(|k| k.id == c.key_id)
            .ok_or_else(|| Error::UntrustedKey {
                seq: c.seq,
                key_id: key_id(),
            })?;
        if !c.verify_signature(key) {
            return Err(Error::BadSignature {
                seq: c.seq,
                key_id: key_id(),
            });
        }
        if c.org_id != org_id {
            return Err(Error::CheckpointMismatch {
                seq: c.seq,
                detail: format!(
                    "the checkpoint is of organization `{}`, the record of `{}`",
                    clip(&c.org_id),
                    clip(org_id)
                ),
            });
        }
        // Sorted and each once, by insertion: a handful of ids, and no sort routine in the
        // browser's .wasm for it.
        if let Err(at) = key_ids.binary_search(&c.key_id) {
            key_ids.insert(at, c.key_id);
        }
    }
    let by_seq = by_seq(checkpoints);
    for pair in by_seq.windows(2) {
        if pair[0].seq == pair[1].seq && pair[0].hash != pair[1].hash {
            return Err(Error::CheckpointsDisagree {
                seq: pair[0].seq,
                first: pair[0].hash.clone(),
                second: pair[1].hash.clone(),
            });
        }
    }
    let events = record.len() as u64;
    for c in &by_seq {
        let index = usize::try_from(c.seq - 1).unwrap_or(usize::MAX);
        let Some(actual) = record.hash_at(index) else {
            return Err(Error::RecordTruncated {
                seq: c.seq,
                events,
                key_id: c.key_id.to_hex(),
            });
        };
        if actual != c.hash {
            return Err(Error::CheckpointMismatch {
                seq: c.seq,
                detail: format!(
                    "the record's event has hash {actual}, the checkpoint signed by key `{}` holds {}",
                    c.key_id, c.hash
                ),
            });
        }
    }
    Ok(Verified {
        events,
        last_hash: String::from(record.last_hash()),
        verified_up_to: by_seq.last().map_or(0, |c| c.seq),
        key_ids,
    })
}

/// The checkpoints by ascending `seq`, ties in the order given. An insertion sort: there are a
/// few checkpoints, and the standard sorts cost the browser's .wasm several KiB.
fn by_seq(checkpoints: &[Checkpoint]) -> Vec<&Checkpoint> {
    let mut out: Vec<&Checkpoint> = Vec::with_capacity(checkpoints.len());
    for c in checkpoints {
        let at = out.partition_point(|o| o.seq <= c.seq);
        out.insert(at, c);
    }
    out
}

/// Verifies a JSON Lines record (SPEC §5, `RECORD_TAMPERED`) and then checks it against
/// checkpoints signed by trusted keys (see [`Policy::verify_checkpoints`]).
pub fn verify_checkpoints(
    record: &str,
    checkpoints: &[Checkpoint],
    trusted: &[PublicKey],
) -> Result<Verified, Error> {
    crate::replay::replay(record)?.verify_checkpoints(checkpoints, trusted)
}

impl Policy {
    /// Signs (feature `sign`) a checkpoint of this policy's current head, dated `now`. `now` may not be before
    /// the last recorded event (`CLOCK_WENT_BACKWARDS`): a checkpoint cannot vouch for a head
    /// that did not exist yet. Records nothing.
    #[cfg(feature = "sign")]
    pub fn checkpoint(&self, now: Timestamp, key: &SigningKey) -> Result<Checkpoint, Error> {
        let last = self.record.last_at();
        if now < last {
            return Err(Error::ClockWentBackwards { now, last });
        }
        Ok(Checkpoint::sign(
            self.org_id(),
            self.record.len() as u64,
            self.record.last_hash(),
            now,
            key,
        ))
    }

    /// Checks this policy's record against checkpoints signed by trusted keys: each must be
    /// signed by one of `trusted` (`UNTRUSTED_KEY`), verify (`BAD_SIGNATURE`), be of this
    /// organization and match the record's event at its `seq` (`CHECKPOINT_MISMATCH`), which the
    /// record must reach (`RECORD_TRUNCATED`); two checkpoints may not disagree
    /// (`CHECKPOINTS_DISAGREE`). Every error carries the refused checkpoint's `seq`.
    ///
    /// Because every checkpoint must match the one record, a later checkpoint necessarily
    /// extends every earlier one that also matches.
    pub fn verify_checkpoints(
        &self,
        checkpoints: &[Checkpoint],
        trusted: &[PublicKey],
    ) -> Result<Verified, Error> {
        check(&self.record, self.org_id(), checkpoints, trusted)
    }
}

#[cfg(all(test, feature = "sign"))]
mod tests {
    use super::*;

    #[test]
    fn a_seed_of_bytes_is_exactly_32_of_them() {
        use alloc::string::ToString;
        use alloc::vec;
        let key = SigningKey::from_seed_bytes(&[1; 32]).unwrap();
        assert_eq!(key.key_id(), SigningKey::from_seed([1; 32]).key_id());
        for len in [0, 31, 33, 64] {
            let e = SigningKey::from_seed_bytes(&vec![1; len]).unwrap_err();
            assert_eq!(e.code(), crate::error::ErrorCode::MalformedInput);
            assert!(
                e.to_string()
                    .ends_with(&format!("exactly 32 bytes, not {len}")),
                "{e}"
            );
        }
    }

    #[test]
    fn texts_round_trip_and_refuse_other_spellings() {
        let key = SigningKey::from_seed([1; 32]);
        assert_eq!(
            SigningKey::parse(&key.to_text()).unwrap().key_id(),
            key.key_id()
        );
        let public = key.public_key();
        assert_eq!(&PublicKey::parse(&public.to_text()).unwrap(), public);
        let upper = public.to_text().to_uppercase();
        assert!(PublicKey::parse(&upper).is_err());
        assert!(SigningKey::parse(&public.to_text()).is_err());
        assert!(PublicKey::parse(&key.to_text()).is_err());
        // The identity point is small-order: refused.
        let mut weak = String::from(PUBLIC_KEY_PREFIX);
        weak.push_str("01");
        weak.push_str(&"00".repeat(31));
        assert!(PublicKey::parse(&weak).is_err());
        let err = SigningKey::parse("sa-ed25519-key:secret").unwrap_err();
        assert!(!format!("{err}").contains("secret"));
        assert!(!format!("{key:?}").contains(&key.to_text()[15..]));

        let policy = Policy::new(crate::policy::PolicyOptions::new("org 1")).unwrap();
        let c = policy.checkpoint(Timestamp::EPOCH, &key).unwrap();
        let text = c.to_text();
        assert_eq!(Checkpoint::parse(&text).unwrap(), c);
        assert!(c.verify_signature(public));
        assert!(!c.verify_signature(SigningKey::from_seed([2; 32]).public_key()));
        for (from, to) in [
            ("seq 1", "seq 01"),
            ("seq 1", "seq +1"),
            ("seq 1", "seq 0"),
            (".000Z", "Z"),
            ("org org 1", "org "),
            ("v1\n", "v1\r\n"),
        ] {
            assert!(
                Checkpoint::parse(&text.replacen(from, to, 1)).is_err(),
                "{to}"
            );
        }
        assert!(Checkpoint::parse(&text[..text.len() - 1]).is_err());
        assert!(Checkpoint::parse(&format!("{text}\n")).is_err());
        let two = format!("{text}{text}");
        assert_eq!(Checkpoint::parse_many(&two).unwrap(), [c.clone(), c]);
        assert!(Checkpoint::parse_many(&two[..two.len() - 1]).is_err());
        assert_eq!(Checkpoint::parse_many("").unwrap(), []);
    }
}
