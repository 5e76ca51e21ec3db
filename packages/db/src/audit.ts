import { isCanonicalId } from "@veil/core";
import type { AuditAction } from "./migrations.ts";
import { type Queryable, run } from "./query.ts";

/** One entry of the append-only audit trail. Holds who did what to which record, never any content. */
export interface AuditEvent {
  id: string;
  ownerId: string;
  actor: string;
  action: AuditAction;
  recordId: string | null;
  requestId: string | null;
  at: Date;
}

interface Row {
  id: string;
  owner_id: string;
  actor: string;
  action: AuditAction;
  record_id: string | null;
  request_id: string | null;
  at: Date;
}

const toEvent = (r: Row): AuditEvent => ({
  id: r.id,
  ownerId: r.owner_id,
  actor: r.actor,
  action: r.action,
  recordId: r.record_id,
  requestId: r.request_id,
  at: r.at,
});

/**
 * Appends an event. Call it on the same transaction client as the change it describes, so that a
 * change without its audit entry cannot be committed. The table rejects UPDATE, DELETE and TRUNCATE.
 */
export async function append(
  db: Queryable,
  event: { ownerId: string; actor: string; action: AuditAction; recordId?: string; requestId?: string },
): Promise<AuditEvent> {
  const rows = await run<Row>(db, {
    name: "veil.audit.append",
    text: `INSERT INTO audit_events (owner_id, actor, action, record_id, request_id) VALUES ($1, $2, $3, $4, $5)
           RETURNING id::text, owner_id, actor, action, record_id, request_id, at`,
    values: [event.ownerId, event.actor, event.action, event.recordId ?? null, event.requestId ?? null],
  });
  return toEvent(rows[0] as Row);
}

/**
 * Appends one event per record in a single statement (a page of records read at once: one round trip,
 * all or none). Returns how many were written.
 */
export async function appendMany(
  db: Queryable,
  batch: {
    ownerId: string;
    actor: string;
    action: AuditAction;
    recordIds: readonly string[];
    requestId?: string;
  },
): Promise<number> {
  if (batch.recordIds.length === 0) return 0;
  const rows = await run<{ id: string }>(db, {
    name: "veil.audit.appendMany",
    text: `INSERT INTO audit_events (owner_id, actor, action, record_id, request_id)
           SELECT $1, $2, $3, r, $5 FROM unnest($4::uuid[]) AS r RETURNING id::text`,
    values: [batch.ownerId, batch.actor, batch.action, [...batch.recordIds], batch.requestId ?? null],
  });
  return rows.length;
}

/** The owner's audit trail of one record, oldest first (also after the record was deleted). */
export async function listForRecord(
  db: Queryable,
  ownerId: string,
  recordId: string,
  limit = 100,
): Promise<AuditEvent[]> {
  if (!isCanonicalId(recordId)) return [];
  // Ordered by the column, not the `id::text` output column: as text, event 10 would sort before 9.
  const rows = await run<Row>(db, {
    name: "veil.audit.listForRecord",
    text: `SELECT id::text, owner_id, actor, action, record_id, request_id, at FROM audit_events
           WHERE record_id = $1 AND owner_id = $2 ORDER BY audit_events.id LIMIT $3`,
    values: [recordId, ownerId, Math.min(1000, Math.max(1, Math.trunc(limit)))],
  });
  return rows.map(toEvent);
}
