// The TypeScript surface of the native Node package `support-access`: the surface it shares
// with the WebAssembly package (common.d.ts, the one source of both) and what only the native
// packages do: sign checkpoints (SPEC §9).
import { Checkpoint, Policy as VerifyingPolicy, PublicKey, Time } from './common'

export * from './common'

/** An Ed25519 signing key: a secret. Text form: `sa-ed25519-key:` and 64 lower-case hex digits
 * of the 32-byte seed (`toText()`); `String(key)` and `JSON.stringify` show only the key id. */
export declare class SigningKey {
  private constructor()
  /** The key for exactly 32 seed bytes the host drew (e.g. `crypto.randomBytes(32)`); another
   * length is MALFORMED_INPUT. */
  static fromSeed(seed: Uint8Array): SigningKey
  /** Reads the text form (MALFORMED_INPUT otherwise; the message never repeats the text). */
  static parse(text: string): SigningKey
  /** The public key that verifies this key's checkpoints. */
  readonly publicKey: PublicKey
  readonly keyId: string
  /** The text form: a secret, keep it out of logs. */
  toText(): string
  toString(): string
  toJSON(): string
}

/** One organization's support-access policy and its tamper-evident record; this package also
 * signs checkpoints of it. */
export declare class Policy extends VerifyingPolicy {
  /** Rebuilds the exact policy that wrote a JSON Lines record (RECORD_TAMPERED otherwise). */
  static replay(record: string): Policy
  /** Signs a checkpoint of the current head, dated `now`, with `key` (a SigningKey or its
   * text). Records nothing; a `now` before the last event is CLOCK_WENT_BACKWARDS. */
  checkpoint(key: SigningKey | string, now?: Time): Checkpoint
}

/** Whether this package signs checkpoints: the native package does. */
export declare const SIGNING: true
