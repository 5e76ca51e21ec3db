import { describe, expect, it } from "vitest";
import { KmsError } from "./errors.ts";
import { defaultKeyPolicy, keyPolicy } from "./key-policy.ts";
import { evaluatePolicy, type PolicyDocument, type PolicyRequest, parsePolicy } from "./policy.ts";

const ACCOUNT = "111122223333";
const KEY = `arn:aws:kms:eu-central-2:${ACCOUNT}:key/0b0e7a32-4b3a-4a8e-9a55-3cbd1f2d9e10`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/RecordsFunction`;
const SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/RecordsFunction/s-1`;
const ADMIN = `arn:aws:iam::${ACCOUNT}:role/KeyAdmin`;
const OTHER = `arn:aws:iam::${ACCOUNT}:user/other`;

const ask = (
  policy: PolicyDocument,
  principalArn: string,
  action: string,
  extra: Partial<PolicyRequest> = {},
): ReturnType<typeof evaluatePolicy> =>
  evaluatePolicy(policy, { principalArn, action, resource: KEY, identityAllows: () => false, ...extra });

describe("key policy evaluation", () => {
  const policy = keyPolicy({ admins: [ADMIN], users: [ROLE] });

  it("denies by default and allows only what a statement names", () => {
    expect(ask(policy, SESSION, "kms:Decrypt")).toBe("allow");
    expect(ask(policy, ROLE, "kms:GenerateDataKeyWithoutPlaintext")).toBe("allow");
    expect(ask(policy, SESSION, "kms:ScheduleKeyDeletion")).toBe("implicitDeny");
    expect(ask(policy, ADMIN, "kms:ScheduleKeyDeletion")).toBe("allow");
    expect(ask(policy, ADMIN, "kms:Decrypt")).toBe("implicitDeny");
    expect(ask(policy, OTHER, "kms:DescribeKey")).toBe("implicitDeny");
    expect(ask(policy, `arn:aws:sts::${ACCOUNT}:assumed-role/OtherRole/s`, "kms:Decrypt")).toBe(
      "implicitDeny",
    );
  });

  it("matches action wildcards case-insensitively and resources by ARN pattern", () => {
    const doc: PolicyDocument = {
      Statement: {
        Effect: "Allow",
        Principal: { AWS: OTHER },
        Action: "KMS:generatedatakey*",
        Resource: `${KEY.slice(0, -4)}*`,
      },
    };
    expect(ask(doc, OTHER, "kms:GenerateDataKey")).toBe("allow");
    expect(ask(doc, OTHER, "kms:GenerateDataKeyPair")).toBe("allow");
    expect(ask(doc, OTHER, "kms:Decrypt")).toBe("implicitDeny");
    expect(ask(doc, OTHER, "kms:GenerateDataKey", { resource: KEY.replace("0b0e", "ffff") })).toBe(
      "implicitDeny",
    );
  });

  it("lets an explicit Deny win over any Allow", () => {
    const doc: PolicyDocument = {
      Statement: [
        { Effect: "Allow", Principal: "*", Action: "kms:*", Resource: "*" },
        { Effect: "Deny", Principal: { AWS: OTHER }, Action: "kms:Decrypt", Resource: "*" },
      ],
    };
    expect(ask(doc, OTHER, "kms:Decrypt")).toBe("explicitDeny");
    expect(ask(doc, OTHER, "kms:Encrypt")).toBe("allow");
    expect(ask(doc, ADMIN, "kms:Decrypt")).toBe("allow");
  });

  it("delegates to the identity policy when a statement names the account", () => {
    const doc = defaultKeyPolicy(ACCOUNT);
    expect(ask(doc, OTHER, "kms:Decrypt")).toBe("implicitDeny");
    expect(ask(doc, OTHER, "kms:Decrypt", { identityAllows: (a) => a === "kms:Decrypt" })).toBe("allow");
    expect(ask(doc, "arn:aws:iam::999999999999:user/x", "kms:Decrypt", { identityAllows: () => true })).toBe(
      "implicitDeny",
    );
  });

  it("evaluates conditions on the encryption context, and fails closed on unknown operators", () => {
    const doc: PolicyDocument = {
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: ROLE },
          Action: "kms:Decrypt",
          Resource: "*",
          Condition: { StringEquals: { "kms:EncryptionContext:purpose": "record" } },
        },
        {
          Effect: "Deny",
          Principal: "*",
          Action: "kms:*",
          Resource: "*",
          Condition: { "ForAnyValue:StringLike": { "kms:EncryptionContextKeys": ["debug*"] } },
        },
      ],
    };
    const ctx = (c: Record<string, string>) => ({
      context: {
        "kms:EncryptionContextKeys": Object.keys(c),
        ...Object.fromEntries(Object.entries(c).map(([k, v]) => [`kms:EncryptionContext:${k}`, v])),
      },
    });
    expect(ask(doc, SESSION, "kms:Decrypt", ctx({ purpose: "record" }))).toBe("allow");
    expect(ask(doc, SESSION, "kms:Decrypt", ctx({ purpose: "image" }))).toBe("implicitDeny");
    expect(ask(doc, SESSION, "kms:Decrypt", ctx({}))).toBe("implicitDeny");
    expect(ask(doc, SESSION, "kms:Decrypt", ctx({ purpose: "record", debugDump: "1" }))).toBe("explicitDeny");

    const unknownAllow: PolicyDocument = {
      Statement: {
        Effect: "Allow",
        Principal: "*",
        Action: "kms:*",
        Condition: { DateGreaterThan: { "aws:CurrentTime": "2020-01-01" } },
      },
    };
    expect(ask(unknownAllow, OTHER, "kms:Decrypt")).toBe("implicitDeny");
    const unknownDeny: PolicyDocument = {
      Statement: [
        { Effect: "Allow", Principal: "*", Action: "kms:*" },
        {
          Effect: "Deny",
          Principal: "*",
          Action: "kms:*",
          Condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } },
        },
      ],
    };
    expect(ask(unknownDeny, OTHER, "kms:Decrypt")).toBe("explicitDeny");
  });

  it("treats negated operators on an absent key as true and IfExists as satisfied", () => {
    const doc: PolicyDocument = {
      Statement: [
        { Effect: "Allow", Principal: "*", Action: "kms:*" },
        {
          Effect: "Deny",
          Principal: "*",
          Action: "kms:*",
          Condition: { StringNotEquals: { "kms:ViaService": "x" } },
        },
      ],
    };
    expect(ask(doc, OTHER, "kms:Decrypt")).toBe("explicitDeny");
    const ifExists: PolicyDocument = {
      Statement: {
        Effect: "Allow",
        Principal: "*",
        Action: "kms:*",
        Condition: { StringEqualsIfExists: { "kms:ViaService": "x" } },
      },
    };
    expect(ask(ifExists, OTHER, "kms:Decrypt")).toBe("allow");
  });

  it("supports NotPrincipal and NotAction in Deny statements", () => {
    const doc: PolicyDocument = {
      Statement: [
        { Effect: "Allow", Principal: "*", Action: "kms:*" },
        {
          Effect: "Deny",
          NotPrincipal: { AWS: ADMIN },
          NotAction: ["kms:Encrypt", "kms:Decrypt"],
          Resource: "*",
        },
      ],
    };
    expect(ask(doc, OTHER, "kms:PutKeyPolicy")).toBe("explicitDeny");
    expect(ask(doc, ADMIN, "kms:PutKeyPolicy")).toBe("allow");
    expect(ask(doc, OTHER, "kms:Decrypt")).toBe("allow");
  });

  it("accepts service principals, which never match a caller", () => {
    const doc = parsePolicy(
      JSON.stringify({
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "logs.eu-central-2.amazonaws.com" },
            Action: "kms:*",
            Resource: "*",
          },
          {
            Effect: "Allow",
            Principal: { AWS: ROLE, Service: "lambda.amazonaws.com" },
            Action: "kms:Decrypt",
          },
        ],
      }),
    );
    expect(ask(doc, OTHER, "kms:Encrypt")).toBe("implicitDeny");
    expect(ask(doc, SESSION, "kms:Decrypt")).toBe("allow");
  });

  it("rejects malformed documents", () => {
    const bad = [
      "not json",
      "{}",
      '{"Statement":[]}',
      '{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"kms:*"}]}',
      '{"Statement":[{"Effect":"Allow","Action":"kms:*"}]}',
      '{"Statement":[{"Effect":"Allow","Principal":"*"}]}',
      '{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"x"},"Action":"kms:*"}]}',
      '{"Statement":[{"Effect":"Allow","Principal":{},"Action":"kms:*"}]}',
      '{"Statement":[{"Effect":"Allow","Principal":{"Nobody":"x"},"Action":"kms:*"}]}',
      JSON.stringify({
        Statement: { Effect: "Allow", Principal: "*", Action: "kms:*", Sid: "x".repeat(33_000) },
      }),
    ];
    for (const text of bad) {
      expect(() => parsePolicy(text), text.slice(0, 60)).toThrow(KmsError);
    }
    expect(parsePolicy(JSON.stringify(keyPolicy({ admins: [ADMIN], users: [ROLE] })))).toBeTruthy();
  });
});
