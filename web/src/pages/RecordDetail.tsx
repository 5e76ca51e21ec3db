import { useState } from "react";
import type { RecordDetail as Detail } from "../api/records.ts";
import { Link, navigate } from "../app/router.tsx";
import { paths } from "../app/routes.ts";
import { api } from "../app/session.ts";
import { useLoad } from "../app/useLoad.ts";
import { ConfirmDialog } from "../components/ConfirmDialog.tsx";
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { Page } from "../components/Page.tsx";
import { Protection } from "../components/Protection.tsx";
import { RecordImages } from "../components/RecordImages.tsx";
import { categoryLabel, fieldsOf, sections } from "../form/fields.ts";
import { formatDate, formatDateTime, shortId } from "../format.ts";

/** One record, decrypted for its owner. Opening it is written to its access history. */
export function RecordDetail({ id }: { readonly id: string }) {
  const [state, reload] = useLoad(() => api.get(id), [id]);
  const [confirming, setConfirming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<unknown>();

  const remove = async (record: Detail) => {
    setDeleting(true);
    setDeleteError(undefined);
    try {
      await api.remove(record.id, record.version);
      navigate(paths.list(), { replace: true, state: { flash: "Record deleted." } });
    } catch (error) {
      setDeleting(false);
      setConfirming(false);
      setDeleteError(error);
    }
  };

  const record = state.status === "ready" ? state.data : undefined;
  return (
    <Page
      title={record ? `${categoryLabel(record.category)} record` : "Record"}
      back={<Link href={paths.list()}>‹ All records</Link>}
      intro={
        record ? (
          <>
            <span className="mono">{shortId(record.id)}</span> · Updated {formatDateTime(record.updatedAt)} ·
            Version {record.version}
          </>
        ) : undefined
      }
      actions={
        record ? (
          <>
            <Link className="button button-primary" href={paths.edit(record.id)}>
              Edit
            </Link>
            <Link className="button button-secondary" href={paths.history(record.id)}>
              Access history
            </Link>
            <button type="button" className="button button-danger-quiet" onClick={() => setConfirming(true)}>
              Delete
            </button>
          </>
        ) : undefined
      }
    >
      {state.status === "loading" ? (
        <p className="loading" role="status" aria-busy="true">
          Decrypting the record…
        </p>
      ) : state.status === "error" ? (
        <ErrorNotice error={state.error} onRetry={reload} title="The record could not be opened" />
      ) : record ? (
        <>
          {deleteError ? <ErrorNotice error={deleteError} title="The record was not deleted" /> : null}
          <div className="detail-grid">
            {/* The category (filing) is in the title; the cards show the encrypted details. */}
            {sections
              .filter((s) => fieldsOf(s.id).some((f) => f.sensitive))
              .map((section) => (
                <section key={section.id} className="card" aria-labelledby={`section-${section.id}`}>
                  <h2 id={`section-${section.id}`}>
                    {section.title}
                    <Protection encrypted={fieldsOf(section.id).every((f) => f.sensitive)} />
                  </h2>
                  <dl className="fields">
                    {fieldsOf(section.id).map((f) => {
                      const raw = record[f.name];
                      const value =
                        f.name === "category"
                          ? categoryLabel(record.category)
                          : f.inputType === "date" && raw
                            ? formatDate(raw)
                            : raw;
                      return (
                        <div
                          key={f.name}
                          className={f.control === "textarea" ? "field-row wide" : "field-row"}
                        >
                          <dt>{f.label}</dt>
                          <dd className={value ? "prewrap" : "empty-value"}>{value || "Not provided"}</dd>
                        </div>
                      );
                    })}
                  </dl>
                </section>
              ))}
          </div>
          <RecordImages recordId={record.id} />
          <p className="fine-print">
            Opening this record was written to its <Link href={paths.history(record.id)}>access history</Link>
            . Created {formatDateTime(record.createdAt)}.
          </p>
          <ConfirmDialog
            open={confirming}
            title="Delete this record?"
            confirmLabel="Delete record"
            busy={deleting}
            onCancel={() => setConfirming(false)}
            onConfirm={() => void remove(record)}
          >
            <p>
              The {categoryLabel(record.category).toLowerCase()} record and its encrypted contents will be
              erased. Its access history keeps that it was deleted. This cannot be undone.
            </p>
          </ConfirmDialog>
        </>
      ) : null}
    </Page>
  );
}
