import type { AuditEntry } from "./api/records.ts";

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "long", timeZone: "UTC" });

/** "12 Mar 2026, 14:05" in the reader's locale; the raw text when it is not a date. */
export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTime.format(d);
}

/** A calendar date (YYYY-MM-DD, no time zone) in words, e.g. for a date of birth. */
export function formatDate(ymd: string): string {
  const d = new Date(`${ymd}T00:00:00Z`);
  return /^\d{4}-\d{2}-\d{2}$/.test(ymd) && !Number.isNaN(d.getTime()) ? dateOnly.format(d) : ymd;
}

/** The first block of a record id: enough to tell records apart at a glance. */
export function shortId(id: string): string {
  return id.split("-")[0] ?? id;
}

const actions: Record<AuditEntry["action"], string> = {
  "image.upload": "Image added",
  "image.download": "Image downloaded",
  create: "Created",
  read: "Opened",
  update: "Changed",
  delete: "Deleted",
  list: "Listed",
};

/** An audit action in words. */
export function actionLabel(action: string): string {
  return actions[action as AuditEntry["action"]] ?? action;
}
