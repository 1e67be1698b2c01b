// The TypeScript surface both JavaScript packages share, written by hand: the native Node package
// (`support-access`, bindings/node) and the WebAssembly browser package (`support-access-wasm`,
// bindings/wasm). This file is the one source: the Node package ships it as is; the wasm build
// copies it into the wasm package (`js/common.d.ts`, not committed). Each package's own entry
// (`types.d.ts`, `js/index.d.ts`) re-exports it and adds its small part: the Node package signs
// checkpoints (`SigningKey`, `Policy#checkpoint`), the browser package only verifies them.
// It depends on nothing Node- or browser-specific.
//
// Conventions:
// - Times (`Time`) are a `Date`, an RFC 3339 string (`2026-11-29T20:00:00Z`, offsets allowed,
//   at most millisecond precision) or epoch milliseconds. Every `now` may be omitted: it then
//   defaults to `Date.now()` — except the policy options' `now` (the creation time), which
//   stays unset when omitted.
// - Results are plain objects, equal to the `ok` payload of the same command through `apply`
//   (times in results are RFC 3339 UTC strings with milliseconds, absent values are `null`).
// - Every failure throws a `SupportAccessError` whose `code` is the SPEC code; a failed call
//   leaves the policy and its record exactly as they were.

/** A time: a `Date`, an RFC 3339 string or epoch milliseconds (UTC, millisecond precision). */
export type Time = Date | string | number

/** What a grant lets support staff reach (Atlas `grantType`). */
export type GrantType =
  | 'CLUSTER_INFRASTRUCTURE'
  | 'CLUSTER_DATABASE_LOGS'
  | 'CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA'

/** What support staff ask to reach. */
export type Resource = 'INFRASTRUCTURE' | 'DATABASE_LOGS' | 'AUDIT_LOGS' | 'SYNC_DATA' | 'DATABASE_DATA'

/** A log resource, for downloads. */
export type LogResource = 'DATABASE_LOGS' | 'AUDIT_LOGS'

/** The kind of a cluster; only dedicated clusters take grants. */
export type ClusterKind = 'DEDICATED' | 'FLEX' | 'SERVERLESS'

/** Why a decision came out as it did (SPEC §4, one per rule). */
export type Reason =
  | 'CLUSTER_NOT_FOUND'
  | 'DATABASE_DATA_NEVER_ACCESSIBLE'
  | 'SYNC_DATA_REQUIRES_GRANT'
  | 'ORG_UNRESTRICTED'
  | 'GRANT_ACTIVE'
  | 'NOT_COVERED_BY_GRANT'
  | 'GRANT_EXPIRED'
  | 'GRANT_REVOKED'
  | 'NO_GRANT'

/** The stable error codes of SPEC §6. */
export type ErrorCode =
  | 'FORBIDDEN'
  | 'INVALID_ENUM_VALUE'
  | 'INVALID_TIMESTAMP'
  | 'INVALID_CLUSTER_NAME'
  | 'MALFORMED_INPUT'
  | 'UNKNOWN_OP'
  | 'PROJECT_NOT_FOUND'
  | 'CLUSTER_NOT_FOUND'
  | 'DUPLICATE_PROJECT'
  | 'DUPLICATE_CLUSTER'
  | 'UNSUPPORTED_CLUSTER_KIND'
  | 'SYNC_NOT_ENABLED'
  | 'EXPIRATION_NOT_IN_FUTURE'
  | 'EXPIRATION_TOO_FAR'
  | 'NO_ACTIVE_GRANT'
  | 'CLOCK_WENT_BACKWARDS'
  | 'ACCESS_DENIED'
  | 'DOWNLOAD_NOT_FOUND'
  | 'RECORD_TAMPERED'
  | 'RECORD_TRUNCATED'
  | 'CHECKPOINT_MISMATCH'
  | 'CHECKPOINTS_DISAGREE'
  | 'BAD_SIGNATURE'
  | 'UNTRUSTED_KEY'

/** A role an actor holds (SPEC §1). Project roles name their project. */
export type Role =
  | { role: 'ORG_OWNER' }
  | { role: 'PROJECT_OWNER' | 'PROJECT_SUPPORT_ACCESS_MANAGER' | 'PROJECT_READ_ONLY'; projectId: string }

/** The person or API key asking for a change; the host authenticates it. */
export interface Actor {
  id: string
  roles: Role[]
}

