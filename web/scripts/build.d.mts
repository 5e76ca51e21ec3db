export interface WebBuildResult {
  readonly built: boolean;
  readonly ms: number;
  readonly outDir: string;
}
/** Builds the web app into `outDir` (default web/dist) unless it is already built from the current inputs. */
export function ensureWebBuilt(options?: {
  force?: boolean;
  outDir?: string;
  quiet?: boolean;
}): Promise<WebBuildResult>;
export function isFresh(outDir?: string): boolean;
export function inputsHash(): string;
