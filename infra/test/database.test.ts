/**
 * The database (database.ts) on each shared stage: encryption, network, TLS, and IAM-only connections.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { asArray, stackHelpers, T } from "./stack-helpers.ts";
import { type SharedStack, sharedStack, sharedStages } from "./stages.ts";

for (const stageName of sharedStages) {
  let s: SharedStack;
  let dataKeyArn: string;
  const { stage, n, policyOf } = stackHelpers(stageName, () => s);
  beforeAll(async () => {
    s = await sharedStack(stageName);
    dataKeyArn = String(s.get(T.key, "DataKey").state.arn);
  }, 120_000);

  describe(`${stageName}: RDS PostgreSQL`, () => {
    it("is encrypted with the key, private, IAM-authenticated, backed up, TLS-only", () => {
      const db = s.get(T.db, "Database").inputs;
      expect(db).toMatchObject({
        engine: "postgres",
        storageEncrypted: true,
        iamDatabaseAuthenticationEnabled: true,
        publiclyAccessible: false,
        manageMasterUserPassword: true,
        backupRetentionPeriod: stage.database.backupRetentionDays,
        deletionProtection: stageName === "prod",
        multiAz: stage.database.multiAz,
      });
      expect(db.kmsKeyId).toBe(dataKeyArn);
      expect(db.password).toBeUndefined();
      expect(db.backupRetentionPeriod).toBeGreaterThan(0); // point-in-time recovery needs automated backups
      const params = s.get("aws:rds/parameterGroup:ParameterGroup", "DatabaseParameters").inputs.parameters;
      expect(params).toContainEqual(expect.objectContaining({ name: "rds.force_ssl", value: "1" }));
      expect(db.parameterGroupName).toBe(n("pg17"));
    });

    it("sits in private subnets reachable only from the proxy's and the bootstrap's security groups", () => {
      const subnets = s.get("aws:rds/subnetGroup:SubnetGroup", "DatabaseSubnets").inputs
        .subnetIds as string[];
      const privateIds = s.ofType("aws:ec2/subnet:Subnet").filter((r) => r.name.startsWith("PrivateSubnet"));
      expect(subnets).toHaveLength(privateIds.length);
      for (const subnet of privateIds) expect(subnet.inputs.mapPublicIpOnLaunch).toBe(false);
      const sg = s.get("aws:ec2/securityGroup:SecurityGroup", "DatabaseSecurityGroup").inputs;
      expect(sg.ingress).toHaveLength(1);
      expect(sg.ingress[0]).toMatchObject({ fromPort: 5432, toPort: 5432 });
      expect(sg.ingress[0].cidrBlocks ?? []).toEqual([]);
    });

    it("lets the functions connect with IAM tokens only, never with the master secret", () => {
      for (const role of [
        n("api"),
        n("images-api"),
        n("images-download"),
        n("ingest"),
        n("images-cleanup"),
        n("account"),
      ]) {
        const statements = policyOf(role).flatMap((d) => d.Statement);
        const connect = statements.filter((st) => asArray(st.Action).includes("rds-db:connect"));
        expect(connect).toHaveLength(1);
        expect(asArray(connect[0].Resource)[0]).toMatch(
          /^arn:aws:rds-db:eu-central-2:\d+:dbuser:prx-\w+\/veil_app$/,
        );
        const secrets = statements.filter((st) =>
          asArray(st.Action).some((a: string) => a.startsWith("secretsmanager:")),
        );
        const ownSecrets = new RegExp(`:secret:(${n("fle-private-key")}|${n("idempotency-key")})-`);
        for (const st of secrets) expect(asArray(st.Resource)).toEqual([expect.stringMatching(ownSecrets)]);
      }
      const link = s.builds.Records.links.Database;
      expect(Object.keys(link).sort()).toEqual(["database", "host", "port", "type", "username"]);
      expect(link.username).toBe("veil_app");
    });
  });
}
