/* Hand-written: SST generates this file only on a real deploy or `sst dev`. Keep it in step with
   infra/links.ts (the link names and properties) and functions/src/shared/resources.ts. */
/* eslint-disable */
/* biome-ignore-all lint: declaration file */
import "sst";
declare module "sst" {
  export interface Resource {
    RecordsKey: { type: "sst.sst.Linkable"; arn: string };
    Database: { type: "sst.sst.Linkable"; host: string; port: number; username: string; database: string };
    UserPool: { type: "sst.sst.Linkable"; id: string };
    UserPoolClient: { type: "sst.sst.Linkable"; id: string };
    FleKey: { type: "sst.sst.Linkable"; secretArn: string; providerId: string };
    IdempotencySecret: { type: "sst.sst.Linkable"; secretArn: string };
    DatabaseMaster: { type: "sst.sst.Linkable"; secretArn: string; host: string };
    ImagesBucket: { type: "sst.sst.Linkable"; name: string };
    InboxBucket: { type: "sst.sst.Linkable"; name: string };
    FlePublicKey: { type: "sst.sst.Linkable"; pem: string; keyName: string; providerId: string };
    RotationTarget: {
      type: "sst.sst.Linkable";
      usagePlanId: string;
      distributionId: string;
      originId: string;
      keyNamePrefix: string;
    };
  }
}
export {};
