/// <reference path="./.sst/platform/config.d.ts" />

/**
 * Composes the modules of infra/ into one stage. Each module owns one concern and its controls; this
 * file only passes outputs from one to the next. The stage settings come from infra/stage.ts.
 * SST forbids top-level imports here, hence the dynamic imports.
 */
export default $config({
  async app(input) {
    const { stageConfig, homeRegion } = await import("./infra/stage.ts");
    const stage = stageConfig(input.stage, process.env);
    return {
      name: "veil",
      home: "aws",
      removal: stage.removal,
      protect: stage.protect,
      providers: { aws: { region: homeRegion, version: "7.20.0" } },
    };
  },
  async run() {
    const { assertDevStage, stageConfig } = await import("./infra/stage.ts");
    assertDevStage($app.stage, $dev);
    const { createContext } = await import("./infra/context.ts");
    const ctx = createContext(stageConfig($app.stage, process.env), $app.stage, process.env);

    if ($app.stage === "governance") {
      const { createGovernance } = await import("./infra/governance.ts");
      createGovernance({
        repository: process.env.VEIL_GITHUB_REPOSITORY ?? "veil-health/veil",
        scpTargetId: process.env.VEIL_SCP_TARGET_ID,
        provider: ctx.home,
      });
      return {};
    }

    const { createFunctionRoles } = await import("./infra/roles.ts");
    const { createKeys } = await import("./infra/kms.ts");
    const { createNetwork } = await import("./infra/network.ts");
    const { createDatabase } = await import("./infra/database.ts");
    const { createRdsProxy } = await import("./infra/rds-proxy.ts");
    const { createAuth } = await import("./infra/auth.ts");
    const { createStorage, allowAccessLogDelivery } = await import("./infra/storage.ts");
    const { createFleSecret, createFle } = await import("./infra/fle.ts");
    const { createIdempotencySecret } = await import("./infra/idempotency.ts");
    const { createLinks, createFlePublicKeyLink } = await import("./infra/links.ts");
    const { createHandler } = await import("./infra/functions.ts");
    const { manifest } = await import("./functions/manifest.ts");
    const { grantAccountAccess, grantDataAccess, grantImageAccess, connectInbox } = await import(
      "./infra/grants.ts"
    );
    const { scheduleImageCleanup } = await import("./infra/image-cleanup.ts");
    const { createApi } = await import("./infra/api.ts");
    const { createEdge, edgeRoleArn } = await import("./infra/edge.ts");
    const { createCdn } = await import("./infra/cdn.ts");
    const { apiKeyStageTag, createRotation, rotationKeyTags } = await import("./infra/rotation.ts");
    const { createObservability } = await import("./infra/observability.ts");
    const { createDbBootstrap } = await import("./infra/db-bootstrap.ts");
    const { createAccountBaseline, macieServiceRoleArn } = await import("./infra/baseline.ts");

    const roles = createFunctionRoles(ctx);
    // The account baseline's Macie job reads the data buckets (ciphertext only): admitted when on.
    const scanners = ctx.stage.accountBaseline ? [macieServiceRoleArn(ctx.accountId)] : [];
    const keys = createKeys(ctx, {
      roles,
      keyAdminRoleArn: process.env.VEIL_KEY_ADMIN_ROLE_ARN,
      imageScannerRoleArn: scanners[0],
    });
    const logsKeyArn = keys.logsKey.arn;
    const network = createNetwork(ctx);
    const db = createDatabase(ctx, { network, dataKeyArn: keys.dataKey.arn });
    const dbProxy = createRdsProxy(ctx, { network, instance: db.instance });
    const auth = createAuth(ctx);
    const storage = createStorage(ctx, {
      dataKeyArn: keys.dataKey.arn,
      allowedRoleArns: {
        images: [
          roles.ingest.arn,
          roles.imagesDownload.arn,
          roles.imagesCleanup.arn,
          roles.account.arn,
          ...scanners,
        ],
        inbox: [roles.imagesApi.arn, roles.ingest.arn, roles.account.arn, ...scanners],
      },
      webOrigin: `https://${ctx.stage.domain}`,
    });
    const fleSecret = createFleSecret(ctx, {
      dataKeyArn: keys.dataKey.arn,
      readerRoleArns: [roles.api.arn, roles.ingest.arn],
      writerRoleArn: roles.fleBootstrap.arn,
      adminRoleArn: keys.keyAdminRoleArn,
    });
    const idempotency = createIdempotencySecret(ctx, {
      dataKeyArn: keys.dataKey.arn,
      recordsRole: roles.api,
      adminRoleArn: keys.keyAdminRoleArn,
    });
    const links = createLinks({
      dataKeyArn: keys.dataKey.arn,
      dbHost: dbProxy.endpoint,
      userPoolId: auth.userPool.id,
      userPoolClientId: auth.client.id,
      fleSecretArn: fleSecret.secret.arn,
      imagesBucket: storage.images.name,
      inboxBucket: storage.inbox.name,
    });

    // By link name: each function gets exactly the links its manifest entry lists.
    const linked = {
      RecordsKey: links.recordsKey,
      Database: links.database,
      UserPool: links.userPool,
      UserPoolClient: links.userPoolClient,
      FleKey: links.fleKey,
      IdempotencySecret: idempotency.link,
      ImagesBucket: links.images,
      InboxBucket: links.inbox,
    };
    const api = createHandler(ctx, manifest.records, { role: roles.api, logsKeyArn, network, links: linked });
    const ingest = createHandler(ctx, manifest["images-ingest"], {
      role: roles.ingest,
      logsKeyArn,
      network,
      links: linked,
    });
    const fleBootstrap = createHandler(ctx, manifest["fle-key-bootstrap"], {
      role: roles.fleBootstrap,
      logsKeyArn,
    });
    const dataPolicies = grantDataAccess(ctx, {
      roles,
      dataKeyArn: keys.dataKey.arn,
      imagesArn: storage.images.arn,
      inboxArn: storage.inbox.arn,
      dbConnectArn: dbProxy.connectArn,
      fleSecretArn: fleSecret.secret.arn,
      logGroups: {
        api: api.logGroup.arn,
        ingest: ingest.logGroup.arn,
        fleBootstrap: fleBootstrap.logGroup.arn,
      },
    });
    // Whatever makes a function run against the database (API stage, inbox notification, cleanup
    // schedule) waits for this invocation: the schema and `veil_app` exist before the first request.
    const dbBootstrap = createDbBootstrap(ctx, {
      network,
      logsKeyArn,
      instance: db.instance,
      masterSecretArn: db.masterSecretArn,
      databaseLink: links.database,
    });
    // ... and the proxy's target: the functions reach the database through the proxy only.
    const dbReady = [dbBootstrap.invocation, dbProxy.target];
    const inboxWiring = connectInbox(ctx, {
      inboxId: storage.inbox.bucket.id,
      inboxArn: storage.inbox.arn,
      functionName: ingest.functionName,
      functionArn: ingest.fn.arn,
      role: roles.ingest,
      dependsOn: dbReady,
    });
    const fle = createFle(ctx, {
      bootstrapFunctionName: fleBootstrap.functionName,
      secretArn: fleSecret.secret.arn,
      dependsOn: dataPolicies,
    });

    const imagesApi = createHandler(ctx, manifest["images-api"], {
      role: roles.imagesApi,
      logsKeyArn,
      network,
      links: {
        ...linked,
        FlePublicKey: createFlePublicKeyLink({ pem: fle.publicKey.encodedKey, keyName: fle.keyName }),
      },
    });
    const imagesDownload = createHandler(ctx, manifest["images-download"], {
      role: roles.imagesDownload,
      logsKeyArn,
      network,
      links: linked,
    });
    const imagesCleanup = createHandler(ctx, manifest["images-cleanup"], {
      role: roles.imagesCleanup,
      logsKeyArn,
      network,
      links: linked,
    });
    scheduleImageCleanup(ctx, { handler: imagesCleanup, dependsOn: dbReady });
    grantImageAccess(ctx, {
      roles,
      dataKeyArn: keys.dataKey.arn,
      imagesArn: storage.images.arn,
      inboxArn: storage.inbox.arn,
      dbConnectArn: dbProxy.connectArn,
      logGroups: {
        imagesApi: imagesApi.logGroup.arn,
        imagesDownload: imagesDownload.logGroup.arn,
        imagesCleanup: imagesCleanup.logGroup.arn,
      },
    });

    const account = createHandler(ctx, manifest.account, {
      role: roles.account,
      logsKeyArn,
      network,
      links: linked,
    });
    grantAccountAccess(ctx, {
      role: roles.account,
      imagesArn: storage.images.arn,
      inboxArn: storage.inbox.arn,
      dbConnectArn: dbProxy.connectArn,
      logGroupArn: account.logGroup.arn,
    });

    const restApi = createApi(ctx, {
      records: { functionArn: api.fn.arn, functionName: api.functionName },
      images: { functionArn: imagesApi.fn.arn, functionName: imagesApi.functionName },
      imageDownload: {
        functionArn: imagesDownload.fn.arn,
        functionName: imagesDownload.functionName,
        timeoutSeconds: manifest["images-download"].timeoutSeconds,
      },
      account: { functionArn: account.fn.arn, functionName: account.functionName },
      logsKeyArn,
      callerRoleArn: edgeRoleArn(ctx),
      dependsOn: dbReady,
    });
    const edge = createEdge(ctx, {
      apiHost: restApi.host,
      apiInvokeArn: restApi.invokeArn,
      keyAdminRoleArn: keys.keyAdminRoleArn,
    });
    const apiKeyNamePrefix = ctx.name("cloudfront-");
    const cdn = createCdn(ctx, {
      apiHost: restApi.host,
      apiKeys: { keyNamePrefix: apiKeyNamePrefix, stageTag: apiKeyStageTag },
      apiStageName: restApi.stageName,
      edgeQualifiedArn: edge.qualifiedArn,
      fleConfigId: fle.config.id,
      connectSrc: [
        `https://cognito-idp.${ctx.homeRegion}.amazonaws.com`,
        // Presigned upload PUTs only; images come back through the API.
        $interpolate`https://${storage.inbox.name}.s3.${ctx.homeRegion}.amazonaws.com`,
      ],
      runtimeConfig: {
        userPoolId: auth.userPool.id,
        userPoolClientId: auth.client.id,
        inboxBucket: storage.inbox.name,
        uploadPublicKeyPem: fle.publicKey.encodedKey,
      },
    });

    const rotationTarget = new sst.Linkable("RotationTarget", {
      properties: {
        usagePlanId: restApi.usagePlan.id,
        distributionId: cdn.distribution.id,
        originId: "api",
        keyNamePrefix: apiKeyNamePrefix,
        keyTags: rotationKeyTags(ctx),
      },
    });
    const rotate = createHandler(ctx, manifest["rotate-api-key"], {
      role: roles.rotate,
      logsKeyArn,
      links: { RotationTarget: rotationTarget },
    });
    createRotation(ctx, {
      handler: rotate,
      role: roles.rotate,
      usagePlanId: restApi.usagePlan.id,
      distributionArn: cdn.distribution.arn,
      distributionId: cdn.distribution.id,
      webAclArn: cdn.webAcl.arn,
      edgeFunctionArn: edge.fn.arn,
      logGroupArn: rotate.logGroup.arn,
    });
    const observability = createObservability(ctx, {
      logsKeyArn,
      accessLogBucketId: storage.accessLogs.id,
      dataBucketArns: [storage.images.arn, storage.inbox.arn],
      dataKeyArn: keys.dataKey.arn,
      apiName: restApi.restApi.name,
      apiStageName: restApi.stageName,
      functionNames: [
        api.functionName,
        imagesApi.functionName,
        imagesDownload.functionName,
        ingest.functionName,
        imagesCleanup.functionName,
        account.functionName,
      ],
      failingFunctionNames: [imagesCleanup.functionName],
      failureQueueNames: [inboxWiring.failures.name],
    });
    createAccountBaseline(ctx, {
      alarmTopicArn: observability.topic.arn,
      scannedBucketNames: [storage.images.name, storage.inbox.name],
      vpcFunctionNames: [
        api.functionName,
        ingest.functionName,
        imagesApi.functionName,
        imagesDownload.functionName,
        imagesCleanup.functionName,
        account.functionName,
        dbBootstrap.handler.functionName,
      ],
      accessLogBucketId: storage.accessLogs.id,
    });
    allowAccessLogDelivery(ctx, storage.accessLogs, [
      storage.images.arn,
      storage.inbox.arn,
      observability.logArchive.arn,
    ]);

    return {
      url: cdn.url,
      apiHost: restApi.host,
      apiStage: restApi.stageName,
      distributionId: cdn.distribution.id,
      region: ctx.homeRegion,
      userPoolId: auth.userPool.id,
      userPoolClientId: auth.client.id,
    };
  },
});
