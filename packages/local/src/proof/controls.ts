/** The proof tests' name for the stack's test switches, which live with the stack (`stack/test-switches.ts`). */
export * from "../stack/test-switches.ts";
