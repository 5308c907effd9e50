"""Benchmark fixture: the stacks of tests/bench/dynamic with the xpander
provider, same role names and permissions.

connectors = 0: the seed stack (base role on Pod Identity, Redshift and EKS
connectors; addS3Connector adds the seed's S3 connector). connectors = N: base
role(s) and N S3 connectors, 50 per base role (one base role's inline
policies hold the grants of about 59 connectors). components = true
registers the same tree as component resources: no provider is loaded, the
baseline of tests/bench/side_by_side.py's preview-share measurement.
"""

import pulumi
import pulumi_xpander as xpander

PER_BASE = 50

config = pulumi.Config()
cluster_name = config.require("clusterName")
organization_id = config.require_secret("organizationId")
connectors = config.get_int("connectors") or 0
components = config.get_bool("components") or False


class Placeholder(pulumi.ComponentResource):
    """A resource the engine registers without any provider."""

    def __init__(self, kind: str, name: str, props: dict):
        super().__init__(f"bench:index:{kind}", name, props)
        self.arn = pulumi.Output.from_input(f"arn:aws:iam::123456789012:role/{name}")
        self.role_id = pulumi.Output.from_input(f"AROA{name.upper()}")
        self.register_outputs({"arn": self.arn, "roleId": self.role_id})


def base_role(name: str, role_name: str, service_account: str = "xpander"):
    if components:
        return Placeholder("BaseRole", name, {"roleName": role_name, "clusterName": cluster_name,
                                              "serviceAccount": service_account})
    return xpander.XpanderBaseRole(name, role_name=role_name, pod_identity=xpander.PodIdentityArgs(
        cluster_name=cluster_name, service_account=service_account))


def connector_role(name: str, role_name: str, base, **spec):
    if components:
        return Placeholder("ConnectorRole", name, {"roleName": role_name, "baseRoleArn": base.arn,
                                                   "baseRoleId": base.role_id, "externalId": organization_id,
                                                   **{k: str(v) for k, v in spec.items()}})
    return xpander.XpanderConnectorRole(name, role_name=role_name, base_role_arn=base.arn,
                                        base_role_id=base.role_id, external_id=organization_id, **spec)


if connectors == 0:
    base = base_role("base", "xpander-base-role")
    redshift = connector_role("redshift", "xpander-redshift-access", base, redshift=xpander.RedshiftArgs(
        cluster_identifier="analytics", database_name="dev"))
    eks = connector_role("eks", "xpander-eks-connector", base, eks=xpander.EksArgs(cluster_name=cluster_name))
    pulumi.export("baseRoleArn", base.arn)
    pulumi.export("redshiftRoleArn", redshift.arn)
    pulumi.export("eksRoleArn", eks.arn)
    if config.get_bool("addS3Connector"):
        s3 = connector_role("s3", "xpander-s3-connector", base,
                            s3=xpander.S3Args(buckets=["xpander-data"], read_only=True))
        pulumi.export("s3RoleArn", s3.arn)
else:
    bases = [base_role("base" if b == 0 else f"base-{b}", "xpander-base-role" if b == 0 else f"xpander-base-role-{b}",
                       "xpander" if b == 0 else f"xpander-{b}")
             for b in range(-(-connectors // PER_BASE))]
    pulumi.export("baseRoleArn", bases[0].arn)
    for i in range(connectors):
        connector_role(f"connector-{i}", f"xpander-s3-{i}", bases[i // PER_BASE],
                       s3=xpander.S3Args(buckets=[f"xpander-data-{i}"], read_only=True))
