import type { Plugin } from "esbuild";

/** The SDK version the replacements are tested against. */
export declare const verifiedSdkVersion: string;
/** SDK package → its module name → replacement file (in `src/sdk-modules/`). */
export declare const sdkModuleReplacements: Readonly<Record<string, Readonly<Record<string, string>>>>;
/** Swaps the Encryption SDK's big-number modules for the replacements in `src/sdk-modules/`. */
export declare function slimEncryptionSdk(options?: { replacementsDir?: string }): Plugin;
