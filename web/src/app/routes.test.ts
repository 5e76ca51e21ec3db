import { describe, expect, it } from "vitest";
import { matchRoute, paths } from "./routes.ts";

describe("routes", () => {
  const id = "0bea4717-ea53-4981-8636-c58c997d45ff";
  it.each([
    ["/", { page: "list" }],
    ["/records", { page: "list" }],
    ["/records/new", { page: "create" }],
    [`/records/${id}`, { page: "detail", id }],
    [`/records/${id}/edit`, { page: "edit", id }],
    [`/records/${id}/history/`, { page: "history", id }],
    ["/account", { page: "account" }],
    ["/records/a/b/c", { page: "notFound" }],
    ["/records/<script>", { page: "notFound" }],
    ["/elsewhere", { page: "notFound" }],
  ])("%s", (path, route) => {
    expect(matchRoute(path)).toEqual(route);
  });

  it("builds paths that route back", () => {
    expect(matchRoute(paths.detail(id))).toEqual({ page: "detail", id });
    expect(matchRoute(paths.edit(id))).toEqual({ page: "edit", id });
    expect(matchRoute(paths.history(id))).toEqual({ page: "history", id });
    expect(matchRoute(paths.create())).toEqual({ page: "create" });
  });
});
