/**
 * The schema, as an ordered list of migrations. Append only: never edit an applied migration (its
 * checksum is verified on every `migrate`); add a new one instead. Kept as TypeScript (not .sql files)
 * so that bundlers carry it into a Lambda without extra copy steps.
 *
 * Operator-blind by construction: no column holds sensitive plaintext. A record's sensitive fields
 * exist only as `records.ciphertext` (an Encryption SDK message); the rest is metadata.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Actions recorded in the audit trail; the CHECK constraint below lists the same words. */
export const auditActions = ["create", "read", "update", "delete", "list", "denied"] as const;
export type AuditAction = (typeof auditActions)[number];

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: "records, audit trail, idempotency keys",
    sql: `
CREATE TABLE records (
  id          uuid PRIMARY KEY,
  owner_id    text NOT NULL CHECK (length(owner_id) BETWEEN 1 AND 128),
  category    text NOT NULL CHECK (length(category) BETWEEN 1 AND 32),
  ciphertext  bytea NOT NULL,
  -- millisecond precision, so that a JavaScript Date round-trips exactly (list cursors rely on it)
  created_at  timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
  updated_at  timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
  version     integer NOT NULL DEFAULT 1 CHECK (version >= 1)
);
CREATE INDEX records_owner_created_idx ON records (owner_id, created_at DESC, id DESC);

CREATE TABLE audit_events (
  id          bigserial PRIMARY KEY,
  owner_id    text NOT NULL,
  actor       text NOT NULL,
  action      text NOT NULL CHECK (action IN ('create', 'read', 'update', 'delete', 'list', 'denied')),
  record_id   uuid NULL, -- no foreign key: the trail outlives the record it describes
  request_id  text NULL,
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_record_idx ON audit_events (record_id, id) WHERE record_id IS NOT NULL;
CREATE INDEX audit_events_owner_idx ON audit_events (owner_id, at);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

CREATE TABLE idempotency_keys (
  owner_id      text NOT NULL,
  key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  request_hash  text NOT NULL,
  record_id     uuid NULL,
  status        integer NULL, -- NULL until the first request completes
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
`,
  },
];
