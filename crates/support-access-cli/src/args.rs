//! The command line, as clap derive types. Values that the core knows how to read (grant types,
//! resources, roles, times) are taken as plain strings here and parsed in `parse.rs`, so a bad
//! value gets the SPEC's error code in `--json` mode as well as a clear message.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub const EXIT_CODES: &str = "\
Exit codes:
  0  success (for `check`: access allowed)
  1  `check` only: access denied
  2  usage: unknown flag; bad duration, time or value; no actor;
     `init` over an existing record
  3  the policy refused the operation (a SPEC error code such as
     CLUSTER_NOT_FOUND, FORBIDDEN, MALFORMED_INPUT)
  4  the record is tampered, truncated or unreadable, or the store is
     unavailable or refused the login: the bad seq is named and the
     record is left untouched";

const TOP_AFTER: &str = "\
State is the tamper-evident record itself, in a store: a JSON Lines file (default
./support-access.jsonl) or a PostgreSQL database shared by many writers (--store postgres://…).
Every command reads and replays it, refuses it if any event was changed or cut short, and appends
only the new events, compare-and-set on the head: if another writer got there first, the command
runs again on the caught-up state.

Examples:
  support-access demo                                   # a scripted day on a temporary record
  support-access init --org acme --restrict
  export SUPPORT_ACCESS_ACTOR=alice SUPPORT_ACCESS_ROLES=ORG_OWNER
  support-access project add prod
  support-access cluster add Cluster0 --project prod
  support-access grant Cluster0 --type logs --for 6h
  support-access status
  support-access check Cluster0 DATABASE_LOGS
  support-access check Cluster0 AUDIT_LOGS --at 2026-11-28T03:12:00Z
  support-access revoke Cluster0
  support-access log
  support-access verify";

/// Decide and record who may reach a database cluster's backend: time-limited support access
/// grants, modeled on MongoDB Atlas, kept in a tamper-evident record (a local file, or
/// PostgreSQL shared by many writers).
#[derive(Debug, Parser)]
#[command(name = "support-access", version, after_help = format!("{TOP_AFTER}\n\n{EXIT_CODES}"))]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Where the record lives: a JSON Lines file (one organization), or a PostgreSQL URL
    /// (postgres://USER@HOST:PORT/DB; many organizations, shared by many writers). Default:
    /// $SUPPORT_ACCESS_STORE, then $SUPPORT_ACCESS_RECORD, then ./support-access.jsonl. A
    /// lost database connection is retried for 20 s ($SUPPORT_ACCESS_STORE_RETRY seconds).
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "URL|PATH"
    )]
    pub store: Option<String>,

    /// The record file (JSON Lines): the same as --store PATH.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "PATH"
    )]
    pub record: Option<PathBuf>,

    /// The organization (`init` creates it). Needed when a PostgreSQL store holds more than
    /// one; a file holds one.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "SUPPORT_ACCESS_ORG",
        value_name = "ID"
    )]
    pub org: Option<String>,

    /// The time of the operation: RFC 3339 (2026-11-28T09:00:00Z) or epoch milliseconds.
    /// Default: the system clock.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "TIME"
    )]
    pub now: Option<String>,

    /// Who is acting (needed by commands that change the policy).
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "SUPPORT_ACCESS_ACTOR",
        value_name = "ID"
    )]
    pub actor: Option<String>,

    /// A role of the actor: ORG_OWNER, or PROJECT_OWNER:P, PROJECT_SUPPORT_ACCESS_MANAGER:P,
    /// PROJECT_READ_ONLY:P for project P. Repeatable; the environment variable takes a
    /// comma-separated list.
    #[arg(
        long = "role",
        global = true,
        help_heading = "Global options",
        env = "SUPPORT_ACCESS_ROLES",
        value_name = "ROLE[:PROJECT]",
        value_delimiter = ','
    )]
    pub roles: Vec<String>,

    /// Print the SPEC's JSON (results, events, errors) instead of text.
    #[arg(long, global = true, help_heading = "Global options")]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new record for an organization.
    #[command(after_help = "The organization is the global --org (required here).

