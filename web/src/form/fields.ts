import {
  type Category,
  categories,
  type FieldKind,
  isSensitiveField,
  recordFields,
  type WritableFieldName,
  writableFields,
} from "@veil/core";

/** How one form control looks and behaves; all derived from `recordFields` of @veil/core. */
export interface FormField {
  readonly name: WritableFieldName;
  readonly label: string;
  readonly required: boolean;
  readonly maxLength: number;
  readonly control: "input" | "textarea" | "select";
  readonly inputType: "text" | "date" | "email" | "tel";
  /** A short help text under the label, if the kind has a format to follow. */
  readonly hint: string | undefined;
  readonly sensitive: boolean;
  readonly section: SectionId;
}

export type SectionId = "filing" | "patient" | "contact" | "clinical";

/** Form sections, in display order. */
export const sections: readonly { id: SectionId; title: string }[] = [
  { id: "filing", title: "Filing" },
  { id: "patient", title: "Patient" },
  { id: "contact", title: "Contact" },
  { id: "clinical", title: "Clinical" },
];

/** The fields of one section, in the classification's order. */
export function fieldsOf(section: SectionId): readonly FormField[] {
  return formFields.filter((f) => f.section === section);
}

// Per kind, not per field: a new field of a known kind needs no change here.
const byKind: Record<
  FieldKind,
  { control: FormField["control"]; inputType: FormField["inputType"]; section: SectionId; hint?: string }
> = {
  name: { control: "input", inputType: "text", section: "patient" },
  date: { control: "input", inputType: "date", section: "patient", hint: "Not in the future" },
  insuranceNumber: {
    control: "input",
    inputType: "text",
    section: "patient",
    hint: "4–32 letters, digits, spaces, dots, slashes or dashes",
  },
  email: { control: "input", inputType: "email", section: "contact", hint: "For example name@example.com" },
  phone: {
    control: "input",
    inputType: "tel",
    section: "contact",
    hint: "Digits, with optional + ( ) - and spaces",
  },
  text: { control: "textarea", inputType: "text", section: "clinical" },
  category: { control: "select", inputType: "text", section: "filing" },
  system: { control: "input", inputType: "text", section: "clinical" },
};

/** The fields of the record form, in the classification's order. */
export const formFields: readonly FormField[] = writableFields.map((name) => {
  const spec = recordFields[name];
  const look = byKind[spec.kind];
  const hint = look.hint ?? (look.control === "textarea" ? `Up to ${spec.maxLength} characters` : undefined);
  return {
    name,
    label: spec.label,
    required: spec.required,
    maxLength: spec.maxLength,
    control: look.control,
    inputType: look.inputType,
    hint,
    sensitive: isSensitiveField(name),
    section: look.section,
  };
});

/** A category as people read it: "cardiology" → "Cardiology". */
export function categoryLabel(category: Category | string): string {
  return category.charAt(0).toUpperCase() + category.slice(1);
}

export const categoryOptions: readonly { value: Category; label: string }[] = categories.map((c) => ({
  value: c,
  label: categoryLabel(c),
}));

export type FieldErrors = Partial<Record<string, string>>;

/**
 * Quick checks before sending: required fields and lengths, worded like the API's own messages. The
 * API stays the judge of formats; its 400 answers land on the same fields.
 */
export function checkRecordForm(values: Readonly<Record<WritableFieldName, string>>): FieldErrors {
  const errors: FieldErrors = {};
  for (const field of formFields) {
    const value = (values[field.name] ?? "").trim();
    if (value === "") {
      if (field.required) errors[field.name] = `${field.label} is required`;
    } else if (value.length > field.maxLength) {
      errors[field.name] = `${field.label} must be at most ${field.maxLength} characters`;
    }
  }
  return errors;
}

/** Maps the API's 400 details onto the form's fields; problems of unknown fields go to `_form`. */
export function errorsFromApi(details: readonly { field: string; message: string }[]): FieldErrors {
  const errors: FieldErrors = {};
  const known = new Set<string>(writableFields);
  for (const d of details) {
    const key = known.has(d.field) ? d.field : "_form";
    errors[key] = errors[key] ? `${errors[key]}; ${d.message}` : d.message;
  }
  return errors;
}
