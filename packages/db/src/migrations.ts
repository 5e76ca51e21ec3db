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

/** Actions recorded in the audit trail; the CHECK constraints below list the same words. */
export const auditActions = [
  "create",
  "read",
  "update",
  "delete",
  "list",
  "denied",
  "image.upload",
  "image.download",
  "export",
] as const;
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
  {
    version: 2,
    name: "images of records; image upload and download audit actions",
    sql: `
-- One row per image: created 'pending' when the upload URL is handed out, then 'ready' (the object is
-- in the images bucket, version object_version) or 'rejected' (reason; no object). Never a file name.
CREATE TABLE images (
  id                 uuid PRIMARY KEY,
  owner_id           text NOT NULL CHECK (length(owner_id) BETWEEN 1 AND 128),
  record_id          uuid NOT NULL REFERENCES records (id) ON DELETE CASCADE,
  content_type       text NOT NULL
                     CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp', 'application/pdf')),
  declared_size      bigint NOT NULL CHECK (declared_size >= 0),
  size               bigint NULL CHECK (size >= 0), -- bytes stored (after metadata stripping)
  status             text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ready', 'rejected')),
  reason             text NULL CHECK (reason ~ '^[A-Za-z]{1,32}$'),
  object_version     text NULL,
  upload_expires_at  timestamptz NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
  updated_at         timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
  CHECK ((status = 'rejected') = (reason IS NOT NULL)),
  CHECK ((status = 'ready') = (size IS NOT NULL))
);
CREATE INDEX images_record_idx ON images (record_id, owner_id, created_at);

ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check CHECK (action IN
  ('create', 'read', 'update', 'delete', 'list', 'denied', 'image.upload', 'image.download'));
`,
  },
  {
    version: 3,
    name: "stored image objects of erased records, queued for deletion",
    sql: `
-- The stored object of every 'ready' image whose row is deleted (in practice: its record was erased,
-- ON DELETE CASCADE) waits here until the image cleanup function has deleted it from the images bucket.
-- Filled by a trigger in the erasing transaction, so no erasure can forget an object; emptied once S3
-- confirmed the delete. Ids only, kept minutes: the audit trail keeps owner and record ids anyway.
CREATE TABLE image_object_deletions (
  image_id   uuid PRIMARY KEY,
  owner_id   text NOT NULL CHECK (length(owner_id) BETWEEN 1 AND 128),
  record_id  uuid NOT NULL, -- no foreign key: the record is gone
  queued_at  timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
  attempts   integer NOT NULL DEFAULT 0 CHECK (attempts >= 0)
);
CREATE INDEX image_object_deletions_queued_idx ON image_object_deletions (queued_at, image_id);

-- SECURITY DEFINER: the app role may not INSERT into the queue itself (it could queue another owner's
-- objects); only this trigger does, with the schema owner's rights and a fixed search_path.
CREATE FUNCTION images_queue_object_deletion() RETURNS trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
  INSERT INTO public.image_object_deletions (image_id, owner_id, record_id)
    VALUES (OLD.id, OLD.owner_id, OLD.record_id) ON CONFLICT (image_id) DO NOTHING;
  RETURN OLD;
END
$$;
-- Only 'ready' images have an object: a pending one's upload is dropped by the ingest when it finds the
-- row gone (which also removes an object it wrote meanwhile); a rejected one never had an object.
CREATE TRIGGER images_deleted_queue_object AFTER DELETE ON images
  FOR EACH ROW WHEN (OLD.status = 'ready') EXECUTE FUNCTION images_queue_object_deletion();
`,
  },
  {
    version: 4,
    name: "proof-of-possession: session key bindings and seen proof ids",
    sql: `
-- Which proof key (its RFC 7638 thumbprint) a sign-in session is bound to: the access token's
-- origin_jti binds on its first request, and every later proof of that session must be made with the
-- same key. Token ids and thumbprints only: nothing here reads or opens anything.
CREATE TABLE proof_sessions (
  origin_jti  text PRIMARY KEY CHECK (length(origin_jti) BETWEEN 1 AND 256),
  owner_id    text NOT NULL CHECK (length(owner_id) BETWEEN 1 AND 128),
  jkt         text NOT NULL CHECK (jkt ~ '^[A-Za-z0-9_-]{43}$'),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX proof_sessions_created_idx ON proof_sessions (created_at);

-- The ids (jti) of the proofs seen lately, to refuse a replay; kept a little longer than a proof is
-- accepted, then purged.
CREATE TABLE proof_jtis (
  jti         text PRIMARY KEY CHECK (length(jti) BETWEEN 1 AND 256),
  expires_at  timestamptz NOT NULL
);
CREATE INDEX proof_jtis_expires_idx ON proof_jtis (expires_at);
`,
  },
  {
    version: 6,
    name: "export audit action; account erasure with a non-identifying audit trail",
    sql: `
ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check CHECK (action IN
  ('create', 'read', 'update', 'delete', 'list', 'denied', 'image.upload', 'image.download', 'export'));

-- The one change the append-only trail allows: while an account erasure runs (the setting below is on,
-- only inside account_erasures_anonymise), an UPDATE may replace the owner and actor with 'erased' and
-- clear the record and request ids. Action, time and id stay; nothing else may change.
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND current_setting('veil.audit_erasure', true) = 'on'
     AND NEW.id = OLD.id AND NEW.action = OLD.action AND NEW.at = OLD.at
     AND NEW.owner_id IN (OLD.owner_id, 'erased') AND NEW.actor IN (OLD.actor, 'erased')
     AND (NEW.record_id IS NULL OR NEW.record_id = OLD.record_id)
     AND (NEW.request_id IS NULL OR NEW.request_id = OLD.request_id) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;

-- One row per erased account: when, and how much went. owner_id is write-only: the trigger below reads
-- it, anonymises that owner's audit trail and clears it, and the CHECK proves no row keeps it.
CREATE TABLE account_erasures (
  id            bigserial PRIMARY KEY,
  owner_id      text NULL CHECK (owner_id IS NULL),
  records       integer NOT NULL CHECK (records >= 0),
  images        integer NOT NULL CHECK (images >= 0),
  audit_events  integer NOT NULL DEFAULT 0 CHECK (audit_events >= 0),
  erased_at     timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
);

-- SECURITY DEFINER: the app role may neither UPDATE the trail nor set the setting's effect itself; it
-- inserts an erasure, and this trigger (the schema owner's rights, fixed search_path) anonymises. It
-- refuses while the owner still has records, so it cannot hide the trail of data that still exists.
CREATE FUNCTION account_erasures_anonymise() RETURNS trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  owner text := NEW.owner_id;
  n integer;
BEGIN
  IF owner IS NULL OR length(owner) NOT BETWEEN 1 AND 128 THEN
    RAISE EXCEPTION 'account_erasures needs the owner' USING ERRCODE = 'check_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM public.records WHERE owner_id = owner) THEN
    RAISE EXCEPTION 'the owner still has records' USING ERRCODE = 'object_in_use';
  END IF;
  PERFORM set_config('veil.audit_erasure', 'on', true);
  UPDATE public.audit_events
     SET owner_id = CASE WHEN owner_id = owner THEN 'erased' ELSE owner_id END,
         actor = CASE WHEN actor = owner THEN 'erased' ELSE actor END,
         record_id = CASE WHEN owner_id = owner THEN NULL ELSE record_id END,
         request_id = CASE WHEN owner_id = owner THEN NULL ELSE request_id END
   WHERE owner_id = owner;
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM set_config('veil.audit_erasure', 'off', true);
  NEW.audit_events := n;
  NEW.owner_id := NULL;
  RETURN NEW;
END
$$;
CREATE TRIGGER account_erasures_anonymise BEFORE INSERT ON account_erasures
  FOR EACH ROW EXECUTE FUNCTION account_erasures_anonymise();

-- An erasure finds every image of the owner (the inbox keys to delete) without a scan.
CREATE INDEX images_owner_idx ON images (owner_id);
`,
  },
  {
    version: 7,
    name: "proof-of-possession: an erasure revokes the owner's sessions without keeping the owner",
    sql: `
-- An erasure turns each session binding of the owner into a revocation marker: the origin_jti stays,
-- the owner becomes 'erased' and the key thumbprint goes, so a token of that session is refused until
-- it can no longer be valid (the marker is purged after that). A marker is never bound again.
ALTER TABLE proof_sessions ALTER COLUMN jkt DROP NOT NULL;
ALTER TABLE proof_sessions ADD COLUMN revoked_at timestamptz NULL;
ALTER TABLE proof_sessions ADD CONSTRAINT proof_sessions_marker_check CHECK (
  (revoked_at IS NULL AND jkt IS NOT NULL AND owner_id <> 'erased')
  OR (revoked_at IS NOT NULL AND jkt IS NULL AND owner_id = 'erased'));
CREATE INDEX proof_sessions_revoked_idx ON proof_sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- The owners erased lately, as SHA-256 of a domain tag and the Cognito sub (a random id, so the hash
-- names no one to whoever does not already know the sub): a token of a session that never made a
-- request (no binding to mark) is refused too. Purged once no token issued before the erasure can be
-- valid.
CREATE TABLE erased_subjects (
  subject    bytea PRIMARY KEY CHECK (length(subject) = 32),
  erased_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX erased_subjects_erased_idx ON erased_subjects (erased_at);
`,
  },
];