Examples:
  support-access init --org acme
  support-access init --org acme --restrict --max-grant 12h
  support-access --record /var/lib/sa/acme.jsonl init --org acme --max-grant none
  support-access --store postgres://sa@127.0.0.1:5432/sa --org acme init --restrict")]
    Init {
        /// Start with support access restricted (Atlas restrictEmployeeAccess).
        #[arg(long)]
        restrict: bool,
        /// The longest grant allowed (e.g. 24h, 90m, 2d) or `none` for no bound. Default 24h.
        #[arg(long, value_name = "DURATION|none")]
        max_grant: Option<String>,
    },

    /// Restrict support access to granted clusters (on) or open it to all (off). ORG_OWNER only.
    #[command(
        after_help = "Examples:\n  support-access --actor alice --role ORG_OWNER restrict on\n  support-access restrict off"
    )]
    Restrict {
        /// `on` or `off`.
        #[arg(value_name = "on|off", value_parser = ["on", "off"])]
        state: String,
    },

    /// Add or remove a project (removing one removes its clusters).
    #[command(subcommand)]
    Project(ProjectCmd),

    /// Add, remove or list clusters.
    #[command(subcommand)]
    Cluster(ClusterCmd),

    /// Grant support access to a cluster (replaces an active grant: this is how access is extended).
    #[command(
        after_help = "Grant types: CLUSTER_INFRASTRUCTURE (alias infra), CLUSTER_DATABASE_LOGS (alias logs),
CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA (alias sync); case-insensitive.

Examples:
  support-access grant Cluster0 --type logs                # 24 hours
  support-access grant Cluster0 --type infra --for 6h
  support-access grant Cluster0 --type CLUSTER_DATABASE_LOGS --until 2026-11-29T08:00:00Z"
    )]
    Grant {
        /// The cluster.
        cluster: String,
        /// The grant type.
        #[arg(long = "type", value_name = "TYPE")]
        grant_type: String,
        /// How long (e.g. 6h, 90m, 1h30m, 1d). Default 24h.
        #[arg(long = "for", value_name = "DURATION", conflicts_with = "until")]
        duration: Option<String>,
        /// Until when: RFC 3339, epoch milliseconds, or +DURATION from now.
        #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
        until: Option<String>,
    },

    /// End the active grant on a cluster now.
    #[command(after_help = "Example:\n  support-access revoke Cluster0")]
    Revoke {
        /// The cluster.
        cluster: String,
    },

    /// The organization setting and every cluster with its grant and countdown.
    #[command(
        after_help = "Example:\n  support-access status\n  support-access status --json | jq '.ok.clusters'"
    )]
    Status,

    /// May support reach RESOURCE on CLUSTER? Exit 0 if allowed, 1 if denied.
    #[command(
        after_help = "Resources: INFRASTRUCTURE (alias infra), DATABASE_LOGS (alias logs), AUDIT_LOGS (alias audit),
SYNC_DATA (alias sync), DATABASE_DATA (alias data); case-insensitive.

With --at, the answer comes from the record alone, for that moment (an audit of the past).

Examples:
  support-access check Cluster0 DATABASE_LOGS
  support-access check Cluster0 audit --at 2026-11-28T03:12:00Z
  support-access check Cluster0 logs --at -2h                  # two hours ago"
    )]
    Check {
        /// The cluster.
        cluster: String,
        /// What support wants to reach.
        resource: String,
        /// Ask about another time: RFC 3339, epoch milliseconds, or -DURATION/+DURATION from now.
        #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
        at: Option<String>,
    },

    /// Show the record, event by event.
    #[command(
        after_help = "Examples:\n  support-access log\n  support-access log --cluster Cluster0\n  support-access log --json        # the record's JSON Lines, exactly as stored"
    )]
    Log {
        /// Only events about this cluster.
        #[arg(long, value_name = "NAME")]
        cluster: Option<String>,
    },

    /// Check the whole record (content, order, hash chain); exit 4 naming the first bad seq.
    /// With --checkpoints, also check it against signed checkpoints: a record cut short or
    /// rewritten since they were signed exits 4 too.
    #[command(after_help = "Examples:
  support-access verify && echo intact
  support-access verify --checkpoints support-access.jsonl.checkpoints --trust sa-ed25519-pub:…
  support-access verify --checkpoints acme.checkpoints --trust auditor.pub --trust backup.pub")]
    Verify(VerifyArgs),

    /// Signing keys for checkpoints: create one, or print a key's public key.
    #[command(subcommand)]
    Key(KeyCmd),

    /// Sign a checkpoint of the record's head ("N events, head hash H") and append it to a
    /// checkpoints file; `verify --checkpoints` then catches a record cut short or rewritten.
    #[command(
        after_help = "Keep the key away from whoever can write the store: a checkpoint proves
