// Over 300 lines: the governance stage's policy documents, spelled out action by action.
/**
 * Optional organisation-level guard rails, deployed as the `governance` stage from the right accounts:
 * - an SCP (management account) that denies every regional action outside eu-central-2, with the
 *   global services and the us-east-1 edge services (Lambda@Edge, WAF for CloudFront, ACM) excepted;
 * - a permission boundary for developer roles forbidding changes to key policies, roles and function
 *   code, reading, writing or changing Veil's secrets (or their policies), marking API keys as a stage's
 *   rotated key, and minting identities outside the boundary (users, groups, access keys, Identity
 *   Center assignments);
 * - one CI deploy role per stage, assumable only with GitHub OIDC from that stage's environment;
 * - a Lambda code-signing profile and config for prod.
 */
import type { PolicyDocument } from "./context.ts";
import { apiKeyStageTag } from "./rotation.ts";
import { secretManagementActions, secretValueActions } from "./secrets.ts";
import { edgeRegion, homeRegion, type StageName } from "./stage.ts";

/** Services that are global (their calls carry us-east-1 or no region) and must not be region-fenced. */
export const globalServiceActions = [
  "iam:*",
  "organizations:*",
  "account:*",
  "sts:*",
  "route53:*",
  "route53domains:*",
  "cloudfront:*",
  "globalaccelerator:*",
  "shield:*",
  "support:*",
  "trustedadvisor:*",
  "health:*",
  "budgets:*",
  "ce:*",
  "cur:*",
  "pricing:*",
  "waf:*",
  "sso:*",
  "signin:*",
] as const;

/**
 * Read-only calls that consoles and tools (the AWS CLI, SDKs, Terraform/Pulumi) make through a global
 * endpoint or a default region whatever the workload's region: listing regions and buckets, finding a
 * bucket's region, the account's S3 public-access settings, the billing pages. Fencing them breaks the
 * S3 console and every region picker without protecting any data.
 */
export const globalReadActions = [
  "ec2:DescribeRegions",
  "s3:ListAllMyBuckets",
  "s3:GetBucketLocation",
  "s3:GetAccountPublicAccessBlock",
  "s3:ListMultiRegionAccessPoints",
  "aws-portal:View*",
  "billing:Get*",
  "billing:List*",
] as const;

/** Regional services allowed in us-east-1 only for CloudFront's sake. */
export const edgeServiceActions = ["lambda:*", "wafv2:*", "acm:*", "logs:*", "cloudwatch:*"] as const;

/** The region-fence SCP document. */
export function regionScp(): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyOutsideHomeAndEdgeRegions",
        Effect: "Deny",
        NotAction: [...globalServiceActions, ...globalReadActions],
        Resource: "*",
        Condition: { StringNotEquals: { "aws:RequestedRegion": [homeRegion, edgeRegion] } },
      },
      {
        Sid: "DenyInEdgeRegionExceptEdgeServices",
        Effect: "Deny",
        NotAction: [...globalServiceActions, ...globalReadActions, ...edgeServiceActions],
        Resource: "*",
        Condition: { StringEquals: { "aws:RequestedRegion": edgeRegion } },
      },
    ],
  };
}

/** What would let a bounded developer create a principal the boundary does not bind. */
export const identityMintingActions = [
  "iam:CreateUser",
  "iam:CreateAccessKey",
  "iam:UpdateAccessKey",
  "iam:CreateLoginProfile",
  "iam:UpdateLoginProfile",
  "iam:CreateServiceSpecificCredential",
  "iam:UploadSSHPublicKey",
  "iam:UploadSigningCertificate",
  "iam:AttachUserPolicy",
  "iam:PutUserPolicy",
  "iam:PutUserPermissionsBoundary",
  "iam:DeleteUserPermissionsBoundary",
  "iam:CreateGroup",
  "iam:AddUserToGroup",
  "iam:AttachGroupPolicy",
  "iam:PutGroupPolicy",
  "iam:CreateInstanceProfile",
  "iam:AddRoleToInstanceProfile",
  "iam:CreateOpenIDConnectProvider",
  "iam:UpdateOpenIDConnectProviderThumbprint",
  "iam:AddClientIDToOpenIDConnectProvider",
  "iam:CreateSAMLProvider",
  "iam:UpdateSAMLProvider",
  "sso:CreatePermissionSet",
  "sso:PutInlinePolicyToPermissionSet",
  "sso:AttachManagedPolicyToPermissionSet",
  "sso:CreateAccountAssignment",
  "identitystore:CreateUser",
  "identitystore:CreateGroupMembership",
] as const;

