/**
 * What the handlers read at run time, as SST links (`Resource.<Name>` in functions/src/shared/
 * resources.ts; types in sst-env.d.ts). Links carry names and identifiers only; permissions are granted
 * by grants.ts and rotation.ts on the roles made for each function, not by SST.
 */
import { appDbUser, dbName, dbPort } from "./database.ts";
import { fleProviderId } from "./fle.ts";

export interface LinkInputs {
  readonly dataKeyArn: $util.Input<string>;
  readonly dbHost: $util.Input<string>;
  readonly userPoolId: $util.Input<string>;
  readonly userPoolClientId: $util.Input<string>;
  readonly fleSecretArn: $util.Input<string>;
  readonly imagesBucket: $util.Input<string>;
  readonly inboxBucket: $util.Input<string>;
}

/** Creates the linkables of the data handlers. */
export function createLinks(i: LinkInputs) {
  return {
    recordsKey: new sst.Linkable("RecordsKey", { properties: { arn: i.dataKeyArn } }),
    database: new sst.Linkable("Database", {
      properties: { host: i.dbHost, port: dbPort, username: appDbUser, database: dbName },
    }),
    userPool: new sst.Linkable("UserPool", { properties: { id: i.userPoolId } }),
    userPoolClient: new sst.Linkable("UserPoolClient", { properties: { id: i.userPoolClientId } }),
    fleKey: new sst.Linkable("FleKey", {
      properties: { secretArn: i.fleSecretArn, providerId: fleProviderId },
    }),
    images: new sst.Linkable("ImagesBucket", { properties: { name: i.imagesBucket } }),
    inbox: new sst.Linkable("InboxBucket", { properties: { name: i.inboxBucket } }),
  };
}

/**
 * `FlePublicKey`: the public half of the FLE key pair as registered with CloudFront, for the images
 * API to hand to browsers (they encrypt uploads under it; functions/src/shared/resources.ts). The key
 * name is the one the bootstrap stored with the private key, which the ingest matches.
 */
export function createFlePublicKeyLink(i: { pem: $util.Input<string>; keyName: $util.Input<string> }) {
  return new sst.Linkable("FlePublicKey", {
    properties: { pem: i.pem, keyName: i.keyName, providerId: fleProviderId },
  });
}
