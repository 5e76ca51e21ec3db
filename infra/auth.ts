/**
 * Cognito user pool for the web app: e-mail as user name and verified, strong passwords, MFA (required
 * in prod, TOTP), threat protection enforced in prod, no user enumeration, SRP sign-in only.
 */
import type { Ctx } from "./context.ts";

export interface Auth {
  readonly userPool: aws.cognito.UserPool;
  readonly client: aws.cognito.UserPoolClient;
}

/** Creates the user pool and the web client. */
export function createAuth(ctx: Ctx): Auth {
  const p = { provider: ctx.home };
  const prod = ctx.stage.threatProtection;
  const userPool = new aws.cognito.UserPool(
    "UserPool",
    {
      name: ctx.name("users"),
      usernameAttributes: ["email"],
      autoVerifiedAttributes: ["email"],
      usernameConfiguration: { caseSensitive: false },
      userAttributeUpdateSettings: { attributesRequireVerificationBeforeUpdates: ["email"] },
      passwordPolicy: {
        minimumLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireNumbers: true,
        requireSymbols: true,
        temporaryPasswordValidityDays: 1,
        passwordHistorySize: prod ? 12 : undefined,
      },
      mfaConfiguration: ctx.stage.mfa,
      softwareTokenMfaConfiguration: { enabled: true },
      accountRecoverySetting: { recoveryMechanisms: [{ name: "verified_email", priority: 1 }] },
      verificationMessageTemplate: { defaultEmailOption: "CONFIRM_WITH_CODE" },
      adminCreateUserConfig: { allowAdminCreateUserOnly: false },
      userPoolTier: prod ? "PLUS" : "ESSENTIALS",
      userPoolAddOns: { advancedSecurityMode: prod ? "ENFORCED" : "OFF" },
      deletionProtection: ctx.stage.protect ? "ACTIVE" : "INACTIVE",
    },
    { ...p, ...ctx.keep },
  );
  const client = new aws.cognito.UserPoolClient(
    "WebClient",
    {
      name: ctx.name("web"),
      userPoolId: userPool.id,
      generateSecret: false,
      explicitAuthFlows: ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
      preventUserExistenceErrors: "ENABLED",
      // With revocation on, access tokens carry origin_jti: the sign-in session DPoP proof keys bind to.
      enableTokenRevocation: true,
      accessTokenValidity: 15,
      idTokenValidity: 15,
      refreshTokenValidity: 12,
      tokenValidityUnits: { accessToken: "minutes", idToken: "minutes", refreshToken: "hours" },
    },
    p,
  );
  return { userPool, client };
}
