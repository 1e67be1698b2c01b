-- support-access record store (PostgreSQL 12 or later). Created on first use; idempotent.
-- One row per event: the canonical line exactly as the core wrote it (text, never jsonb:
-- jsonb reorders keys, and the hashes are over the bytes). seq runs 1, 2, 3… per org.
CREATE TABLE IF NOT EXISTS support_access_event (
    org_id text   NOT NULL,
    seq    bigint NOT NULL CHECK (seq >= 1),
    line   text   NOT NULL,
    PRIMARY KEY (org_id, seq)
);
