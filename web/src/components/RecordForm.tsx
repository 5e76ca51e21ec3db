import { type FormEvent, type MouseEvent, type ReactNode, useEffect, useRef, useState } from "react";
import type { RecordFormValues } from "../api/records.ts";
import { type FieldErrors, type FormField, fieldsOf, sections } from "../form/fields.ts";
import { Field } from "./Field.tsx";
import { Protection } from "./Protection.tsx";

interface RecordFormProps {
  readonly initial: RecordFormValues;
  readonly submitLabel: string;
  readonly busyLabel: string;
  readonly errors: FieldErrors;
  readonly busy: boolean;
  /** Called with the values; client checks have passed. */
  readonly onSubmit: (values: RecordFormValues) => void;
  /** Called on every edit, e.g. to start a new idempotency key. */
  readonly onEdit?: () => void;
  readonly check: (values: RecordFormValues) => FieldErrors;
  readonly onInvalid: (errors: FieldErrors) => void;
  /** Shown above the buttons: a form-level error. */
  readonly banner?: ReactNode;
  readonly cancel: ReactNode;
}

/**
 * The create/edit form. Its fields come from the classification of @veil/core. On errors (ours or the
 * API's) it lists them in a summary that takes focus, each linked to its field.
 */
export function RecordForm(props: RecordFormProps) {
  const [values, setValues] = useState<RecordFormValues>(props.initial);
  const summary = useRef<HTMLDivElement>(null);
  // In the order the fields appear on screen.
  const fieldErrors = sections
    .flatMap((s) => fieldsOf(s.id))
    .flatMap((f) => {
      const message = props.errors[f.name];
      return message ? [[f.name, message] as const] : [];
    });

  const hasErrors = fieldErrors.length > 0 || Boolean(props.errors._form);
  // New errors (ours or the API's) move focus to the summary, which screen readers then read out.
  useEffect(() => {
    if (hasErrors) summary.current?.focus();
  }, [props.errors, hasErrors]);

  const change = (name: FormField["name"], value: string) => {
    setValues((v) => ({ ...v, [name]: value }));
    props.onEdit?.();
  };
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    if (props.busy) return;
    const errors = props.check(values);
    if (Object.keys(errors).length > 0) {
      props.onInvalid(errors);
      return;
    }
    props.onSubmit(values);
  };

  return (
    // method=post: should a script ever fail, a native submit must not put values in the URL.
    <form className="record-form" method="post" noValidate onSubmit={submit} aria-busy={props.busy}>
      {hasErrors ? (
        <div className="notice notice-error error-summary" role="alert" tabIndex={-1} ref={summary}>
          <p className="notice-title">Please check the form</p>
          <ul>
            {fieldErrors.map(([name, message]) => (
              <li key={name}>
                <a href={`#field-${name}`} onClick={(e) => focusField(e, name)}>
                  {message}
                </a>
              </li>
            ))}
            {props.errors._form ? <li>{props.errors._form}</li> : null}
          </ul>
        </div>
      ) : null}
      {sections.map((section) => {
        const fields = fieldsOf(section.id);
        if (fields.length === 0) return null;
        return (
          <fieldset key={section.id} className="form-section">
            <legend>
              {section.title}
              <Protection encrypted={fields.every((f) => f.sensitive)} />
            </legend>
            <div className="form-grid">
              {fields.map((field) => (
                <Field
                  key={field.name}
                  field={field}
                  value={values[field.name]}
                  error={props.errors[field.name]}
                  onChange={change}
                  disabled={props.busy}
                />
              ))}
            </div>
          </fieldset>
        );
      })}
      {props.banner}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={props.busy}>
          {props.busy ? props.busyLabel : props.submitLabel}
        </button>
        {props.cancel}
      </div>
    </form>
  );
}

function focusField(e: MouseEvent<HTMLAnchorElement>, name: string) {
  e.preventDefault();
  document.getElementById(`field-${name}`)?.focus();
}
