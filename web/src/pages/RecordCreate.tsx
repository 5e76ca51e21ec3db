import { useRef, useState } from "react";
import { ApiError } from "../api/errors.ts";
import { emptyRecordForm, newIdempotencyKey, type RecordFormValues } from "../api/records.ts";
import { Link, navigate } from "../app/router.tsx";
import { paths } from "../app/routes.ts";
import { api } from "../app/session.ts";
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { Page } from "../components/Page.tsx";
import { RecordForm } from "../components/RecordForm.tsx";
import { checkRecordForm, errorsFromApi, type FieldErrors } from "../form/fields.ts";

/** A new record. One Idempotency-Key per intended record: re-submitting unchanged values reuses it. */
export function RecordCreate() {
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const key = useRef(newIdempotencyKey());

  const submit = async (values: RecordFormValues) => {
    setBusy(true);
    setFailure(undefined);
    try {
      const created = await api.create(values, key.current);
      navigate(paths.detail(created.id), { state: { flash: "Record created and encrypted." } });
    } catch (error) {
      setBusy(false);
      if (error instanceof ApiError && error.status === 400 && error.details.length > 0) {
        setErrors(errorsFromApi(error.details));
      } else {
        setErrors({});
        setFailure(error);
      }
    }
  };

  return (
    <Page
      title="New record"
      back={<Link href={paths.list()}>‹ All records</Link>}
      intro="Everything but the category is encrypted at the network edge, before it reaches our servers."
    >
      <RecordForm
        initial={emptyRecordForm()}
        submitLabel="Create record"
        busyLabel="Creating…"
        errors={errors}
        busy={busy}
        check={checkRecordForm}
        onInvalid={setErrors}
        onEdit={() => {
          // Different values are a different record: a retry of those must not replay the old one.
          key.current = newIdempotencyKey();
        }}
        onSubmit={submit}
        banner={failure ? <ErrorNotice error={failure} title="The record was not created" /> : null}
        cancel={
          <Link className="button button-secondary" href={paths.list()}>
            Cancel
          </Link>
        }
      />
    </Page>
  );
}
