// Types of support-access-wasm (js/index.js): the same TypeScript surface as the Node package.

/** A time: a `Date`, an RFC 3339 UTC string, or epoch milliseconds. Omitted `now` = `Date.now()`. */
export type Time = Date | string | number;

export type GrantType =
  | 'CLUSTER_INFRASTRUCTURE'
  | 'CLUSTER_DATABASE_LOGS'
  | 'CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA';

export type Resource = 'INFRASTRUCTURE' | 'DATABASE_LOGS' | 'AUDIT_LOGS' | 'SYNC_DATA' | 'DATABASE_DATA';

export type LogResource = 'DATABASE_LOGS' | 'AUDIT_LOGS';

export type ClusterKind = 'DEDICATED' | 'FLEX' | 'SERVERLESS';

export type Reason =
  | 'CLUSTER_NOT_FOUND'
  | 'DATABASE_DATA_NEVER_ACCESSIBLE'
  | 'SYNC_DATA_REQUIRES_GRANT'
  | 'ORG_UNRESTRICTED'
  | 'GRANT_ACTIVE'
  | 'NOT_COVERED_BY_GRANT'
  | 'GRANT_EXPIRED'
  | 'GRANT_REVOKED'
  | 'NO_GRANT';

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
  | 'RECORD_TAMPERED';

export type EventType =
  | 'POLICY_CREATED'
  | 'ORG_EMPLOYEE_ACCESS_RESTRICTED'
  | 'ORG_EMPLOYEE_ACCESS_UNRESTRICTED'
  | 'PROJECT_ADDED'
  | 'PROJECT_REMOVED'
  | 'CLUSTER_ADDED'
  | 'CLUSTER_REMOVED'
  | 'EMPLOYEE_ACCESS_GRANTED'
  | 'EMPLOYEE_ACCESS_REVOKED'
  | 'EMPLOYEE_ACCESS_EXPIRED'
  | 'EMPLOYEE_DOWNLOADED_CLUSTER_LOGS'
  | 'EMPLOYEE_LOG_DOWNLOAD_FINISHED'
  | 'ATLAS_LOADED';

export type Role =
  | { role: 'ORG_OWNER' }
  | { role: 'PROJECT_OWNER' | 'PROJECT_SUPPORT_ACCESS_MANAGER' | 'PROJECT_READ_ONLY'; projectId: string };

/** The person or API key asking for a change (the host authenticates it). */
export interface Actor {
  id: string;
  roles: Role[];
}

export interface PolicyOptions {
  orgId: string;
  /** Start with support access blocked (default false). */
  restrictEmployeeAccess?: boolean;
  /** Longest grant, in ms (default 24 h); `null` lifts the bound. */
  maxGrantDurationMs?: number | null;
}

/** The answer to "may support reach this now, and why?" (SPEC §4). */
export interface Decision {
  allowed: boolean;
  reason: Reason;
  /** Set exactly when the cluster holds an active grant at the time asked about. */
  grantType: GrantType | null;
  /** RFC 3339 UTC with milliseconds. */
  expirationTime: string | null;
  remainingMs: number | null;
}

/** One event of the hash-chained record (SPEC §5); the other fields depend on `type`. */
export interface Event {
  seq: number;
  /** RFC 3339 UTC with milliseconds. */
  at: string;
  actor: Actor | null;
  type: EventType;
  prev: string;
  hash: string;
  [field: string]: unknown;
}

export interface EvaluateRequest {
  cluster: string;
  resource: Resource;
  now?: Time;
}

export interface ClusterOptions {
  kind?: ClusterKind;
  appServicesSyncEnabled?: boolean;
}

/** What `loadAtlas` did. */
export interface LoadSummary {
  projects: number;
  clusters: number;
  grants: number;
  expiredGrantsSkipped: number;
}

/** Admin API grant form (`mongoDBEmployeeAccessGrant`). */
export interface AtlasGrant {
  grantType: GrantType;
  expirationTime: string;
}

