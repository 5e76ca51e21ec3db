import type { Plugin } from "esbuild";

/** Leaves `pg`'s native binding and its ~/.pgpass reader out of the bundle. */
export declare function slimPg(): Plugin;
/** The esbuild plugins of every Lambda bundle (see esbuild-plugins.mjs). */
declare const plugins: Plugin[];
export default plugins;
