/**
 * The stage settings of the local stack: the same typed description of the stages as the infrastructure
 * (`infra/stage.ts`, plain data without Pulumi or SST globals), so local and AWS throttle alike.
 */
import { type StageConfig, type StageName, stageConfig } from "../../../../infra/stage.ts";

export type { StageConfig, StageName };

/** The stage whose settings the local stack applies unless told otherwise. */
export const defaultLocalStageSettings: StageName = "dev";

/**
 * Returns the settings of a named stage for the local stack.
 *
 * @example
 * localStageConfig("prod").api; // { rateLimit: 100, burstLimit: 200 }, as the prod usage plan
 */
export function localStageConfig(stage: StageName = defaultLocalStageSettings): StageConfig {
  return stageConfig(stage);
}

/** The usage plan's throttle of a stage, as API Gateway applies it per API key. */
export function usagePlanThrottle(settings: StageConfig): { rateLimit: number; burstLimit: number } {
  return { rateLimit: settings.api.rateLimit, burstLimit: settings.api.burstLimit };
}
