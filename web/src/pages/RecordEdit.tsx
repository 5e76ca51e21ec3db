import { useState } from "react";
import { ApiError } from "../api/errors.ts";
import { formFromRecord, type RecordFormValues } from "../api/records.ts";
import { Link, navigate } from "../app/router.tsx";
import { paths } from "../app/routes.ts";
import { api } from "../app/session.ts";
import { useLoad } from "../app/useLoad.ts";
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { Page } from "../components/Page.tsx";
import { RecordForm } from "../components/RecordForm.tsx";
import { checkRecordForm, errorsFromApi, type FieldErrors } from "../form/fields.ts";

/** Edits a record; the save carries the version it was loaded at (If-Match), so no change is lost. */
export function RecordEdit({ id }: { readonly id: string }) {
  const [state, reload] = useLoad(() => api.get(id), [id]);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  // 412: the record is no longer at the version loaded (If-Match failed); 409: another conflicting change.
  const conflict = failure instanceof ApiError && (failure.status === 412 || failure.status === 409);

  const submit = async (version: number, values: RecordFormValues) => {
    setBusy(true);
    setFailure(undefined);
    try {
      await api.update(id, version, values);
      navigate(paths.detail(id), { state: { flash: "Changes saved and encrypted." } });
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
    <Page title="Edit record" back={<Link href={paths.detail(id)}>‹ Back to the record</Link>}>
      {state.status === "loading" ? (
        <p className="loading" role="status" aria-busy="true">
          Opening the record…
        </p>
      ) : state.status === "error" ? (
        <ErrorNotice error={state.error} onRetry={reload} title="The record could not be opened" />
      ) : (
        <RecordForm
          // A reload after a conflict starts the form afresh from the latest version.
          key={state.data.version}
          initial={formFromRecord(state.data)}
          submitLabel="Save changes"
          busyLabel="Saving…"
          errors={errors}
          busy={busy}
          check={checkRecordForm}
          onInvalid={setErrors}
          onSubmit={(values) => submit(state.data.version, values)}
          banner={
            conflict ? (
              <div className="notice notice-warning" role="alert">
                <p className="notice-title">This record was changed elsewhere</p>
                <p>
                  It changed after you opened it, so your edits were not saved. Load the latest version, then
                  make your changes again.
                </p>
                <button
                  type="button"
                  className="button button-secondary"
                  onClick={() => {
                    setFailure(undefined);
                    setErrors({});
                    reload();
                  }}
                >
                  Load the latest version
                </button>
              </div>
            ) : failure ? (
              <ErrorNotice error={failure} title="Your changes were not saved" />
            ) : null
          }
          cancel={
            <Link className="button button-secondary" href={paths.detail(id)}>
              Cancel
            </Link>
          }
        />
      )}
    </Page>
  );
}
