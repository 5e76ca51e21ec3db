import { Link } from "../app/router.tsx";
import { paths } from "../app/routes.ts";
import { api } from "../app/session.ts";
import { useLoad } from "../app/useLoad.ts";
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { Page } from "../components/Page.tsx";
import { actionLabel, formatDateTime } from "../format.ts";

/** Who created, opened, changed or deleted the record, and when: its audit trail, newest first. */
export function RecordHistory({ id }: { readonly id: string }) {
  const [state, reload] = useLoad(async () => [...(await api.audit(id))].reverse(), [id]);
  return (
    <Page
      title="Access history"
      back={<Link href={paths.detail(id)}>‹ Back to the record</Link>}
      intro="Every time this record is created, opened, changed or deleted, it is written here. Entries cannot be changed."
    >
      {state.status === "loading" ? (
        <p className="loading" role="status" aria-busy="true">
          Loading the history…
        </p>
      ) : state.status === "error" ? (
        <ErrorNotice error={state.error} onRetry={reload} title="The history could not be loaded" />
      ) : (
        <div className="card table-card">
          <table className="history">
            <caption className="sr-only">Access history, newest first</caption>
            <thead>
              <tr>
                <th scope="col">What</th>
                <th scope="col">Who</th>
                <th scope="col">When</th>
                <th scope="col">Request id</th>
              </tr>
            </thead>
            <tbody>
              {state.data.map((e) => (
                <tr key={`${e.requestId}-${e.action}-${e.at}`}>
                  <td data-label="What">
                    <span className={`action action-${e.action}`}>{actionLabel(e.action)}</span>
                  </td>
                  <td data-label="Who">{e.actor === "you" ? "You" : e.actor}</td>
                  <td data-label="When">
                    <time dateTime={e.at}>{formatDateTime(e.at)}</time>
                  </td>
                  <td data-label="Request id" className="mono small">
                    {e.requestId}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}