/** Options of a new policy (SPEC §7). */
export interface PolicyOptions {
  orgId: string
  /** Start with support access blocked. Default false. */
  restrictEmployeeAccess?: boolean
  /** Longest grant in ms; `null` lifts the bound. Default 24 h. */
  maxGrantDurationMs?: number | null
  /** When the policy is created: the time of its `POLICY_CREATED` event, before which no
   * change is accepted (CLOCK_WENT_BACKWARDS). Omitted or `null`, it is not `Date.now()`:
   * the event is stamped 1970-01-01T00:00:00.000Z. */
  now?: Time | null
}

/** The answer to one question (SPEC §4). The grant fields are set exactly when the cluster
 * holds an active grant at the time asked about, whatever the verdict. */
export interface Decision {
  allowed: boolean
  reason: Reason
  grantType: GrantType | null
  /** RFC 3339 UTC with milliseconds. */
  expirationTime: string | null
  remainingMs: number | null
}

/** One question for `evaluateMany`. */
export interface EvaluateRequest {
  cluster: string
  resource: Resource
  /** Default: `Date.now()` when the batch is evaluated. */
  now?: Time
}

/** A grant that a re-grant replaced. */
export interface ReplacedGrant {
  grantType: GrantType
  expirationTime: string
  grantedAt: string
}

/** A grant as the Admin API writes it (`mongoDBEmployeeAccessGrant`). */
export interface AtlasGrant {
  grantType: GrantType
  expirationTime: string
}

/** A cluster of an Atlas load, normalized. */
export interface LoadedCluster {
  cluster: string
  projectId: string
  kind: ClusterKind
  appServicesSyncEnabled: boolean
  grant: AtlasGrant | null
}

/** Fields every recorded event has. */
export interface EventBase {
  /** Position in the record, from 1. */
  seq: number
  /** RFC 3339 UTC with milliseconds. */
  at: string
  /** Who caused it; null for events no person caused (expiry, downloads, loads, creation). */
  actor: Actor | null
  /** The previous event's hash (64 zeros for the first). */
  prev: string
  /** Lowercase hex SHA-256 chaining this event to the one before. */
  hash: string
}

/** One recorded event (SPEC §5), as it appears in the exported record. */
export type Event = EventBase &
  (
    | { type: 'POLICY_CREATED'; orgId: string; restrictEmployeeAccess: boolean; maxGrantDurationMs: number | null }
    | { type: 'ORG_EMPLOYEE_ACCESS_RESTRICTED' }
    | { type: 'ORG_EMPLOYEE_ACCESS_UNRESTRICTED' }
    | { type: 'PROJECT_ADDED'; projectId: string }
    | { type: 'PROJECT_REMOVED'; projectId: string; clustersRemoved: string[] }
    | { type: 'CLUSTER_ADDED'; cluster: string; projectId: string; kind: ClusterKind; appServicesSyncEnabled: boolean }
    | { type: 'CLUSTER_REMOVED'; cluster: string; projectId: string }
    | {
        type: 'EMPLOYEE_ACCESS_GRANTED'
        cluster: string
        grantType: GrantType
        expirationTime: string
        replaced: ReplacedGrant | null
      }
    | { type: 'EMPLOYEE_ACCESS_REVOKED' | 'EMPLOYEE_ACCESS_EXPIRED'; cluster: string; grantType: GrantType; expirationTime: string }
    | { type: 'EMPLOYEE_DOWNLOADED_CLUSTER_LOGS'; cluster: string; resource: LogResource; downloadId: string }
    | { type: 'EMPLOYEE_LOG_DOWNLOAD_FINISHED'; cluster: string; downloadId: string }
    | { type: 'ATLAS_LOADED'; restrictEmployeeAccess: boolean | null; clusters: LoadedCluster[] }
  )

/** The type names of events. */
export type EventType = Event['type']

/** What `loadAtlas` did. */
export interface LoadSummary {
  /** Projects created for `groupId`s not seen before. */
  projects: number
  clusters: number
  /** Grants loaded (still in force). */
  grants: number
  /** Grants skipped because they had already expired. */
  expiredGrantsSkipped: number
}

/** Admin API org settings document (other fields are ignored). */
export interface AtlasOrgSettings {
  restrictEmployeeAccess?: boolean
  [field: string]: unknown
}

/** Admin API cluster description (other fields are ignored). */
export interface AtlasCluster {
  name: string
  groupId: string
  clusterType?: string
  appServicesSyncEnabled?: boolean
  mongoDBEmployeeAccessGrant?: { grantType: GrantType; expirationTime: Time; [field: string]: unknown }
  [field: string]: unknown
}

