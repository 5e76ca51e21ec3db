/**
 * The outputs the Pulumi mocks give each resource type, as AWS would compute them (ARNs, names,
 * domains), so that policies naming them resolve and can be simulated. Add a type here when a policy
 * names one of its resources.
 */
import { generateKeyPairSync } from "node:crypto";

/** The FLE bootstrap's public key in the mocks: a real RSA key, as the web app pins its fingerprint. */
const testFlePublicKeyPem = generateKeyPairSync("rsa", { modulusLength: 2048 })
  .publicKey.export({ type: "spki", format: "pem" })
  .toString();

/** Outputs AWS would compute for a resource, so later inputs (ARNs in policies) resolve. */
export function computed(
  type: string,
  id: string,
  // biome-ignore lint/suspicious/noExplicitAny: resolved inputs of arbitrary resource types
  inputs: Record<string, any>,
  region: string,
  acct: string,
) {
  const n = inputs.name ?? id;
  switch (type) {
    case "aws:iam/role:Role":
      return { arn: `arn:aws:iam::${acct}:role/${n}`, name: n };
    case "aws:kms/key:Key":
      return { arn: `arn:aws:kms:${region}:${acct}:key/${id}`, keyId: id };
    case "aws:s3/bucket:Bucket": {
      const bucket = inputs.bucket ?? `${inputs.bucketPrefix ?? ""}${id}`;
      return {
        bucket,
        arn: `arn:aws:s3:::${bucket}`,
        bucketRegionalDomainName: `${bucket}.s3.${region}.amazonaws.com`,
      };
    }
    case "aws:lambda/function:Function": {
      const arn = `arn:aws:lambda:${region}:${acct}:function:${n}`;
      return {
        arn,
        qualifiedArn: `${arn}:1`,
        version: "1",
        invokeArn: `arn:aws:apigateway:${region}:lambda:path/${arn}`,
      };
    }
    case "aws:apigateway/restApi:RestApi":
      return { rootResourceId: `${id}root`, executionArn: `arn:aws:execute-api:${region}:${acct}:${id}` };
    case "aws:rds/instance:Instance":
      return {
        address: `${inputs.identifier}.abc.${region}.rds.amazonaws.com`,
        resourceId: "db-TESTRESOURCEID",
        arn: `arn:aws:rds:${region}:${acct}:db:${inputs.identifier}`,
        // The RDS-managed master secret (manageMasterUserPassword): named by RDS, known only after creation.
        masterUserSecrets: inputs.manageMasterUserPassword
          ? [
              {
                secretArn: `arn:aws:secretsmanager:${region}:${acct}:secret:rds!db-${id}-AbCdEf`,
                secretStatus: "active",
              },
            ]
          : [],
      };
    case "aws:rds/proxy:Proxy":
      return {
        arn: `arn:aws:rds:${region}:${acct}:db-proxy:prx-${id}`,
        endpoint: `${n}.proxy-abc.${region}.rds.amazonaws.com`,
      };
    case "aws:lambda/invocation:Invocation":
      return {
        result: JSON.stringify({
          publicKeyPem: testFlePublicKeyPem,
          keyName: "test",
        }),
      };
    case "aws:cloudfront/distribution:Distribution":
      return {
        arn: `arn:aws:cloudfront::${acct}:distribution/${id}`,
        domainName: `${id}.cloudfront.net`,
        hostedZoneId: "Z2FDTNDATAQYW2",
      };
    case "aws:acm/certificate:Certificate":
      return {
        arn: `arn:aws:acm:${region}:${acct}:certificate/${id}`,
        domainValidationOptions: [
          {
            domainName: inputs.domainName,
            resourceRecordName: `_x.${inputs.domainName}`,
            resourceRecordType: "CNAME",
            resourceRecordValue: "_y.acm-validations.aws",
          },
        ],
      };
    case "aws:acm/certificateValidation:CertificateValidation":
      return { certificateArn: inputs.certificateArn };
    case "aws:secretsmanager/secret:Secret":
      return { arn: `arn:aws:secretsmanager:${region}:${acct}:secret:${n}-AbCdEf` };
    case "aws:cloudwatch/logGroup:LogGroup":
      return { arn: `arn:aws:logs:${region}:${acct}:log-group:${n}` };
    case "aws:wafv2/webAcl:WebAcl":
      return { arn: `arn:aws:wafv2:${region}:${acct}:global/webacl/${n}/${id}` };
    case "aws:sns/topic:Topic":
      return { arn: `arn:aws:sns:${region}:${acct}:${n}` };
    case "aws:route53/record:Record":
      return { fqdn: inputs.name };
    default:
      return { arn: `arn:aws:test:${region}:${acct}:${type.split(":").pop()}/${n}` };
  }
}