/** The developer permission boundary document. */
export function developerBoundary(): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "CeilingIsEverythingElse", Effect: "Allow", Action: "*", Resource: "*" },
      {
        Sid: "NoKeyPolicyOrKeyLifecycleChanges",
        Effect: "Deny",
        Action: [
          "kms:PutKeyPolicy",
          "kms:CreateGrant",
          "kms:ScheduleKeyDeletion",
          "kms:DisableKey",
          "kms:DisableKeyRotation",
          "kms:Decrypt",
          "kms:ReEncrypt*",
        ],
        Resource: "*",
      },
      {
        Sid: "NoRoleChanges",
        Effect: "Deny",
        Action: [
          "iam:CreateRole",
          "iam:DeleteRole",
          "iam:UpdateRole",
          "iam:UpdateAssumeRolePolicy",
          "iam:PutRolePolicy",
          "iam:DeleteRolePolicy",
          "iam:AttachRolePolicy",
          "iam:DetachRolePolicy",
          "iam:PutRolePermissionsBoundary",
          "iam:DeleteRolePermissionsBoundary",
          "iam:CreatePolicyVersion",
          "iam:SetDefaultPolicyVersion",
          "iam:PassRole",
        ],
        Resource: "*",
      },
      {
        // A boundary binds only the role it is on: a user or group a developer could create, give a
        // policy and keys to, would be unbounded, and could then rewrite the key-admin role's trust.
        Sid: "NoUnboundedIdentities",
        Effect: "Deny",
        Action: [...identityMintingActions],
        Resource: "*",
      },
      {
        Sid: "NoFunctionCodeChanges",
        Effect: "Deny",
        Action: [
          "lambda:CreateFunction",
          "lambda:UpdateFunctionCode",
          "lambda:UpdateFunctionConfiguration",
          "lambda:PublishVersion",
          "lambda:PublishLayerVersion",
          "lambda:PutFunctionCodeSigningConfig",
          "lambda:DeleteFunctionCodeSigningConfig",
        ],
        Resource: "*",
      },
      {
        // The FLE private key and the idempotency key: no read, no planted value, and none of the
        // steps that would allow one (dropping the secret's policy, swapping its KMS key, …).
        Sid: "NoVeilSecretValuesOrChanges",
        Effect: "Deny",
        Action: [...secretValueActions, ...secretManagementActions],
        Resource: "arn:aws:secretsmanager:*:*:secret:veil-*",
      },
      {
        // The distribution's origin header takes the newest key carrying a stage's tag (cdn.ts): only the
        // rotation may put that tag on a key, or a developer could plant a key they know.
        Sid: "NoApiKeysMarkedAsRotated",
        Effect: "Deny",
        Action: ["apigateway:POST", "apigateway:PUT"],
        Resource: ["arn:aws:apigateway:*::/apikeys", "arn:aws:apigateway:*::/tags/*"],
        Condition: { "ForAnyValue:StringEqualsIgnoreCase": { "aws:TagKeys": [apiKeyStageTag] } },
      },
    ],
  };
}

/** Trust policy of a stage's CI deploy role: GitHub OIDC from that environment of that repository only. */
export function deployRoleTrust(p: {
  providerArn: $util.Input<string>;
  repository: string;
  stage: StageName;
}): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: p.providerArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": `repo:${p.repository}:environment:${p.stage}`,
          },
        },
      },
    ],
  };
}

export interface GovernanceArgs {
  /** `owner/name` of the GitHub repository allowed to deploy. */
  readonly repository: string;
  /** Attach the SCP to this organisational unit or account (management account only). */
  readonly scpTargetId?: string;
  readonly provider: aws.Provider;
}

/** Creates the guard rails. */
export function createGovernance(args: GovernanceArgs) {
  const p = { provider: args.provider };
  let scp: aws.organizations.Policy | undefined;
  if (args.scpTargetId) {
    scp = new aws.organizations.Policy(
      "RegionFence",
      {
        name: "veil-region-fence",
        description: `Only ${homeRegion}; ${edgeRegion} for CloudFront edge services; global services excepted`,
        type: "SERVICE_CONTROL_POLICY",
        content: JSON.stringify(regionScp()),
      },
      p,
    );
    new aws.organizations.PolicyAttachment(
      "RegionFenceAttachment",
      { policyId: scp.id, targetId: args.scpTargetId },
      p,
    );
  }
  const boundary = new aws.iam.Policy(
    "DeveloperBoundary",
    {
      name: "veil-developer-boundary",
      // The description stays: changing it would replace the policy, which has a fixed name.
      description: "Permission boundary for developer roles: no key policy, role or function-code changes",
      policy: JSON.stringify(developerBoundary()),
    },
    p,
  );
  const github = new aws.iam.OpenIdConnectProvider(
    "GithubOidc",
    { url: "https://token.actions.githubusercontent.com", clientIdLists: ["sts.amazonaws.com"] },
    p,
  );
  const deployRoles = (["dev", "sit", "prod"] as const).map((stage) => {
    const role = new aws.iam.Role(
      `DeployRole${stage}`,
      {
        name: `veil-deploy-${stage}`,
        description: `CI deploy of the ${stage} stage (GitHub environment ${stage})`,
        assumeRolePolicy: $jsonStringify(
          deployRoleTrust({ providerArn: github.arn, repository: args.repository, stage }),
        ),
        maxSessionDuration: 3600,
      },
      p,
    );
    // Deploying creates roles, key policies and functions: the deploy role is privileged by nature.
    // What protects it is its trust policy (one GitHub environment, behind required reviewers).
    new aws.iam.RolePolicyAttachment(
      `DeployRole${stage}Access`,
      { role: role.name, policyArn: "arn:aws:iam::aws:policy/AdministratorAccess" },
      p,
    );
    return role;
  });
  const signing = new aws.signer.SigningProfile(
    "CodeSigning",
    {
      namePrefix: "veil_prod_",
      platformId: "AWSLambda-SHA384-ECDSA",
      signatureValidityPeriod: { value: 5, type: "YEARS" },
    },
    p,
  );
  const codeSigning = new aws.lambda.CodeSigningConfig(
    "CodeSigningConfig",
    {
      description: "Veil prod: only code signed by the Veil profile",
      allowedPublishers: { signingProfileVersionArns: [signing.versionArn] },
      policies: { untrustedArtifactOnDeployment: "Enforce" },
    },
    p,
  );
  return { scp, boundary, github, deployRoles, codeSigning };
}
