/**
 * The esbuild plugins of every Lambda bundle. SST loads this file (`nodejs.plugins` in
 * infra/functions.ts, a path relative to sst.config.ts) and `functions/build.ts` uses the same list,
 * so the bench and the bundle budget test measure what is deployed.
 *
 * - `slimPg`: two parts of `pg` a Lambda function never runs, left out (~13 KB; see below).
 */
const namespace = "veil-slim-pg";

/** What the two `pg` modules are replaced with, by the specifier `pg` requires them with. */
const pgStubs = {
  // pg's binding to libpq (`pg.native`, or every client with NODE_PG_FORCE_NATIVE). It requires
  // `pg-native`, which is never installed in a function package (external, like SST does), so the
  // original fails with MODULE_NOT_FOUND as soon as it is loaded — and so does this stub; pg turns
  // that into `pg.native === null`.
  "./native": `const err = new Error("Cannot find module 'pg-native' (not bundled: functions use pg's JavaScript client)");
err.code = "MODULE_NOT_FOUND";
throw err;`,
  // pgpass reads a password from ~/.pgpass (or PGPASSFILE) when a client has none. Every client of
  // @veil/db has one (an RDS IAM token function, or the local database URL), and a function's
  // package holds no .pgpass file: the original then answers "no password", as this stub always does.
  pgpass: `module.exports = function pgPass(connInfo, cb) { process.nextTick(cb, undefined); };
module.exports.warnTo = function warnTo() {};`,
};

/** Leaves `pg`'s native binding and its ~/.pgpass reader (with split2) out of the bundle. */
export function slimPg() {
  return {
    name: namespace,
    setup(build) {
      build.onResolve({ filter: /^(\.\/native|pgpass)$/ }, (args) =>
        /[\\/]node_modules[\\/]pg[\\/]lib[\\/](index|client)\.js$/.test(args.importer)
          ? { path: args.path, namespace }
          : undefined,
      );
      build.onLoad({ filter: /.*/, namespace }, (args) => ({ contents: pgStubs[args.path], loader: "js" }));
    },
  };
}

export default [slimPg()];