/** Admin API `listClusters` response page: its `results` are loaded; `totalCount` and `links`
 * are ignored, and any other field is MALFORMED_INPUT. */
export interface AtlasClustersPage {
  results: readonly AtlasCluster[]
  totalCount?: number
  links?: readonly unknown[]
}

/** Options of `addCluster`. */
export interface ClusterOptions {
  /** Default `DEDICATED`. */
  kind?: ClusterKind
  /** Default false. */
  appServicesSyncEnabled?: boolean
}

/** `describe`: the state at a time, as the UI shows it. */
export interface Description {
  orgId: string
  restrictEmployeeAccess: boolean
  maxGrantDurationMs: number | null
  projects: string[]
  clusters: Array<{
    name: string
    projectId: string
    kind: ClusterKind
    appServicesSyncEnabled: boolean
    mongoDBEmployeeAccessGrant: AtlasGrant | null
  }>
  downloadsInProgress: string[]
}

/** An Ed25519 public key that checkpoints are verified with. Text form: `sa-ed25519-pub:` and
 * 64 lower-case hex digits (`toText()`, `String(key)`, `JSON.stringify`). */
export declare class PublicKey {
  private constructor()
  /** Reads the text form (MALFORMED_INPUT otherwise; small-order keys are refused). */
  static parse(text: string): PublicKey
  /** The 16 hex digits that checkpoints signed with the matching signing key carry. */
  readonly keyId: string
  toText(): string
  toString(): string
  toJSON(): string
}

/** A signed statement (SPEC §9) that organization `orgId`'s record had `seq` events, the last
 * with hash `hash`, signed at `at` by the key `keyId` names. Its text form is seven lines, each
 * ending with `\n` (`toText()`, `String(checkpoint)`, `JSON.stringify`). */
export declare class Checkpoint {
  private constructor()
  /** Reads exactly the text form (MALFORMED_INPUT otherwise). The signature is not checked. */
  static parse(text: string): Checkpoint
  /** Reads a checkpoints file: checkpoints one after another (an empty text holds none). */
  static parseMany(text: string): Checkpoint[]
  readonly orgId: string
  readonly seq: number
  /** The hash of the event at `seq`. */
  readonly hash: string
  /** When it was signed: RFC 3339 UTC with milliseconds. */
  readonly at: string
  readonly keyId: string
  /** Whether the signature verifies with `key`: only the signature; `verifyCheckpoints` also
   * checks that the key is trusted and that the record holds the checkpoint. */
  verifySignature(key: PublicKey | string): boolean
  toText(): string
  toString(): string
  toJSON(): string
}

/** What verifying a record against checkpoints found (the `verifyCheckpoints` command's `ok`). */
export interface CheckpointsVerified {
  /** How many events the record holds. */
  events: number
  /** The hash of its last event. */
  lastHash: string
  /** The highest `seq` a checkpoint vouches for: events past it are covered by the chain only. */
  verifiedUpTo: number
  /** The ids of the keys whose checkpoints were checked, sorted, each once. */
  keyIds: string[]
}

/** Every error this package throws. */
export declare class SupportAccessError extends Error {
  constructor(code: ErrorCode, message: string, extra?: { seq?: number; reason?: Reason })
  readonly name: 'SupportAccessError'
  /** The SPEC error code. */
  readonly code: ErrorCode
  /** For RECORD_TAMPERED: the first bad event's `seq`; for the checkpoint codes (RECORD_TRUNCATED,
   * CHECKPOINT_MISMATCH, CHECKPOINTS_DISAGREE, BAD_SIGNATURE, UNTRUSTED_KEY): the refused checkpoint's. */
  readonly seq?: number
  /** For ACCESS_DENIED: why access was denied. */
  readonly reason?: Reason
}

/** One organization's support-access policy and its tamper-evident record. */
export declare class Policy {
  constructor(options: PolicyOptions)

  /** Rebuilds the exact policy that wrote a JSON Lines record (RECORD_TAMPERED otherwise). */
  static replay(record: string): Policy
  /** Checks a JSON Lines record: how many events it holds (RECORD_TAMPERED with `seq` otherwise). */
  static verifyRecord(record: string): number

  readonly orgId: string
  readonly restrictEmployeeAccess: boolean
  readonly maxGrantDurationMs: number | null

