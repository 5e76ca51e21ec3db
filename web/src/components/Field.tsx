import type { ChangeEvent } from "react";
import { categoryOptions, type FormField } from "../form/fields.ts";

interface FieldProps {
  readonly field: FormField;
  readonly value: string;
  readonly error: string | undefined;
  readonly onChange: (name: FormField["name"], value: string) => void;
  readonly disabled?: boolean;
}

const today = () => new Date().toISOString().slice(0, 10);

/** One labelled form control with its hint and its error, wired up for assistive technology. */
export function Field({ field, value, error, onChange, disabled }: FieldProps) {
  const id = `field-${field.name}`;
  const hintId = field.hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [errorId, hintId].filter(Boolean).join(" ") || undefined;
  // Record fields describe a patient, not the person typing: no autofill, no form history; and no
  // spell checking, which some browsers do on a remote service.
  const common = {
    id,
    name: field.name,
    value,
    required: field.required,
    disabled,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": describedBy,
    onChange: (e: ChangeEvent<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>) =>
      onChange(field.name, e.target.value),
  };
  return (
    <div
      className={`field${error ? " field-invalid" : ""}${field.control === "textarea" ? " field-wide" : ""}`}
    >
      <label htmlFor={id}>
        {field.label}
        {field.required ? (
          <span className="field-required"> (required)</span>
        ) : (
          <span className="field-optional"> (optional)</span>
        )}
      </label>
      {error ? (
        <p className="field-error" id={errorId}>
          <span aria-hidden="true">! </span>
          {error}
        </p>
      ) : null}
      {field.control === "select" ? (
        <select {...common}>
          <option value="">Choose…</option>
          {categoryOptions.map((c) => (
            <option key={c.value} value={c.value}>
              {c.label}
            </option>
          ))}
        </select>
      ) : field.control === "textarea" ? (
        <textarea {...common} maxLength={field.maxLength} rows={4} autoComplete="off" spellCheck={false} />
      ) : (
        <input
          {...common}
          type={field.inputType}
          maxLength={field.inputType === "date" ? undefined : field.maxLength}
          max={field.inputType === "date" ? today() : undefined}
          min={field.inputType === "date" ? "1900-01-01" : undefined}
          autoComplete="off"
          spellCheck={false}
        />
      )}
      {field.hint ? (
        <p className="field-hint" id={hintId}>
          {field.hint}
        </p>
      ) : null}
    </div>
  );
}
