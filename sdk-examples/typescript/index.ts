// The three-tier IAM architecture of a self-hosted xpander install.
//
// The xpander pods get one base role through EKS Pod Identity; it has no
// service permissions and can only assume the connector roles, one per data
// source. Paste each exported connector ARN into the xpander UI (connector
// settings, "IAM Role ARN").

import * as pulumi from "@pulumi/pulumi";
import * as xpander from "@xpander-ai/pulumi-xpander";
import { restartGatewayOnConnectorChange } from "./gateway";

const config = new pulumi.Config();
const clusterName = config.require("clusterName");
// The ExternalId of the xpander platform's cross-account access: secret from
// the stack config to the state file.
const organizationId = config.requireSecret("organizationId");
// xpander's AWS account: the one account the ExternalId statement trusts (left
// out, it would trust this account's own root).
const platformAccountId = config.require("platformAccountId");
// Defaults of the optional keys are declared in Pulumi.yaml.
const s3Buckets = config.requireObject<string[]>("s3Buckets");

// Step 1: the base role, attached to the `xpander` service account in the
// `xpander` namespace (the defaults of podIdentity) through EKS Pod Identity.
// Its trust admits those pods only.
const base = new xpander.XpanderBaseRole("base", {
    roleName: "xpander-base-role",
    podIdentity: { clusterName },
});

// Step 2: one connector role per data source, each with the four-statement
// trust. Each grants the base role `sts:AssumeRole` + `sts:TagSession` on
// itself, so adding or removing a connector touches no other grant.
// `baseRoleId`: a replaced base role is a new principal to IAM; passing its id
// makes every connector rewrite its trust in the same `pulumi up`.
// `podIdentityScope`: the connector's PodIdentity fallback admits the base
// role's pods only, not any Pod Identity association of the account.
const redshift = new xpander.XpanderConnectorRole("redshift", {
    roleName: "xpander-redshift-access",
    baseRoleArn: base.arn,
    baseRoleId: base.roleId,
    externalId: organizationId,
    trustedAccountId: platformAccountId,
    podIdentityScope: base.podIdentity,
    redshift: {
        clusterIdentifier: config.require("redshiftClusterId"),
        databaseName: config.require("redshiftDatabase"),
    },
});

const eks = new xpander.XpanderConnectorRole("eks", {
    roleName: "xpander-eks-connector",
    baseRoleArn: base.arn,
    baseRoleId: base.roleId,
    externalId: organizationId,
    trustedAccountId: platformAccountId,
    podIdentityScope: base.podIdentity,
    // The seed's EKSAccess policy plus an access entry with
    // AmazonEKSClusterAdminPolicy; set accessPolicyArn to AmazonEKSViewPolicy
    // for read-only Kubernetes access.
    eks: { clusterName },
});

// Adding a New Connector: list buckets in `s3Buckets` and run `pulumi up`.
// Only the new role and its grant on the base role are created; the Pod
// Identity association stays as it is. Entering the ARN in the xpander UI
// stays manual; the AI Gateway restarts in the same `up` when
// `restartAiGateway` is set (below).
const s3 = s3Buckets.length > 0
    ? new xpander.XpanderConnectorRole("s3", {
        roleName: "xpander-s3-connector",
        baseRoleArn: base.arn,
        baseRoleId: base.roleId,
        externalId: organizationId,
        trustedAccountId: platformAccountId,
        podIdentityScope: base.podIdentity,
        s3: { buckets: s3Buckets, readOnly: true },
    })
    : undefined;

// The seed's `kubectl rollout restart deployment xpander-ai-gateway -n xpander`,
// exactly when a connector is added or removed: through @pulumi/kubernetes
// and the cluster of the current kubeconfig context (pass a provider for
// another one).
const connectorArns = [redshift.arn, eks.arn, ...(s3 ? [s3.arn] : [])];
if (config.getBoolean("restartAiGateway")) {
    restartGatewayOnConnectorChange("ai-gateway-restart", connectorArns);
}

export const baseRoleArn = base.arn;
export const redshiftRoleArn = redshift.arn;
export const eksRoleArn = eks.arn;
// A stack output exists only while the connector does: `export const` would
// always declare it and the engine warns about an undefined output.
if (s3) {
    module.exports.s3RoleArn = s3.arn;
}
