/**
 * The one error type of the infrastructure code: a mistake of whoever deploys (an unknown stage, a
 * missing setting). The SST CLI prints errors named `VisibleError` as a plain message, without a stack
 * trace, like its own.
 */
export class VisibleError extends Error {
  override readonly name = "VisibleError";
}