/** An Admin API cluster description, as `loadAtlas` reads it. */
export interface AtlasCluster {
  name: string;
  groupId: string;
  mongoDBEmployeeAccessGrant?: AtlasGrant | null;
  [field: string]: unknown;
}

/** `describe` (extra, for UIs): the state at a time. */
export interface Description {
  orgId: string;
  restrictEmployeeAccess: boolean;
  maxGrantDurationMs: number | null;
  projects: string[];
  clusters: {
    name: string;
    projectId: string;
    kind: ClusterKind;
    appServicesSyncEnabled: boolean;
    mongoDBEmployeeAccessGrant: AtlasGrant | null;
  }[];
  downloadsInProgress: string[];
}

/** Every failed operation throws this; `code` is the SPEC error code. */
export class SupportAccessError extends Error {
  readonly name: 'SupportAccessError';
  readonly code: ErrorCode;
  /** RECORD_TAMPERED: the first event that is wrong. */
  readonly seq?: number;
  /** ACCESS_DENIED: why evaluation denied it. */
  readonly reason?: Reason;
}

/** The version of the Rust core inside the module. */
export const VERSION: string;
/** Every SPEC error code, in SPEC order. */
export const ERROR_CODES: readonly ErrorCode[];

/** One organization's support-access policy and its hash-chained record. */
export class Policy {
  constructor(options: PolicyOptions);

  /** Rebuilds a policy from its record (JSON Lines); throws RECORD_TAMPERED with `seq`. */
  static replay(record: string): Policy;
  /** Checks a record: the number of events, or throws RECORD_TAMPERED with `seq`. */
  static verifyRecord(record: string): number;

  /** The SPEC §7 JSON command interface: result JSON text, identical bytes in every binding. Never throws. */
  apply(commandJson: string): string;

  setRestriction(actor: Actor, restrictEmployeeAccess: boolean, now?: Time): Event;
  addProject(actor: Actor, projectId: string, now?: Time): Event;
  removeProject(actor: Actor, projectId: string, now?: Time): Event;
  addCluster(actor: Actor, projectId: string, name: string, options?: ClusterOptions, now?: Time): Event;
  removeCluster(actor: Actor, name: string, now?: Time): Event;
  /** Grants (or re-grants, replacing the active grant) until `expirationTime` (default now + 24 h). */
  grant(actor: Actor, cluster: string, grantType: GrantType, now?: Time, expirationTime?: Time): Event;
  revoke(actor: Actor, cluster: string, now?: Time): Event;
  /** Records EMPLOYEE_ACCESS_EXPIRED for every grant that ran out by `now`. */
  expireDue(now?: Time): Event[];

  evaluate(cluster: string, resource: Resource, now?: Time): Decision;
  /** Unknown clusters are denied CLUSTER_NOT_FOUND here, not thrown. */
  evaluateMany(requests: Iterable<EvaluateRequest>): Decision[];
  /** The decision the record implies for any (past) time. */
  evaluateAt(cluster: string, resource: Resource, at: Time): Decision;
  /** Time left on the active grant, in ms, or null. */
  remaining(cluster: string, now?: Time): number | null;

  /** The download id, or throws ACCESS_DENIED with `reason`. */
  beginLogDownload(cluster: string, resource: LogResource, now?: Time): string;
  continueLogDownload(downloadId: string, now?: Time): Decision;
  finishLogDownload(downloadId: string, now?: Time): Event;

  /** The record as JSON Lines. */
  exportRecord(): string;
  /** Checks a record: the number of events, or throws RECORD_TAMPERED with `seq`. */
  verifyRecord(record: string): number;
  loadAtlas(orgSettings: { restrictEmployeeAccess?: boolean; [field: string]: unknown }, clusters: AtlasCluster[]): LoadSummary;
  /** Extra (not in SPEC §7): the state at `now`, for status tables. */
  describe(now?: Time): Description;

  /** Frees the WebAssembly memory now (otherwise the garbage collector does it). */
  free(): void;
}

export default Policy;
