/**
 * The records API surface: one table read by the handler (routing), the local gateway and infra (API
 * Gateway resources and methods). Routes are public contracts: add, never rename.
 */
export const recordRoutes = [
  { method: "POST", resource: "/api/records" },
  { method: "GET", resource: "/api/records" },
  { method: "GET", resource: "/api/records/{id}" },
  { method: "PUT", resource: "/api/records/{id}" },
  // CloudFront encrypts fields of POST bodies only, so browsers update a record with POST.
  { method: "POST", resource: "/api/records/{id}" },
  { method: "DELETE", resource: "/api/records/{id}" },
  { method: "GET", resource: "/api/records/{id}/audit" },
] as const;

type RouteOf<R> = R extends { method: infer M extends string; resource: infer P extends string }
  ? `${M} ${P}`
  : never;

/** `"METHOD /resource"` of each route. */
export type RecordRouteKey = RouteOf<(typeof recordRoutes)[number]>;
