/**
 * The data classification of a patient record: the single source of truth for which fields are
 * sensitive. FLE field lists, log redaction, envelope encryption and input validation are all derived
 * from `recordFields` below — adding a sensitive field is a one-line change here.
 */

/** "high": sensitive personal or health data, never in clear after the edge. "low": metadata. */
export type Classification = "high" | "low";

/** How a field's value is checked on input. */
export type FieldKind =
  | "name"
  | "date"
  | "insuranceNumber"
  | "email"
  | "phone"
  | "text"
  | "category"
  | "system";

export interface FieldSpec {
  readonly classification: Classification;
  readonly kind: FieldKind;
  /** Whether a create must carry it. */
  readonly required: boolean;
  /** Maximum length in characters (CloudFront FLE caps a field at 16 KB). */
  readonly maxLength: number;
  /** Human label for forms and error messages. */
  readonly label: string;
}

/** Categories a record can be filed under (metadata, not sensitive). */
export const categories = [
  "general",
  "cardiology",
  "dermatology",
  "neurology",
  "oncology",
  "orthopedics",
  "pediatrics",
  "radiology",
  "other",
] as const;
export type Category = (typeof categories)[number];

const high = (kind: FieldKind, label: string, maxLength: number, required = false) => ({
  classification: "high" as const,
  kind,
  required,
  maxLength,
  label,
});
const low = (kind: FieldKind, label: string, maxLength: number, required = false) => ({
  classification: "low" as const,
  kind,
  required,
  maxLength,
  label,
});

/** The patient record, field by field. Field names are public API (forms, JSON, FLE patterns). */
export const recordFields = {
  id: low("system", "Record id", 36),
  category: low("category", "Category", 32, true),
  fullName: high("name", "Full name", 200, true),
  dateOfBirth: high("date", "Date of birth", 10, true),
  insuranceNumber: high("insuranceNumber", "Insurance number", 32),
  email: high("email", "E-mail", 254),
  phone: high("phone", "Phone", 32),
  diagnosis: high("text", "Diagnosis", 2000),
  notes: high("text", "Notes", 4000),
  createdAt: low("system", "Created at", 40),
  updatedAt: low("system", "Updated at", 40),
} as const satisfies Record<string, FieldSpec>;

export type RecordFieldName = keyof typeof recordFields;

type FieldsWhere<C extends Classification> = {
  [K in RecordFieldName]: (typeof recordFields)[K]["classification"] extends C ? K : never;
}[RecordFieldName];

/** Names of the sensitive ("high") fields. */
export type SensitiveFieldName = FieldsWhere<"high">;

/** The sensitive values of one record, as plaintext strings (only inside the handler's memory). */
export type SensitiveFields = { [K in SensitiveFieldName]?: string };

/** Fields a client may write. */
export type WritableFieldName = SensitiveFieldName | "category";

const names = Object.keys(recordFields) as RecordFieldName[];

/** The sensitive fields, in schema order. Drives FLE, redaction and envelope encryption. */
export const sensitiveFields: readonly SensitiveFieldName[] = Object.freeze(
  names.filter((n): n is SensitiveFieldName => recordFields[n].classification === "high"),
);

/** Fields a client may send in a create or update. */
export const writableFields: readonly WritableFieldName[] = Object.freeze(
  names.filter((n): n is WritableFieldName => recordFields[n].kind !== "system"),
);

/** True when `name` is a sensitive field of the classification. */
export function isSensitiveField(name: string): name is SensitiveFieldName {
  return (sensitiveFields as readonly string[]).includes(name);
}
