import { describe, expect, it } from "vitest";
import { amplifyConfig, ConfigError, parseRuntimeConfig } from "./config.ts";

const local = {
  region: "eu-central-2",
  stage: "local",
  cognito: {
    userPoolId: "eu-central-2_AbC123",
    userPoolClientId: "client",
    endpoint: "http://127.0.0.1:4513",
    authFlow: "USER_PASSWORD_AUTH",
  },
};

describe("runtime config", () => {
  it("points Amplify at the local Cognito endpoint with e-mail sign-in", () => {
    const cognito = amplifyConfig(parseRuntimeConfig(local)).Auth?.Cognito;
    expect(cognito).toMatchObject({
      userPoolId: "eu-central-2_AbC123",
      userPoolClientId: "client",
      userPoolEndpoint: "http://127.0.0.1:4513",
      loginWith: { email: true },
    });
  });

  it("uses AWS's endpoint and SRP when none is given", () => {
    const { endpoint: _e, authFlow: _a, ...cognito } = local.cognito;
    const config = parseRuntimeConfig({ ...local, cognito });
    expect(config.cognito.authFlow).toBe("USER_SRP_AUTH");
    expect(amplifyConfig(config).Auth?.Cognito).not.toHaveProperty("userPoolEndpoint");
  });

  it("keeps the upload origins and pinned upload keys it is given", () => {
    const digest = "A".repeat(43);
    const config = parseRuntimeConfig({
      ...local,
      uploadOrigins: ["http://127.0.0.1:4566"],
      uploadKeySha256: [digest],
    });
    expect(config.uploadOrigins).toEqual(["http://127.0.0.1:4566"]);
    expect(config.uploadKeySha256).toEqual([digest]);
    expect(parseRuntimeConfig(local)).not.toHaveProperty("uploadKeySha256");
  });

  it.each([
    [null, "config must be an object"],
    [{ ...local, cognito: undefined }, "config.cognito"],
    [{ ...local, region: "" }, "config.region"],
    [{ ...local, cognito: { ...local.cognito, userPoolId: 1 } }, "config.cognito.userPoolId"],
    [{ ...local, cognito: { ...local.cognito, authFlow: "CUSTOM_AUTH" } }, "authFlow"],
    [{ ...local, cognito: { ...local.cognito, endpoint: "javascript:alert(1)" } }, "endpoint"],
    [{ ...local, uploadOrigins: ["https://s3.example/path"] }, "config.uploadOrigins"],
    [{ ...local, uploadOrigins: "https://s3.example" }, "config.uploadOrigins"],
    [{ ...local, uploadKeySha256: ["not-a-digest"] }, "config.uploadKeySha256"],
  ])("refuses a malformed config (%#)", (raw, where) => {
    expect(() => parseRuntimeConfig(raw)).toThrow(ConfigError);
    expect(() => parseRuntimeConfig(raw)).toThrow(where);
  });
});
