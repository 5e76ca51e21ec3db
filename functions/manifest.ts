/**
 * The Lambda functions of Veil, one entry each, as plain data: infra/ creates every function from its
 * entry, `functions/build.ts` bundles it, the local stack runs that bundle, the bundle-budget test
 * weighs it. It imports only the route tables of @veil/core, so reading it loads no handler code.
 *
 * A function's `name` is its one name: its folder (`src/<name>/handler.ts`, exporting `handler`), its
 * bundle (`dist/<flavour>/<name>/index.mjs`), its package export (`@veil/functions/<name>`), its
 * Lambda function and log group (`veil-<stage>-<name>`) and its Powertools service (`veil-<name>`).
 */
import { accountRoutes, imageRoutes, recordRoutes } from "@veil/core";

/**
 * What a handler may read as `Resource.<Name>`: the one list of link names. `linked(name)` of
 * functions/src/shared/resources.ts accepts exactly these (and `App`, which SST always adds, so it is
 * never listed); its types are checked against this list.
 */
export const linkNames = [
  "RecordsKey",
  "Database",
  "DatabaseMaster",
  "UserPool",
  "UserPoolClient",
  "FleKey",
  "IdempotencySecret",
  "FlePublicKey",
  "ImagesBucket",
  "InboxBucket",
  "RotationTarget",
] as const;

export type LinkName = (typeof linkNames)[number];

/** An API Gateway route (method and resource), as in the tables of @veil/core. */
export interface ApiRoute {
  readonly method: string;
  readonly resource: string;
}

/** What starts a function: API Gateway, an S3 notification, a schedule, or a deploy-time invocation. */
export type Trigger = "api" | "s3" | "schedule" | "deploy";

/** One Lambda function. */
export interface FunctionSpec<N extends string = string> {
  readonly name: N;
  /** The handler module, relative to functions/; it exports `handler`. */
  readonly entry: `src/${N}/handler.ts`;
  /** The Lambda function's description. */
  readonly description: string;
  readonly trigger: Trigger;
  /** The routes API Gateway sends to it (empty unless `trigger` is `api`). */
  readonly routes: readonly ApiRoute[];
  /** Exactly the linked resources it reads; anything else is not linked to it. */
  readonly links: readonly LinkName[];
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** Lambda response streaming (`awslambda.streamifyResponse`): API Gateway integrates it as `STREAM`. */
  readonly streaming: boolean;
  /** Attached to the private subnets: it talks to the database. */
  readonly vpc: boolean;
  /**
   * Runs in AWS even under `sst dev`, never on a laptop: the FLE key bootstrap (the private key must
   * not exist outside AWS), the database bootstrap and the API-key rotation.
   */
  readonly remoteOnly: boolean;
}

const fn = <N extends string>(name: N, spec: Omit<FunctionSpec<N>, "name" | "entry">): FunctionSpec<N> => ({
  name,
  entry: `src/${name}/handler.ts`,
  ...spec,
});

/** Every function, by name. */
export const manifest = {
  records: fn("records", {
    description: "Veil records API",
    trigger: "api",
    routes: recordRoutes,
    links: ["RecordsKey", "Database", "UserPool", "UserPoolClient", "FleKey", "IdempotencySecret"],
    memoryMb: 512,
    timeoutSeconds: 29,
    streaming: false,
    vpc: true,
    remoteOnly: false,
  }),
  "images-api": fn("images-api", {
    description: "Veil images API (upload URLs, list)",
    trigger: "api",
    routes: imageRoutes.filter((r) => r.transfer === "BUFFERED"),
    links: ["Database", "UserPool", "UserPoolClient", "FlePublicKey", "InboxBucket"],
    memoryMb: 512,
    timeoutSeconds: 29,
    streaming: false,
    vpc: true,
    remoteOnly: false,
  }),
  "images-download": fn("images-download", {
    description: "Veil image download (response streaming)",
    trigger: "api",
    routes: imageRoutes.filter((r) => r.transfer === "STREAM"),
    links: ["RecordsKey", "Database", "UserPool", "UserPoolClient", "ImagesBucket"],
    memoryMb: 512,
    // Long enough for 25 MiB at 2 MB/s; API Gateway's STREAM integration waits as long.
    timeoutSeconds: 120,
    streaming: true,
    vpc: true,
    remoteOnly: false,
  }),
  "images-ingest": fn("images-ingest", {
    description: "Veil image ingest",
    trigger: "s3",
    routes: [],
    links: ["RecordsKey", "Database", "FleKey", "ImagesBucket", "InboxBucket"],
    memoryMb: 1024,
    timeoutSeconds: 60,
    streaming: false,
    vpc: true,
    remoteOnly: false,
  }),
  "images-cleanup": fn("images-cleanup", {
    description: "Veil cleanup of erased records' stored images (scheduled)",
    trigger: "schedule",
    routes: [],
    links: ["Database", "ImagesBucket"],
    memoryMb: 512,
    timeoutSeconds: 300,
    streaming: false,
    vpc: true,
    remoteOnly: false,
  }),
  account: fn("account", {
    description: "Veil account API (erasure of the caller's data and user)",
    trigger: "api",
    routes: accountRoutes,
    // No RecordsKey, FleKey or IdempotencySecret: it decrypts nothing. The buckets for delete markers,
    // the user pool to verify the caller (DeleteUser is authorised by the caller's own token).
    links: ["Database", "UserPool", "UserPoolClient", "ImagesBucket", "InboxBucket"],
    memoryMb: 512,
    timeoutSeconds: 29,
    streaming: false,
    vpc: true,
    remoteOnly: false,
  }),
  "rotate-api-key": fn("rotate-api-key", {
    description: "Veil API key rotation (CloudFront origin header)",
    trigger: "schedule",
    routes: [],
    links: ["RotationTarget"],
    memoryMb: 512,
    timeoutSeconds: 900,
    streaming: false,
    vpc: false,
    remoteOnly: true,
  }),
  "fle-key-bootstrap": fn("fle-key-bootstrap", {
    description: "Veil FLE key-pair bootstrap (invoked at deploy time)",
    trigger: "deploy",
    routes: [],
    links: [],
    memoryMb: 512,
    timeoutSeconds: 30,
    streaming: false,
    vpc: false,
    remoteOnly: true,
  }),
  "db-bootstrap": fn("db-bootstrap", {
    description: "Veil database bootstrap (invoked at deploy time)",
    trigger: "deploy",
    routes: [],
    links: ["Database", "DatabaseMaster"],
    memoryMb: 512,
    timeoutSeconds: 300,
    streaming: false,
    vpc: true,
    remoteOnly: true,
  }),
} as const satisfies Record<string, FunctionSpec>;

export type FunctionName = keyof typeof manifest;

/** The names of every function, in manifest order. */
export const functionNames = Object.keys(manifest) as FunctionName[];

/**
 * The esbuild `define` of every deployed bundle (SST's `nodejs.esbuild.define` in infra/functions.ts,
 * and `functions/build.ts`): the test-only switches of the records function are compiled out.
 */
export const productionDefine = { __VEIL_TEST_SWITCHES__: "false" } as const;
