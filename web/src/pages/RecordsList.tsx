import { useState } from "react";
import type { RecordMeta } from "../api/records.ts";
import { Link } from "../app/router.tsx";
import { paths } from "../app/routes.ts";
import { api } from "../app/session.ts";
import { useLoad } from "../app/useLoad.ts";
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { Page } from "../components/Page.tsx";
import { categoryLabel } from "../form/fields.ts";
import { formatDateTime, shortId } from "../format.ts";

const pageSize = 20;

/** The user's records: metadata only, newest first. Nothing sensitive is fetched here. */
export function RecordsList() {
  const [more, setMore] = useState<{
    items: RecordMeta[];
    cursor?: string;
    loading: boolean;
    error?: unknown;
  }>({
    items: [],
    loading: false,
  });
  const [state, reload] = useLoad(async () => {
    const page = await api.list({ limit: pageSize });
    setMore({ items: [], ...(page.nextCursor ? { cursor: page.nextCursor } : {}), loading: false });
    return page;
  }, []);

  const loadMore = async () => {
    if (!more.cursor) return;
    setMore((m) => ({ ...m, loading: true, error: undefined }));
    try {
      const page = await api.list({ limit: pageSize, cursor: more.cursor });
      setMore((m) => ({
        items: [...m.items, ...page.items],
        ...(page.nextCursor ? { cursor: page.nextCursor } : {}),
        loading: false,
      }));
    } catch (error) {
      setMore((m) => ({ ...m, loading: false, error }));
    }
  };

  const newRecord = (
    <Link className="button button-primary" href={paths.create()}>
      <span aria-hidden="true">+ </span>New record
    </Link>
  );

  return (
    <Page
      title="Your records"
      intro="Only you can open them. The list shows when records changed; their contents stay encrypted until you open one."
      actions={state.status === "ready" && state.data.items.length > 0 ? newRecord : undefined}
    >
      {state.status === "loading" ? (
        <div aria-busy="true">
          <p className="loading" role="status">
            Loading your records…
          </p>
          <ul className="record-list" aria-hidden="true">
            {[0, 1, 2].map((i) => (
              <li key={i} className="record-card skeleton" />
            ))}
          </ul>
        </div>
      ) : state.status === "error" ? (
        <ErrorNotice error={state.error} onRetry={reload} title="Your records could not be loaded" />
      ) : state.data.items.length === 0 ? (
        <div className="empty">
          <svg className="empty-art" viewBox="0 0 64 64" aria-hidden="true" focusable="false">
            <rect x="12" y="8" width="40" height="48" rx="6" />
            <path d="M22 24h20M22 32h20M22 40h12" />
          </svg>
          <h2>No records yet</h2>
          <p>Create your first record. Its details are encrypted before they are stored.</p>
          {newRecord}
        </div>
      ) : (
        <>
          <p className="list-count" role="status">
            {state.data.items.length + more.items.length}
            {more.cursor ? "+" : ""}{" "}
            {state.data.items.length + more.items.length === 1 ? "record" : "records"}
          </p>
          <ul className="record-list">
            {[...state.data.items, ...more.items].map((r) => (
              <li key={r.id}>
                <Link className="record-card" href={paths.detail(r.id)}>
                  <span className="record-card-main">
                    <span className="badge">{categoryLabel(r.category)}</span>
                    <span className="record-card-title">
                      Record <span className="mono">{shortId(r.id)}</span>
                    </span>
                  </span>
                  <span className="record-card-meta">
                    <span>Updated {formatDateTime(r.updatedAt)}</span>
                    <span>
                      Created {formatDateTime(r.createdAt)} · Version {r.version}
                    </span>
                  </span>
                  <span className="record-card-chevron" aria-hidden="true">
                    ›
                  </span>
                </Link>
              </li>
            ))}
          </ul>
          {more.error ? <ErrorNotice error={more.error} title="More records could not be loaded" /> : null}
          {more.cursor ? (
            <button
              type="button"
              className="button button-secondary load-more"
              onClick={loadMore}
              disabled={more.loading}
            >
              {more.loading ? "Loading…" : "Show more records"}
            </button>
          ) : null}
        </>
      )}
    </Page>
  );
}
