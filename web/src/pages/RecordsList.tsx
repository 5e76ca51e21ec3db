import { useState } from "react";
import type { RecordListItem } from "../api/records.ts";
import { Link } from "../app/router.tsx";
import { paths } from "../app/routes.ts";
import { api } from "../app/session.ts";
import { useLoad } from "../app/useLoad.ts";
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { Page } from "../components/Page.tsx";
import { categoryLabel } from "../form/fields.ts";
import { formatDate, formatDateTime } from "../format.ts";
import { useRecordSearch } from "./useRecordSearch.ts";

const pageSize = 20;

/** One record in a list: who it is about, what kind of record, when it last changed. */
function RecordCard({ record }: { readonly record: RecordListItem }) {
  return (
    <Link className="record-card" href={paths.detail(record.id)}>
      <span className="record-card-main">
        <span className="badge">{categoryLabel(record.category)}</span>
        <span className="record-card-title">{record.fullName}</span>
      </span>
      <span className="record-card-meta">
        <span>Born {formatDate(record.dateOfBirth)}</span>
        <span>Changed {formatDateTime(record.updatedAt)}</span>
      </span>
      <span className="record-card-chevron" aria-hidden="true">
        ›
      </span>
    </Link>
  );
}

/**
 * The user's records, newest first, with each one's name and birth date (decrypted for the user and
 * sealed to this browser), a page at a time; the search box narrows them in memory.
 */
export function RecordsList() {
  const search = useRecordSearch();
  const [more, setMore] = useState<{
    items: RecordListItem[];
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
      intro="Only you can see them: names and details are decrypted for you alone and sent encrypted to this browser."
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
          <search className="record-search">
            <div className="field">
              <label htmlFor="record-search">Search by name, insurance number or diagnosis</label>
              <input
                id="record-search"
                type="search"
                value={search.query}
                onChange={(e) => search.setQuery(e.target.value)}
                autoComplete="off"
                spellCheck={false}
                aria-describedby="record-search-hint"
              />
              <p id="record-search-hint" className="field-hint">
                The search runs in this browser: nothing you type is sent.
              </p>
            </div>
          </search>
          {search.active ? (
            search.data.status === "error" ? (
              <ErrorNotice
                error={search.data.error}
                onRetry={search.retry}
                title="Your records could not be searched"
              />
            ) : !search.results ? (
              <p className="loading" role="status" aria-busy="true">
                Searching your records…
              </p>
            ) : (
              <>
                <p className="list-count" role="status">
                  {search.results.length} {search.results.length === 1 ? "record matches" : "records match"}
                  {search.data.status === "ready" && !search.data.complete
                    ? ` among your newest ${search.data.index.size}`
                    : ""}
                </p>
                <ul className="record-list">
                  {search.results.map((r) => (
                    <li key={r.id}>
                      <RecordCard record={r} />
                    </li>
                  ))}
                </ul>
              </>
            )
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
                    <RecordCard record={r} />
                  </li>
                ))}
              </ul>
              {more.error ? (
                <ErrorNotice error={more.error} title="More records could not be loaded" />
              ) : null}
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
        </>
      )}
    </Page>
  );
}