nothing against someone who holds its key. Store the checkpoints file elsewhere too (or publish it).

Examples:
  support-access key new --out ~/.config/support-access/signing.key
  support-access checkpoint --key ~/.config/support-access/signing.key
  support-access --store postgres://sa@127.0.0.1/sa --org acme checkpoint --key k --out acme.checkpoints"
    )]
    Checkpoint {
        /// The signing key file (from `key new`).
        #[arg(long, value_name = "KEYFILE")]
        key: PathBuf,
        /// The checkpoints file to append to. Default: the record file's path plus
        /// `.checkpoints`; required for a PostgreSQL store.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },

    /// Load Admin API JSON: org settings and cluster descriptions (name, groupId, mongoDBEmployeeAccessGrant).
    #[command(
        name = "import-atlas",
        after_help = "The clusters file is a JSON array of cluster descriptions or an Admin API page ({\"results\": [...]}).

Example:
  support-access import-atlas --org-settings settings.json --clusters clusters.json"
    )]
    ImportAtlas {
        /// The org settings document ({"restrictEmployeeAccess": true, ...}).
        #[arg(long, value_name = "FILE")]
        org_settings: PathBuf,
        /// The cluster descriptions.
        #[arg(long, value_name = "FILE")]
        clusters: PathBuf,
    },

    /// Record EMPLOYEE_ACCESS_EXPIRED for every grant that has run out.
    #[command(
        after_help = "Expiry needs no sweep to be enforced; this only writes it into the record.\n\nExample:\n  support-access expire"
    )]
    Expire,

    /// Log downloads: one that began while allowed may finish after a revoke or expiry.
    #[command(subcommand)]
    Download(DownloadCmd),

    /// Run SPEC JSON commands (the interface every binding exposes) against the record.
    #[command(
        after_help = "With COMMAND, runs that one command and prints its result (exit 0 for {\"ok\": ...}, 3 for an
error result). Without it, reads one command per line from standard input and prints one result
per line, flushed, until end of input: a long-running writer. It replays the record once; for each
command it takes the file lock (shared for evaluate, evaluateMany, evaluateAt, remaining,
continueLogDownload, exportRecord, verifyRecord, describe; exclusive otherwise), reads and
verifies only what other processes appended since, applies the command, appends its events and
releases the lock, so other writers interleave with it. Commands carry their own `now` and
`actor`; --now and --actor do not apply. `replay` is refused: the record file is append-only.

Examples:
  support-access apply '{\"op\":\"evaluate\",\"cluster\":\"Cluster0\",\"resource\":\"DATABASE_LOGS\",\"now\":\"2026-11-28T10:00:00Z\"}'
  my-service | support-access --record acme.jsonl apply > results.jsonl"
    )]
    Apply {
        /// One JSON command; without it, commands are read from standard input, one per line.
        command: Option<String>,
    },

    /// Print new events as other writers record them (verified, like `log`), until stopped.
    #[command(
        after_help = "On PostgreSQL it listens for notifications (and polls every second as a fallback); on a file it
watches the file's length. A stored event that does not verify stops it with exit 4.

