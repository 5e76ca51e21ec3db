/**
 * The Cognito user pool and web client (auth.ts) on each shared stage.
 */
import { proofOfPossession } from "@veil/core";
import { beforeAll, describe, expect, it } from "vitest";
import { type SharedStack, sharedStack, sharedStages } from "./stages.ts";

for (const stageName of sharedStages) {
  let s: SharedStack;
  beforeAll(async () => {
    s = await sharedStack(stageName);
  }, 120_000);

  describe(`${stageName}: Cognito`, () => {
    it("enforces strong passwords, MFA, e-mail verification and (prod) threat protection", () => {
      const pool = s.get("aws:cognito/userPool:UserPool", "UserPool").inputs;
      expect(pool.passwordPolicy.minimumLength).toBeGreaterThanOrEqual(12);
      expect(pool.passwordPolicy).toMatchObject({
        requireLowercase: true,
        requireUppercase: true,
        requireNumbers: true,
        requireSymbols: true,
      });
      expect(pool.mfaConfiguration).toBe(stageName === "prod" ? "ON" : "OPTIONAL");
      expect(pool.softwareTokenMfaConfiguration.enabled).toBe(true);
      expect(pool.autoVerifiedAttributes).toEqual(["email"]);
      expect(pool.userPoolAddOns.advancedSecurityMode).toBe(stageName === "prod" ? "ENFORCED" : "OFF");
      const client = s.get("aws:cognito/userPoolClient:UserPoolClient", "WebClient").inputs;
      expect(client.generateSecret).toBe(false);
      expect(client.preventUserExistenceErrors).toBe("ENABLED");
      expect(client.explicitAuthFlows).not.toContain("ALLOW_USER_PASSWORD_AUTH");
    });

    it("enables token revocation: access tokens then carry origin_jti, which DPoP proof keys bind to", () => {
      const client = s.get("aws:cognito/userPoolClient:UserPoolClient", "WebClient").inputs;
      expect(client.enableTokenRevocation).toBe(true);
    });

    it("issues access tokens that expire before an account erasure's revocation markers are purged", () => {
      const client = s.get("aws:cognito/userPoolClient:UserPoolClient", "WebClient").inputs;
      const unit = { seconds: 1, minutes: 60, hours: 3600, days: 86_400 }[
        String(client.tokenValidityUnits?.accessToken ?? "hours") as "seconds"
      ];
      // Longer-lived tokens would verify after their session's marker went, and could bind again.
      expect(Number(client.accessTokenValidity) * unit).toBeLessThan(proofOfPossession.revocationSeconds);
    });
  });
}
