/**
 * The VPC: private subnets for the database and the functions, endpoints so that KMS, Secrets Manager
 * and S3 traffic never leaves AWS's network, and one NAT gateway for the only public call the handlers
 * make (fetching the Cognito JWKS). The database accepts connections only from the functions' group.
 */
import type { Ctx } from "./context.ts";

export interface Network {
  readonly vpc: aws.ec2.Vpc;
  readonly privateSubnetIds: $util.Output<string>[];
  readonly functionSecurityGroup: aws.ec2.SecurityGroup;
  readonly databaseSecurityGroup: aws.ec2.SecurityGroup;
}

const zones = ["a", "b"] as const;

/** Creates the VPC, subnets, routes, endpoints and security groups. */
export function createNetwork(ctx: Ctx): Network {
  const p = { provider: ctx.home };
  const vpc = new aws.ec2.Vpc(
    "Vpc",
    {
      cidrBlock: "10.40.0.0/16",
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
  const databaseSecurityGroup = new aws.ec2.SecurityGroup(
    "DatabaseSecurityGroup",
    {
      vpcId: vpc.id,
      description: "Veil database: PostgreSQL from the functions only",
      ingress: [
        { protocol: "tcp", fromPort: 5432, toPort: 5432, securityGroups: [functionSecurityGroup.id] },
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
      ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, securityGroups: [functionSecurityGroup.id] }],
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
    databaseSecurityGroup,
  };
}
