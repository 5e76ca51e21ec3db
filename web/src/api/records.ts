import type { Category, SensitiveFields, WritableFieldName } from "@veil/core";
import { writableFields } from "@veil/core";
import type { ApiClient } from "./client.ts";

/** What lists show: no sensitive value. */
export interface RecordMeta {
  readonly id: string;
  readonly category: Category;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly version: number;
}

/** One record with its decrypted fields (kept in memory only while its page is open). */
export type RecordDetail = RecordMeta & SensitiveFields;

/** A list item as the list shows it: metadata, and the name and birth date decrypted for the owner. */
export interface RecordListItem extends RecordMeta {
  readonly fullName: string;
  readonly dateOfBirth: string;
}

/** A list item with what the browser searches in as well (`view=search`). */
export interface RecordSearchItem extends RecordListItem {
  readonly insuranceNumber?: string;
  readonly diagnosis?: string;
}

/** One page of a list; `nextCursor` is absent on the last page. */
export interface RecordPage<T = RecordListItem> {
  readonly items: readonly T[];
  readonly nextCursor?: string;
}

/** Which fields list items carry: `names` (default), `search`, or `metadata` (nothing sensitive). */
export type ListView = "names" | "search" | "metadata";

/** What each view's items are. */
export interface ListViewItems {
  readonly names: RecordListItem;
  readonly search: RecordSearchItem;
  readonly metadata: RecordMeta;
}

export interface AuditEntry {
  readonly action: "create" | "read" | "update" | "delete" | "list" | "image.upload" | "image.download";
  readonly actor: string;
  readonly at: string;
  readonly requestId: string;
}

/** What a create or edit form holds: every writable field as text, "" for empty. */
export type RecordFormValues = Record<WritableFieldName, string>;

/** An empty form: every writable field of the classification, nothing else. */
export function emptyRecordForm(): RecordFormValues {
  return Object.fromEntries(writableFields.map((f) => [f, ""])) as RecordFormValues;
}

/** The form values of a loaded record (for the edit form). */
export function formFromRecord(record: RecordDetail): RecordFormValues {
  const values = emptyRecordForm();
  for (const name of writableFields) values[name] = String(record[name] ?? "");
  return values;
}

/**
 * Encodes form values as a url-encoded body: only the classification's writable fields, empty ones
 * left out (an update replaces the record, so a left-out field is cleared).
 */
export function encodeRecordForm(values: Readonly<RecordFormValues>): URLSearchParams {
  const body = new URLSearchParams();
  for (const name of writableFields) {
    const value = values[name];
    if (value !== undefined && value !== "") body.append(name, value);
  }
  return body;
}

/** A fresh Idempotency-Key: one per intended create, reused when the same submit is retried. */
export function newIdempotencyKey(): string {
  return `web-${crypto.randomUUID()}`;
}

const recordPath = (id: string) => `/api/records/${encodeURIComponent(id)}`;
const versionOf = (etag: string | undefined, fallback: number) => {
  const m = etag?.match(/^(?:W\/)?"?(\d+)"?$/);
  return m ? Number(m[1]) : fallback;
};

/** The records API, typed. */
export function recordsApi(call: ApiClient) {
  return {
    /**
     * One page of the user's records, newest first. Items carry the fields of `view` (default `names`);
     * the answer stays in memory only.
     */
    async list<V extends ListView = "names">(
      options: { cursor?: string; limit?: number; view?: V } = {},
    ): Promise<RecordPage<ListViewItems[V]>> {
      const q = new URLSearchParams();
      if (options.view && options.view !== "names") q.set("view", options.view);
      if (options.limit) q.set("limit", String(options.limit));
      if (options.cursor) q.set("cursor", options.cursor);
      const query = q.toString();
      return (
        await call<RecordPage<ListViewItems[V]>>({
          method: "GET",
          path: `/api/records${query ? `?${query}` : ""}`,
        })
      ).body;
    },
    async get(id: string): Promise<RecordDetail> {
      const res = await call<RecordDetail>({ method: "GET", path: recordPath(id) });
      return { ...res.body, version: versionOf(res.etag, res.body.version) };
    },
    async create(values: Readonly<RecordFormValues>, idempotencyKey: string): Promise<RecordMeta> {
      const res = await call<RecordMeta>({
        method: "POST",
        path: "/api/records",
        form: encodeRecordForm(values),
        headers: { "idempotency-key": idempotencyKey },
      });
      return res.body;
    },
    /** Replaces the record's fields if it is still at `version` (412 Precondition Failed otherwise). */
    async update(id: string, version: number, values: Readonly<RecordFormValues>): Promise<RecordMeta> {
      const res = await call<RecordMeta>({
        method: "POST",
        path: recordPath(id),
        form: encodeRecordForm(values),
        headers: { "if-match": `"${version}"` },
      });
      return res.body;
    },
    async remove(id: string, version?: number): Promise<void> {
      await call<undefined>({
        method: "DELETE",
        path: recordPath(id),
        ...(version !== undefined ? { headers: { "if-match": `"${version}"` } } : {}),
      });
    },
    async audit(id: string): Promise<readonly AuditEntry[]> {
      return (await call<{ items: AuditEntry[] }>({ method: "GET", path: `${recordPath(id)}/audit` })).body
        .items;
    },
  };
}

export type RecordsApi = ReturnType<typeof recordsApi>;
