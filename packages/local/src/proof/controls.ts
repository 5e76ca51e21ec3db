/**
 * The security controls of the request path that a test may switch off, one at a time, to show that the
 * matching security test then fails ("tests with teeth"). Local components take the switch as an option;
 * the records function reads it from its own environment, behind a build-time constant that only the
 * test flavour of its bundle defines true (production bundles: false; functions/src/records/
 * test-switches.ts). The local stack refuses every switch outside a test run.
 */
import {
  disableControlEnv,
  type HandlerControl,
  handlerControls,
  logProbeEnv,
  proofControls,
} from "@veil/functions/test-switches";
import type { GatewayCheck } from "../gateway/index.ts";
import type { PolicyDocument } from "../kms/policy.ts";

const gatewayChecks = [
  "apiKey",
  "sigv4",
  "signatureFreshness",
  "principalAllowList",
] as const satisfies readonly GatewayCheck[];
const edgeControls = ["fle", "securityHeaders"] as const;

/** Every control a test can switch off, where it lives, in request order. */
export const controlNames = [
  ...edgeControls,
  ...gatewayChecks,
  ...proofControls,
  ...handlerControls,
  "kmsKeyPolicy",
] as const;
/** The controls the records function itself switches off (from its environment). */
const functionControls: readonly string[] = [...proofControls, ...handlerControls];
export type ControlName = (typeof controlNames)[number];

/** Test-only options of `startLocalStack`. */
export interface StackTestOptions {
  /** The one control to switch off. */
  readonly disableControl?: ControlName;
  /** The records function logs each decrypted input (a careless debug line) so log redaction is exercised. */
  readonly logProbe?: boolean;
  /**
   * Put something (a recording or faulty proxy) between the local CloudFront and the gateway: gets the
   * gateway's port, returns the port CloudFront should send to.
   */
  readonly originPort?: (gatewayPort: number) => Promise<number>;
  /** The gateway's handler time limit (API Gateway: 29 s), shorter so a timeout test stays quick. */
  readonly gatewayTimeoutMs?: number;
}

/** Thrown when test-only switches are asked for outside a test run. */
export class TestSwitchRefusedError extends Error {
  override readonly name = "TestSwitchRefusedError";
}

/** True inside a Vitest run (or with NODE_ENV=test). */
export function isTestRun(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.VITEST === "true" || env.NODE_ENV === "test";
}

/** A key policy with every statement removed but "anyone may do anything": what `kmsKeyPolicy` off means. */
const openKeyPolicy: PolicyDocument = {
  Version: "2012-10-17",
  Id: "test-only-open-key-policy",
  Statement: [{ Sid: "Anyone", Effect: "Allow", Principal: { AWS: "*" }, Action: "kms:*", Resource: "*" }],
};

/** What the stack does differently for the given test options. */
export interface TestStackSettings {
  readonly gatewayChecksOff: GatewayCheck[];
  readonly fleOff: boolean;
  readonly securityHeadersOff: boolean;
  readonly keyPolicy?: PolicyDocument;
  readonly functionEnv: Record<string, string>;
  readonly originPort?: (gatewayPort: number) => Promise<number>;
  readonly gatewayTimeoutMs?: number;
}

/**
 * Checks and interprets test options. Throws `TestSwitchRefusedError` when any is given outside a test
 * run, so `pnpm dev` or a script can never start a stack with a control off.
 */
export function testStackSettings(test: StackTestOptions | undefined, env = process.env): TestStackSettings {
  const off = test?.disableControl;
  const asked = off !== undefined || test?.logProbe || test?.originPort || test?.gatewayTimeoutMs;
  if (asked && !isTestRun(env)) {
    throw new TestSwitchRefusedError("test-only stack options are refused outside a test run");
  }
  if (off !== undefined && !(controlNames as readonly string[]).includes(off)) {
    throw new TestSwitchRefusedError(`unknown control ${String(off).slice(0, 40)}`);
  }
  const functionEnv: Record<string, string> = {};
  if (off && functionControls.includes(off)) functionEnv[disableControlEnv] = off;
  if (test?.logProbe) functionEnv[logProbeEnv] = "1";
  return {
    gatewayChecksOff: (gatewayChecks as readonly string[]).includes(off ?? "") ? [off as GatewayCheck] : [],
    fleOff: off === "fle",
    securityHeadersOff: off === "securityHeaders",
    ...(off === "kmsKeyPolicy" ? { keyPolicy: openKeyPolicy } : {}),
    functionEnv,
    ...(test?.originPort ? { originPort: test.originPort } : {}),
    ...(test?.gatewayTimeoutMs ? { gatewayTimeoutMs: test.gatewayTimeoutMs } : {}),
  };
}

export type { HandlerControl };
