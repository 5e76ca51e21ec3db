/**
 * The VPC: private subnets for the database and the functions, endpoints so that KMS, Secrets Manager
 * and S3 traffic never leaves AWS's network, and one NAT gateway for the only public call the handlers
 * make (fetching the Cognito JWKS). The functions reach PostgreSQL only through the RDS Proxy: the
 * database admits the proxy's group and the deploy-time bootstrap's group (which logs in as the master
 * user with a password, something an IAM-only proxy refuses), and nothing else.
 */
import type { Ctx } from "./context.ts";

export interface Network {
  readonly vpc: aws.ec2.Vpc;
  readonly privateSubnetIds: $util.Output<string>[];
  readonly functionSecurityGroup: aws.ec2.SecurityGroup;
  /** The RDS Proxy (rds-proxy.ts): PostgreSQL from the functions, to the database. */
  readonly proxySecurityGroup: aws.ec2.SecurityGroup;
  /** The database bootstrap (db-bootstrap.ts): the one client of the database besides the proxy. */
  readonly databaseAdminSecurityGroup: aws.ec2.SecurityGroup;
  readonly databaseSecurityGroup: aws.ec2.SecurityGroup;
}

/** The VPC's address range (security-group egress of the proxy and the bootstrap stays inside it). */
export const vpcCidr = "10.40.0.0/16";

const zones = ["a", "b"] as const;

/** Creates the VPC, subnets, routes, endpoints and security groups. */
export function createNetwork(ctx: Ctx): Network {
  const p = { provider: ctx.home };
  const vpc = new aws.ec2.Vpc(
    "Vpc",
    {
      cidrBlock: vpcCidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: { Name: ctx.name("vpc") },
    },
    p,
  );
  const igw = new aws.ec2.InternetGateway("InternetGateway", { vpcId: vpc.id }, p);
  const publicRoutes = new aws.ec2.RouteTable(
    "PublicRoutes",
    { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }] },
    p,
  );
  const publicSubnets = zones.map((z, i) => {
    const subnet = new aws.ec2.Subnet(
      `PublicSubnet${z.toUpperCase()}`,
      {
        vpcId: vpc.id,
        availabilityZone: `${ctx.homeRegion}${z}`,
        cidrBlock: `10.40.${i}.0/24`,
        mapPublicIpOnLaunch: false,
        tags: { Name: ctx.name(`public-${z}`) },
      },
      p,
    );
    new aws.ec2.RouteTableAssociation(
      `PublicRoutes${z.toUpperCase()}`,
      { subnetId: subnet.id, routeTableId: publicRoutes.id },
      p,
    );
    return subnet;
  });
  const natIp = new aws.ec2.Eip("NatIp", { domain: "vpc" }, p);
  const nat = new aws.ec2.NatGateway("Nat", { subnetId: publicSubnets[0]!.id, allocationId: natIp.id }, p);
  const privateRoutes = new aws.ec2.RouteTable(
    "PrivateRoutes",
    { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }] },
    p,
  );
  const privateSubnets = zones.map((z, i) => {
    const subnet = new aws.ec2.Subnet(
      `PrivateSubnet${z.toUpperCase()}`,
      {
        vpcId: vpc.id,
        availabilityZone: `${ctx.homeRegion}${z}`,
        cidrBlock: `10.40.${10 + i}.0/24`,
        mapPublicIpOnLaunch: false,
        tags: { Name: ctx.name(`private-${z}`) },
      },
      p,
    );
    new aws.ec2.RouteTableAssociation(
      `PrivateRoutes${z.toUpperCase()}`,
      { subnetId: subnet.id, routeTableId: privateRoutes.id },
      p,
    );
    return subnet;
  });

  const functionSecurityGroup = new aws.ec2.SecurityGroup(
    "FunctionSecurityGroup",
    {
      vpcId: vpc.id,
      description: "Veil functions: outbound only",
      egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
    },
    p,
  );
  const insideVpc = (port: number) => ({
    protocol: "tcp",
    fromPort: port,
    toPort: port,
    cidrBlocks: [vpcCidr],
  });
  const proxySecurityGroup = new aws.ec2.SecurityGroup(
    "ProxySecurityGroup",
    {
      vpcId: vpc.id,
      description: "Veil database proxy: PostgreSQL from the functions, to the database",
      ingress: [
        { protocol: "tcp", fromPort: 5432, toPort: 5432, securityGroups: [functionSecurityGroup.id] },
      ],
      egress: [insideVpc(5432)],
    },
    p,
  );
  const databaseAdminSecurityGroup = new aws.ec2.SecurityGroup(
    "DatabaseAdminSecurityGroup",
    {
      vpcId: vpc.id,
      description: "Veil database bootstrap: PostgreSQL and the VPC endpoints only",
      egress: [insideVpc(5432), insideVpc(443)],
    },
    p,
  );
  const databaseSecurityGroup = new aws.ec2.SecurityGroup(
    "DatabaseSecurityGroup",
    {
      vpcId: vpc.id,
      description: "Veil database: PostgreSQL from the proxy and the bootstrap only",
      ingress: [
        {
          protocol: "tcp",
          fromPort: 5432,
          toPort: 5432,
          securityGroups: [proxySecurityGroup.id, databaseAdminSecurityGroup.id],
        },
      ],
      egress: [],
    },
    p,
  );
  const endpointSecurityGroup = new aws.ec2.SecurityGroup(
    "EndpointSecurityGroup",
    {
      vpcId: vpc.id,
      description: "Veil interface endpoints: HTTPS from the functions only",
      ingress: [
        {
          protocol: "tcp",
          fromPort: 443,
          toPort: 443,
          securityGroups: [functionSecurityGroup.id, databaseAdminSecurityGroup.id],
        },
      ],
      egress: [],
    },
    p,
  );
  for (const service of ["kms", "secretsmanager", "logs"] as const) {
    new aws.ec2.VpcEndpoint(
      `Endpoint${service}`,
      {
        vpcId: vpc.id,
        serviceName: `com.amazonaws.${ctx.homeRegion}.${service}`,
        vpcEndpointType: "Interface",
        privateDnsEnabled: true,
        subnetIds: privateSubnets.map((s) => s.id),
        securityGroupIds: [endpointSecurityGroup.id],
      },
      p,
    );
  }
  new aws.ec2.VpcEndpoint(
    "EndpointS3",
    {
      vpcId: vpc.id,
      serviceName: `com.amazonaws.${ctx.homeRegion}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds: [privateRoutes.id],
    },
    p,
  );
  return {
    vpc,
    privateSubnetIds: privateSubnets.map((s) => s.id),
    functionSecurityGroup,
    proxySecurityGroup,
    databaseAdminSecurityGroup,
    databaseSecurityGroup,
  };
}
