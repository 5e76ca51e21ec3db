import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { RecordSearchItem } from "../api/records.ts";
import { api } from "../app/session.ts";
import { buildSearchIndex, fold, loadAllForSearch, type SearchIndex } from "../records-search.ts";

/** Where the search's data stands. */
export type SearchData =
  | { readonly status: "idle" | "loading" }
  | { readonly status: "ready"; readonly index: SearchIndex<RecordSearchItem>; readonly complete: boolean }
  | { readonly status: "error"; readonly error: unknown };

/**
 * The list page's search: on the first non-empty query, loads every `view=search` page once and keeps
 * them in this component's memory only (gone when the page is left); every keystroke after that
 * filters in memory. Nothing typed is sent anywhere.
 */
export function useRecordSearch() {
  const [query, setQuery] = useState("");
  const [data, setData] = useState<SearchData>({ status: "idle" });
  const loading = useRef<AbortController | undefined>(undefined);

  const load = useCallback(() => {
    loading.current?.abort();
    const controller = new AbortController();
    loading.current = controller;
    setData({ status: "loading" });
    loadAllForSearch((cursor, limit) => api.list({ view: "search", limit, ...(cursor ? { cursor } : {}) }), {
      signal: controller.signal,
    }).then(
      ({ items, complete }) => {
        if (!controller.signal.aborted)
          setData({ status: "ready", index: buildSearchIndex(items), complete });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setData({ status: "error", error });
      },
    );
  }, []);

  useEffect(() => () => loading.current?.abort(), []);

  const active = fold(query) !== "";
  useEffect(() => {
    if (active && data.status === "idle") load();
  }, [active, data.status, load]);

  const results = useMemo(
    () => (active && data.status === "ready" ? data.index.search(query) : undefined),
    [active, data, query],
  );
  return { query, setQuery, active, data, results, retry: load };
}