Examples:
  support-access follow                       # events from now on
  support-access follow --from 0 --json       # the whole record, then new events, as JSON Lines
  support-access follow --until-seq 120       # stop once event #120 is seen"
    )]
    Follow {
        /// Print events after this seq first (default: the current head, so only new ones).
        #[arg(long, value_name = "SEQ")]
        from: Option<u64>,
        /// Exit once the record reaches this seq.
        #[arg(long, value_name = "SEQ")]
        until_seq: Option<u64>,
        /// Exit after this long without reaching --until-seq (e.g. 30s, 5m); exit 1 then.
        #[arg(long, value_name = "DURATION")]
        timeout: Option<String>,
    },

    /// Serve the Atlas Admin API's support-access operations and the JSON commands over HTTP.
    #[command(
        after_help = "Several replicas on one PostgreSQL store serve the same organizations; any replica may take any
request. Bearer tokens come from --tokens (SHA-256 hex only; reloaded on SIGHUP); SIGTERM stops
gracefully (requests in flight finish). With --key, each replica signs a checkpoint of every
organization's head after appends (at most once a second), served at /v1/orgs/ORG/checkpoint.

Examples:
  support-access serve --tokens tokens.json                                  # on ./support-access.jsonl
  support-access --store postgres://sa@db:5432/sa serve --listen 127.0.0.1:8787 --tokens tokens.json
  curl -X POST -H 'Authorization: Bearer $TOKEN' -H 'Content-Type: application/vnd.atlas.2024-08-05+json' \\
    -d '{\"grantType\":\"CLUSTER_DATABASE_LOGS\",\"expirationTime\":\"2026-12-02T08:00:00Z\"}' \\
    http://127.0.0.1:8787/api/atlas/v2/groups/prod/clusters/Cluster0:grantMongoDBEmployeeAccess"
    )]
    Serve {
        /// Address to listen on.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8787")]
        listen: std::net::SocketAddr,
        /// The tokens file: {"tokens": [{"sha256": HEX, "id": ACTOR, "orgs": {ORG: [ROLE…]}}]}.
        #[arg(long, value_name = "FILE")]
        tokens: PathBuf,
        /// Sign checkpoints with this key file (made by `support-access key new`).
        #[arg(long, value_name = "KEYFILE")]
        key: Option<PathBuf>,
        /// Let browser pages of this origin call the service (CORS), e.g. http://127.0.0.1:8080;
        /// repeat for several.
        #[arg(long, value_name = "ORIGIN")]
        allow_origin: Vec<String>,
    },

    /// The record store: copy a file record into PostgreSQL, print the schema.
    #[command(subcommand)]
    Store(StoreCmd),

    /// Play a scripted day on a temporary record (no setup needed).
    #[command(after_help = "Example:\n  cargo run --release -p support-access-cli -- demo")]
    Demo,

    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  support-access completions bash > /etc/bash_completion.d/support-access\n  support-access completions zsh > ~/.zfunc/_support-access"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// `verify`'s options: without them it checks the chain alone.
#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// A checkpoints file (from `checkpoint`) to check the record against.
    #[arg(long, value_name = "FILE", requires = "trust")]
    pub checkpoints: Option<PathBuf>,
    /// A public key to trust checkpoints from: its text (sa-ed25519-pub:…, as `key new` prints
    /// it) or a file holding one per line. Repeatable.
    #[arg(long, value_name = "PUBKEY|FILE", requires = "checkpoints")]
    pub trust: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum KeyCmd {
    /// Create a signing key (32 random bytes from the OS) and print its public key.
    #[command(
        after_help = "The key file is created readable by its owner only, and never overwritten.

Example:
  support-access key new --out signing.key > signing.pub"
    )]
    New {
        /// Where to write the key (must not exist yet).
        #[arg(long, value_name = "KEYFILE")]
        out: PathBuf,
    },
    /// Print the public key of a signing key file.
    #[command(after_help = "Example:\n  support-access key public --key signing.key")]
    Public {
        /// The signing key file.
        #[arg(long, value_name = "KEYFILE")]
        key: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum StoreCmd {
    /// Copy the record at --store/--record (a file) into another store, and verify it there.
    #[command(
        after_help = "The whole record is stored in one transaction, then read back and replayed: it is all there,
verified, or not there at all. The target must not hold the organization yet.

Example:
  support-access --record acme.jsonl store migrate --to postgres://sa@127.0.0.1:5432/sa"
    )]
    Migrate {
        /// The store to copy into (a postgres:// URL, or another file path).
        #[arg(long, value_name = "URL|PATH")]
        to: String,
    },
    /// Print the PostgreSQL schema (created on first use) and the GRANTs for an application
    /// role that may only read and append.
    #[command(after_help = "Example:\n  support-access store schema | psql \"$DATABASE_URL\"")]
    Schema,
    /// List the organizations a store holds.
    #[command(
        after_help = "Example:\n  support-access --store postgres://sa@127.0.0.1/sa store orgs"
    )]
    Orgs,
}

