import type { GatewayRoute } from "./types.ts";

/** A route that matched, with its decoded path parameters. */
export interface RouteMatch {
  readonly route: GatewayRoute;
  readonly pathParameters: Record<string, string> | null;
}

interface Compiled {
  readonly route: GatewayRoute;
  readonly segments: ReadonlyArray<{ kind: "literal" | "param" | "greedy"; value: string }>;
}

/**
 * Matches request paths (without the stage) against resource templates. Like API Gateway, a literal
 * segment beats `{param}`, which beats a greedy `{proxy+}`; `ANY` matches every method.
 */
export class RouteTable {
  private readonly compiled: Compiled[];

  constructor(routes: readonly GatewayRoute[]) {
    this.compiled = routes.map((route) => ({
      route,
      segments: route.resource
        .split("/")
        .filter((s) => s !== "")
        .map((s) => {
          const m = /^\{([A-Za-z0-9_.-]+)(\+?)\}$/.exec(s);
          if (m === null) return { kind: "literal" as const, value: s };
          return { kind: m[2] === "+" ? ("greedy" as const) : ("param" as const), value: m[1]! };
        }),
    }));
  }

  /** The best route for `method` and the still-encoded `rawPath`, or `undefined`. */
  match(method: string, rawPath: string): RouteMatch | undefined {
    const parts = rawPath.split("/").filter((s) => s !== "");
    const decoded = parts.map((p) => safeDecode(p));
    if (decoded.some((p) => p === undefined)) return undefined;
    const segments = decoded as string[];
    let best: { match: RouteMatch; score: number } | undefined;
    for (const c of this.compiled) {
      if (c.route.method !== "ANY" && c.route.method.toUpperCase() !== method.toUpperCase()) continue;
      const params = matchSegments(c.segments, segments);
      if (params === undefined) continue;
      const score = c.segments.reduce(
        (s, seg) => s * 4 + (seg.kind === "literal" ? 3 : seg.kind === "param" ? 2 : 1),
        c.route.method === "ANY" ? 0 : 1,
      );
      if (best === undefined || score > best.score) {
        best = {
          match: { route: c.route, pathParameters: Object.keys(params).length > 0 ? params : null },
          score,
        };
      }
    }
    return best?.match;
  }
}

function matchSegments(
  template: Compiled["segments"],
  path: readonly string[],
): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const t = template[i]!;
    if (t.kind === "greedy") {
      if (i >= path.length) return undefined; // {proxy+} needs at least one segment
      params[t.value] = path.slice(i).join("/");
      return params;
    }
    const p = path[i];
    if (p === undefined) return undefined;
    if (t.kind === "literal" ? p !== t.value : false) return undefined;
    if (t.kind === "param") params[t.value] = p;
  }
  return template.length === path.length ? params : undefined;
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
