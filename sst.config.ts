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
    const { stageConfig } = await import("./infra/stage.ts");
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
    const { createAuth } = await import("./infra/auth.ts");
    const { createStorage } = await import("./infra/storage.ts");
    const { createFleSecret, createFle } = await import("./infra/fle.ts");
    const { createIdempotencySecret } = await import("./infra/idempotency.ts");
    const { createLinks, createFlePublicKeyLink } = await import("./infra/links.ts");
    const { createHandler, handlers } = await import("./infra/functions.ts");
    const { grantDataAccess, grantImageAccess, connectInbox } = await import("./infra/grants.ts");
    const { scheduleImageCleanup } = await import("./infra/image-cleanup.ts");
    const { createApi } = await import("./infra/api.ts");
    const { createEdge, edgeRoleArn } = await import("./infra/edge.ts");
    const { createCdn } = await import("./infra/cdn.ts");
    const { createRotation } = await import("./infra/rotation.ts");
    const { createObservability } = await import("./infra/observability.ts");
    const { createDbBootstrap } = await import("./infra/db-bootstrap.ts");

    const roles = createFunctionRoles(ctx);
    const keys = createKeys(ctx, { roles, keyAdminRoleArn: process.env.VEIL_KEY_ADMIN_ROLE_ARN });
    const logsKeyArn = keys.logsKey.arn;
    const network = createNetwork(ctx);
    const db = createDatabase(ctx, { network, dataKeyArn: keys.dataKey.arn });
    const auth = createAuth(ctx);
    const storage = createStorage(ctx, {
      dataKeyArn: keys.dataKey.arn,
      allowedRoleArns: {
        images: [roles.ingest.arn, roles.imagesDownload.arn, roles.imagesCleanup.arn],
        inbox: [roles.imagesApi.arn, roles.ingest.arn],
      },
      webOrigin: `https://${ctx.stage.domain}`,
    });
    const fleSecret = createFleSecret(ctx, {
      dataKeyArn: keys.dataKey.arn,
      readerRoleArns: [roles.api.arn, roles.ingest.arn],
      writerRoleArn: roles.fleBootstrap.arn,
    });
    const idempotency = createIdempotencySecret(ctx, {
      dataKeyArn: keys.dataKey.arn,
      recordsRole: roles.api,
    });
    const links = createLinks({
      dataKeyArn: keys.dataKey.arn,
      dbHost: db.instance.address,
      userPoolId: auth.userPool.id,
      userPoolClientId: auth.client.id,
      fleSecretArn: fleSecret.secret.arn,
      imagesBucket: storage.images.name,
      inboxBucket: storage.inbox.name,
    });

    const api = createHandler(ctx, "Api", {
      description: "Veil records API",
      handler: handlers.api,
      role: roles.api,
      logsKeyArn,
      network,
      timeoutSeconds: 29,
      link: [
        links.recordsKey,
        links.database,
        links.userPool,
        links.userPoolClient,
        links.fleKey,
        idempotency.link,
      ],
    });
    const ingest = createHandler(ctx, "Ingest", {
      description: "Veil image ingest",
      handler: handlers.ingest,
      role: roles.ingest,
      logsKeyArn,
      network,
      timeoutSeconds: 60,
      memoryMb: 1024,
      link: [links.recordsKey, links.database, links.fleKey, links.images, links.inbox],
    });
    const fleBootstrap = createHandler(ctx, "FleKeyBootstrap", {
      description: "Veil FLE key-pair bootstrap (invoked at deploy time)",
      handler: handlers.fleKeyBootstrap,
      live: false,
      role: roles.fleBootstrap,
      logsKeyArn,
      timeoutSeconds: 30,
    });
    const dataPolicies = grantDataAccess(ctx, {
      roles,
      dataKeyArn: keys.dataKey.arn,
      imagesArn: storage.images.arn,
      inboxArn: storage.inbox.arn,
      dbConnectArn: db.connectArn,
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
    const inboxWiring = connectInbox(ctx, {
      inboxId: storage.inbox.bucket.id,
      inboxArn: storage.inbox.arn,
      functionName: ingest.functionName,
      functionArn: ingest.fn.arn,
      role: roles.ingest,
      dependsOn: [dbBootstrap.invocation],
    });
    const fle = createFle(ctx, {
      bootstrapFunctionName: fleBootstrap.functionName,
      secretArn: fleSecret.secret.arn,
      dependsOn: dataPolicies,
    });

    const imagesApi = createHandler(ctx, "ImagesApi", {
      description: "Veil images API (upload URLs, list)",
      handler: handlers.imagesApi,
      role: roles.imagesApi,
      logsKeyArn,
      network,
      timeoutSeconds: 29,
      link: [
        links.database,
        links.userPool,
        links.userPoolClient,
        createFlePublicKeyLink({ pem: fle.publicKey.encodedKey, keyName: fle.keyName }),
        links.inbox,
      ],
    });
    const imageDownloadTimeoutSeconds = 120;
    const imagesDownload = createHandler(ctx, "ImagesDownload", {
      description: "Veil image download (response streaming)",
      handler: handlers.imagesDownload,
      role: roles.imagesDownload,
      logsKeyArn,
      network,
      timeoutSeconds: imageDownloadTimeoutSeconds,
      streaming: true,
      link: [links.recordsKey, links.database, links.userPool, links.userPoolClient, links.images],
    });
    const imagesCleanup = createHandler(ctx, "ImagesCleanup", {
      description: "Veil cleanup of erased records' stored images (scheduled)",
      handler: handlers.imagesCleanup,
      role: roles.imagesCleanup,
      logsKeyArn,
      network,
      timeoutSeconds: 300,
      link: [links.database, links.images],
    });
    scheduleImageCleanup(ctx, { handler: imagesCleanup, dependsOn: [dbBootstrap.invocation] });
    grantImageAccess(ctx, {
      roles,
      dataKeyArn: keys.dataKey.arn,
      imagesArn: storage.images.arn,
      inboxArn: storage.inbox.arn,
      dbConnectArn: db.connectArn,
      logGroups: {
        imagesApi: imagesApi.logGroup.arn,
        imagesDownload: imagesDownload.logGroup.arn,
        imagesCleanup: imagesCleanup.logGroup.arn,
      },
    });

    const restApi = createApi(ctx, {
      records: { functionArn: api.fn.arn, functionName: api.functionName },
      images: { functionArn: imagesApi.fn.arn, functionName: imagesApi.functionName },
      imageDownload: {
        functionArn: imagesDownload.fn.arn,
        functionName: imagesDownload.functionName,
        timeoutSeconds: imageDownloadTimeoutSeconds,
      },
      logsKeyArn,
      callerRoleArn: edgeRoleArn(ctx),
      dependsOn: [dbBootstrap.invocation],
    });
    const edge = createEdge(ctx, { apiHost: restApi.host, apiInvokeArn: restApi.invokeArn });
    const cdn = createCdn(ctx, {
      apiHost: restApi.host,
      apiStageName: restApi.stageName,
      edgeQualifiedArn: edge.qualifiedArn,
      fleConfigId: fle.config.id,
      connectSrc: [
        `https://cognito-idp.${ctx.homeRegion}.amazonaws.com`,
        // Presigned upload PUTs only; images come back through the API.
        $interpolate`https://${storage.inbox.name}.s3.${ctx.homeRegion}.amazonaws.com`,
      ],
    });

    const rotationTarget = new sst.Linkable("RotationTarget", {
      properties: {
        usagePlanId: restApi.usagePlan.id,
        distributionId: cdn.distribution.id,
        originId: "api",
        keyNamePrefix: ctx.name("cloudfront-"),
      },
    });
    const rotate = createHandler(ctx, "RotateApiKey", {
      description: "Veil API key rotation (CloudFront origin header)",
      handler: handlers.rotateApiKey,
      live: false,
      role: roles.rotate,
      logsKeyArn,
      timeoutSeconds: 900,
      link: [rotationTarget],
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
    createObservability(ctx, {
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
      ],
      failingFunctionNames: [imagesCleanup.functionName],
      failureQueueNames: [inboxWiring.failures.name],
    });

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