#[derive(Debug, Subcommand)]
pub enum ProjectCmd {
    /// Add a project.
    #[command(after_help = "Example:\n  support-access project add prod")]
    Add {
        /// The project id (Atlas groupId).
        id: String,
    },
    /// Remove a project and its clusters.
    #[command(after_help = "Example:\n  support-access project remove prod")]
    Remove {
        /// The project id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClusterCmd {
    /// Add a cluster to a project.
    #[command(
        after_help = "Kinds: DEDICATED (default), FLEX, SERVERLESS; only dedicated clusters take grants.

Examples:
  support-access cluster add Cluster0 --project prod
  support-access cluster add Sync0 --project prod --sync
  support-access cluster add Tiny --project prod --kind flex"
    )]
    Add {
        /// The cluster name (1-64 letters, digits, hyphens; unique in the organization).
        name: String,
        /// Its project.
        #[arg(long, value_name = "ID")]
        project: String,
        /// DEDICATED, FLEX or SERVERLESS.
        #[arg(long, value_name = "KIND")]
        kind: Option<String>,
        /// App Services sync is enabled on it.
        #[arg(long)]
        sync: bool,
    },
    /// Remove a cluster (and its grant).
    #[command(after_help = "Example:\n  support-access cluster remove Cluster0")]
    Remove {
        /// The cluster name.
        name: String,
    },
    /// List the clusters.
    #[command(after_help = "Example:\n  support-access cluster list")]
    List,
}

#[derive(Debug, Subcommand)]
pub enum DownloadCmd {
    /// Begin a log download (allowed only if support may read that log now).
    #[command(after_help = "Example:\n  support-access download begin Cluster0 DATABASE_LOGS")]
    Begin {
        /// The cluster.
        cluster: String,
        /// DATABASE_LOGS (logs) or AUDIT_LOGS (audit).
        resource: String,
    },
    /// Is a download in progress still allowed to continue?
    #[command(after_help = "Example:\n  support-access download continue dl-7")]
    Continue {
        /// The download id (from `download begin`).
        id: String,
    },
    /// Finish a download in progress.
    #[command(after_help = "Example:\n  support-access download finish dl-7")]
    Finish {
        /// The download id.
        id: String,
    },
}

impl Command {
    /// Whether the command changes the record (and so needs the exclusive lock).
    pub fn writes(&self) -> bool {
        match self {
            Command::Restrict { .. }
            | Command::Project(_)
            | Command::Grant { .. }
            | Command::Revoke { .. }
            | Command::ImportAtlas { .. }
            | Command::Expire => true,
            Command::Cluster(c) => !matches!(c, ClusterCmd::List),
            Command::Download(d) => !matches!(d, DownloadCmd::Continue { .. }),
            Command::Init { .. }
            | Command::Status
            | Command::Check { .. }
            | Command::Log { .. }
            | Command::Verify(_)
            | Command::Key(_)
            | Command::Checkpoint { .. }
            | Command::Demo
            | Command::Apply { .. }
            | Command::Follow { .. }
            | Command::Serve { .. }
            | Command::Store(_)
            | Command::Completions { .. } => false,
        }
    }
}
