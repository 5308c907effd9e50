"""A base role and an S3 connector, written against the released Python SDK."""

import pulumi
import pulumi_xpander as xpander

config = pulumi.Config()

base = xpander.XpanderBaseRole("base", role_name="xpander-base-py")

connector = xpander.XpanderConnectorRole(
    "s3",
    role_name="xpander-s3-py",
    base_role_arn=base.arn,
    base_role_id=base.role_id,
    external_id=config.require_secret("organizationId"),
    s3=xpander.S3Args(buckets=["xpander-data"]),
)

pulumi.export("baseRoleArn", base.arn)
pulumi.export("connectorRoleArn", connector.arn)
