"""The three-tier IAM architecture of a self-hosted xpander install.

The xpander pods get one base role through EKS Pod Identity; it has no
service permissions and can only assume the connector roles, one per data
source. Paste each exported connector ARN into the xpander UI (connector
settings, "IAM Role ARN").
"""

import pulumi
import pulumi_xpander as xpander

config = pulumi.Config()
cluster_name = config.require("clusterName")
# The ExternalId of the xpander platform's cross-account access: secret from
# the stack config to the state file.
organization_id = config.require_secret("organizationId")
# xpander's AWS account: the one account the ExternalId statement trusts (left
# out, it would trust this account's own root).
platform_account_id = config.require("platformAccountId")
# Defaults of the optional keys are declared in Pulumi.yaml.
s3_buckets: list[str] = config.require_object("s3Buckets")

# Step 1: the base role, attached to the `xpander` service account in the
# `xpander` namespace (the defaults of pod_identity) through EKS Pod Identity.
# Its trust admits those pods only.
base = xpander.XpanderBaseRole(
    "base",
    role_name="xpander-base-role",
    pod_identity=xpander.PodIdentityArgs(cluster_name=cluster_name),
)

# Step 2: one connector role per data source, each with the four-statement
# trust. Each grants the base role `sts:AssumeRole` + `sts:TagSession` on
# itself, so adding or removing a connector touches no other grant.
# `base_role_id`: a replaced base role is a new principal to IAM; passing its
# id makes every connector rewrite its trust in the same `pulumi up`.
# `pod_identity_scope`: the connector's PodIdentity fallback admits the base
# role's pods only, not any Pod Identity association of the account.
redshift = xpander.XpanderConnectorRole(
    "redshift",
    role_name="xpander-redshift-access",
    base_role_arn=base.arn,
    base_role_id=base.role_id,
    external_id=organization_id,
    trusted_account_id=platform_account_id,
    pod_identity_scope=base.pod_identity,
    redshift=xpander.RedshiftArgs(
        cluster_identifier=config.require("redshiftClusterId"),
        database_name=config.require("redshiftDatabase"),
    ),
)

eks = xpander.XpanderConnectorRole(
    "eks",
    role_name="xpander-eks-connector",
    base_role_arn=base.arn,
    base_role_id=base.role_id,
    external_id=organization_id,
    trusted_account_id=platform_account_id,
    pod_identity_scope=base.pod_identity,
    # The seed's EKSAccess policy plus an access entry with
    # AmazonEKSClusterAdminPolicy; set access_policy_arn to
    # AmazonEKSViewPolicy for read-only Kubernetes access.
    eks=xpander.EksArgs(cluster_name=cluster_name),
)

pulumi.export("baseRoleArn", base.arn)
pulumi.export("redshiftRoleArn", redshift.arn)
pulumi.export("eksRoleArn", eks.arn)

# Adding a New Connector: list buckets in `s3Buckets` and run `pulumi up`.
# Only the new role and its grant on the base role are created; the Pod
# Identity association stays as it is. Then set the ARN in the xpander UI and
# restart the AI Gateway:
#   kubectl rollout restart deployment xpander-ai-gateway -n xpander
if s3_buckets:
    s3 = xpander.XpanderConnectorRole(
        "s3",
        role_name="xpander-s3-connector",
        base_role_arn=base.arn,
        base_role_id=base.role_id,
        external_id=organization_id,
        trusted_account_id=platform_account_id,
        pod_identity_scope=base.pod_identity,
        s3=xpander.S3Args(buckets=s3_buckets, read_only=True),
    )
    pulumi.export("s3RoleArn", s3.arn)
