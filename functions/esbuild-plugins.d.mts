import type { Plugin } from "esbuild";

/** The esbuild plugins of every Lambda bundle (see esbuild-plugins.mjs). */
declare const plugins: Plugin[];
export default plugins;