  /** SPEC §4 at `now`; an unknown cluster throws CLUSTER_NOT_FOUND. Never mutates. */
  evaluate(cluster: string, resource: Resource, now?: Time): Decision
  /** SPEC §4 in batch: decisions in request order; unknown clusters are denied CLUSTER_NOT_FOUND. */
  evaluateMany(requests: Iterable<EvaluateRequest>): Decision[]
  /** The decision the record implies for any (past) time. */
  evaluateAt(cluster: string, resource: Resource, at: Time): Decision
  /** Milliseconds left on the active grant, or null without one. */
  remaining(cluster: string, now?: Time): number | null

  setRestriction(actor: Actor, restrictEmployeeAccess: boolean, now?: Time): Event
  addProject(actor: Actor, projectId: string, now?: Time): Event
  removeProject(actor: Actor, projectId: string, now?: Time): Event
  addCluster(actor: Actor, projectId: string, name: string, options?: ClusterOptions, now?: Time): Event
  removeCluster(actor: Actor, name: string, now?: Time): Event
  /** Grants (or re-grants, replacing the active grant) until `expirationTime` (default now + 24 h). */
  grant(actor: Actor, cluster: string, grantType: GrantType, now?: Time, expirationTime?: Time | null): Event
  revoke(actor: Actor, cluster: string, now?: Time): Event
  /** Records EMPLOYEE_ACCESS_EXPIRED for every grant that ran out by `now`. */
  expireDue(now?: Time): Event[]

  /** Starts a log download if allowed now: its id (ACCESS_DENIED with `reason` otherwise). */
  beginLogDownload(cluster: string, resource: LogResource, now?: Time): string
  /** A download in progress stays allowed until finished. */
  continueLogDownload(downloadId: string, now?: Time): Decision
  finishLogDownload(downloadId: string, now?: Time): Event

  /** The record as JSON Lines. */
  exportRecord(): string
  /** The record's events, parsed. */
  events(): Event[]
  /** Same as `Policy.verifyRecord` (checks any record, not only this policy's). */
  verifyRecord(record: string): number
  /** Checks this policy's record against checkpoints (objects or texts) signed by trusted keys
   * (objects or texts): UNTRUSTED_KEY, BAD_SIGNATURE, CHECKPOINT_MISMATCH, RECORD_TRUNCATED or
   * CHECKPOINTS_DISAGREE, with the refused checkpoint's `seq`; no checkpoint is MALFORMED_INPUT. */
  verifyCheckpoints(checkpoints: Iterable<Checkpoint | string>, trustedKeys: Iterable<PublicKey | string>): CheckpointsVerified
  /** Loads Admin API JSON: an org settings document and cluster descriptions, as a list or as
   * a `listClusters` page. With `now`, a mutation like any other (clock checked, due expiries
   * recorded first, stamped `now`, grants expired by `now` skipped); without, stamped with the
   * record's current time. */
  loadAtlas(orgSettings: AtlasOrgSettings, clusters: readonly AtlasCluster[] | AtlasClustersPage, now?: Time): LoadSummary
  /** The state at `now` (org, projects, clusters with their active grant, downloads). */
  describe(now?: Time): Description

  /** The SPEC §7 JSON command interface; the result text is byte-identical in every binding.
   * Never throws for a bad command: errors come back as `{"error": {...}}`. */
  apply(command: string | object): string

  /** Frees the native policy now (otherwise the garbage collector does); later calls throw. */
  free(): void
}

/** Checks a JSON Lines record: how many events it holds (RECORD_TAMPERED with `seq` otherwise). */
export declare function verifyRecord(record: string): number

/** Verifies a JSON Lines record (RECORD_TAMPERED), then checks it against checkpoints signed by
 * trusted keys, as `Policy#verifyCheckpoints` does. */
export declare function verifyCheckpoints(
  record: string,
  checkpoints: Iterable<Checkpoint | string>,
  trustedKeys: Iterable<PublicKey | string>,
): CheckpointsVerified

export declare const ERROR_CODES: readonly ErrorCode[]
export declare const REASONS: readonly Reason[]
export declare const GRANT_TYPES: readonly GrantType[]
export declare const RESOURCES: readonly Resource[]
export declare const CLUSTER_KINDS: readonly ClusterKind[]
/** The version of the Rust core inside. */
export declare const coreVersion: string
/** The version of the Rust core inside (same as `coreVersion`). */
export declare const VERSION: string
