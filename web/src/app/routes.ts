/**
 * The app's routes. URLs carry record ids at most, never a record value: anything sensitive lives in
 * component state only.
 */
export type Route =
  | { readonly page: "list" }
  | { readonly page: "create" }
  | { readonly page: "detail"; readonly id: string }
  | { readonly page: "edit"; readonly id: string }
  | { readonly page: "history"; readonly id: string }
  | { readonly page: "account" }
  | { readonly page: "notFound" };

const idPattern = "([A-Za-z0-9-]{1,64})";
const table: readonly [RegExp, (id: string) => Route][] = [
  [/^\/?$/, () => ({ page: "list" })],
  [/^\/records\/?$/, () => ({ page: "list" })],
  [/^\/records\/new\/?$/, () => ({ page: "create" })],
  [/^\/account\/?$/, () => ({ page: "account" })],
  [new RegExp(`^/records/${idPattern}/edit/?$`), (id) => ({ page: "edit", id })],
  [new RegExp(`^/records/${idPattern}/history/?$`), (id) => ({ page: "history", id })],
  [new RegExp(`^/records/${idPattern}/?$`), (id) => ({ page: "detail", id })],
];

/** The route of a path name (the query string and hash are ignored). */
export function matchRoute(pathname: string): Route {
  for (const [re, make] of table) {
    const m = pathname.match(re);
    if (m) return make(m[1] ?? "");
  }
  return { page: "notFound" };
}

/** Path names of the pages, for links. */
export const paths = {
  list: () => "/",
  create: () => "/records/new",
  detail: (id: string) => `/records/${encodeURIComponent(id)}`,
  edit: (id: string) => `/records/${encodeURIComponent(id)}/edit`,
  history: (id: string) => `/records/${encodeURIComponent(id)}/history`,
  account: () => "/account",
} as const;
