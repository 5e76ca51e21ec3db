/**
 * Search over the user's own records, entirely in this browser: the `view=search` pages of the list
 * are loaded once, kept in memory (never in localStorage, IndexedDB or the URL), and filtered here.
 * No query and no search index ever leave the browser. Plain TypeScript without DOM or API imports,
 * so the benchmark runs the same code in Node.
 */

/** The fields a search looks in (those of a `view=search` list item). */
export interface Searchable {
  readonly fullName: string;
  readonly insuranceNumber?: string;
  readonly diagnosis?: string;
}

/** One page of the list, as the API answers it. */
export interface ListPage<T> {
  readonly items: readonly T[];
  readonly nextCursor?: string;
}

/**
 * Text as a search compares it: lower case, decomposed (NFD) with the accents dropped, runs of
 * whitespace as one space. `fold("  Zoë  MÜLLER ") === "zoe muller"`.
 */
export function fold(text: string): string {
  return text.toLowerCase().normalize("NFD").replace(/\p{M}/gu, "").replace(/\s+/g, " ").trim();
}

/** Insurance numbers are typed with or without their separators: compare them without. */
const compact = (text: string) => fold(text).replace(/[\s./-]/g, "");

/** Finds items by the words of a query. */
export interface SearchIndex<T> {
  readonly size: number;
  /**
   * The items (in their order) that contain every word of `query` — each word a case- and
   * accent-insensitive substring of the name, the insurance number or the diagnosis. An empty query
   * finds everything.
   */
  search(query: string): T[];
}

/**
 * Folds each item's searchable text once, so that every keystroke is a scan of prepared strings.
 *
 * @example
 * const index = buildSearchIndex(items);
 * index.search("muller diab"); // items whose name or diagnosis contain both words
 */
export function buildSearchIndex<T extends Searchable>(items: readonly T[]): SearchIndex<T> {
  const prepared = items.map((item) => ({
    item,
    text: `${fold(item.fullName)}\n${fold(item.insuranceNumber ?? "")}\n${fold(item.diagnosis ?? "")}`,
    number: compact(item.insuranceNumber ?? ""),
  }));
  return {
    size: items.length,
    search(query) {
      const words = fold(query).split(" ").filter(Boolean);
      if (words.length === 0) return [...items];
      const numbers = words.map(compact);
      return prepared
        .filter(({ text, number }) =>
          words.every((w, i) => {
            const n = numbers[i] ?? "";
            return text.includes(w) || (n !== "" && number.includes(n));
          }),
        )
        .map(({ item }) => item);
    },
  };
}

/** What `loadAllForSearch` returns. */
export interface LoadedForSearch<T> {
  readonly items: T[];
  /** False when `maxItems` stopped the loading before the last page. */
  readonly complete: boolean;
}

/** Options of `loadAllForSearch`. */
export interface LoadAllOptions {
  /** Page size asked for (the API allows up to 100). */
  readonly pageSize?: number;
  /** Memory bound: stop after this many items. Default 10,000. */
  readonly maxItems?: number;
  /** Checked between pages: stop (and throw `AbortError`) when the caller no longer wants them. */
  readonly signal?: AbortSignal;
}

/**
 * Loads every page of the list for searching, one after the other (each page needs the previous
 * page's cursor), up to `maxItems`.
 *
 * @example
 * const { items } = await loadAllForSearch((cursor) => api.list({ view: "search", limit: 100, cursor }));
 */
export async function loadAllForSearch<T>(
  loadPage: (cursor: string | undefined, limit: number) => Promise<ListPage<T>>,
  options: LoadAllOptions = {},
): Promise<LoadedForSearch<T>> {
  const pageSize = options.pageSize ?? 100;
  const maxItems = options.maxItems ?? 10_000;
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    options.signal?.throwIfAborted();
    const page = await loadPage(cursor, Math.min(pageSize, maxItems - items.length));
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && items.length < maxItems);
  return { items, complete: cursor === undefined };
}
