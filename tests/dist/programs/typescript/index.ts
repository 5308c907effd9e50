// A base role and an S3 connector, written against the released Node.js SDK.
import * as pulumi from "@pulumi/pulumi";
import * as xpander from "@xpander-ai/pulumi-xpander";

const config = new pulumi.Config();

const base = new xpander.XpanderBaseRole("base", { roleName: "xpander-base-ts" });

const connector = new xpander.XpanderConnectorRole("s3", {
    roleName: "xpander-s3-ts",
    baseRoleArn: base.arn,
    baseRoleId: base.roleId,
    externalId: config.requireSecret("organizationId"),
    s3: { buckets: ["xpander-data"] },
});

export const baseRoleArn = base.arn;
export const connectorRoleArn = connector.arn;
