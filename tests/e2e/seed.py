"""The seed's architecture as an engine-driver program, and the AI Gateway's
credential chain, shared by the end-to-end suites."""

from __future__ import annotations

import json

from engine import Secret

ACCOUNT = "123456789012"
CLUSTER = "xpander-cluster"
BASE = "xpander:index:XpanderBaseRole"
CONNECTOR = "xpander:index:XpanderConnectorRole"
ORG_ID = "org-7f3a9c21"
# xpander's platform account: the connectors' CrossAccountWithExternalId trusts it.
PLATFORM = "777788889999"


def provider_config(sim, **extra) -> dict:
    return {
        "region": "us-east-1",
        "endpoints": {"iam": sim.url, "sts": sim.url, "eks": sim.url},
        "propagationTimeout": 60,
        **extra,
    }


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def seed_program(cluster: str, with_s3: bool = False, base_inputs: dict | None = None):
    """Base role on Pod Identity, Redshift and EKS connectors (seed steps 1-2),
    and optionally an S3 connector added as "Adding a New Connector" describes.
    As the examples write it: the ExternalId statements trust xpander's
    platform account, and each connector's PodIdentity fallback admits the
    base role's association only. `base_inputs` adds to (or overrides) the
    base role's inputs."""
    def program(ctx):
        base_role = {"roleName": "xpander-base-role", "podIdentity": {"clusterName": cluster}, **(base_inputs or {})}
        base = ctx.resource(BASE, "base", base_role)
        scope = {"podIdentityScope": base_role["podIdentity"]} if "podIdentity" in base_role else {}
        ctx.resource(CONNECTOR, "redshift", {
            "roleName": "xpander-redshift-access",
            "baseRoleArn": base["arn"],
            "baseRoleId": base["roleId"],
            "externalId": Secret(ORG_ID),
            "trustedAccountId": PLATFORM,
            "redshift": {"clusterIdentifier": "analytics", "databaseName": "dev"},
            **scope,
        })
        ctx.resource(CONNECTOR, "eks", {
            "roleName": "xpander-eks-connector",
            "baseRoleArn": base["arn"],
            "baseRoleId": base["roleId"],
            "externalId": Secret(ORG_ID),
            "trustedAccountId": PLATFORM,
            "eks": {"clusterName": cluster},
            **scope,
        })
        if with_s3:
            ctx.resource(CONNECTOR, "s3", {
                "roleName": "xpander-s3-connector",
                "baseRoleArn": base["arn"],
                "baseRoleId": base["roleId"],
                "s3": {"buckets": ["xpander-data"], "readOnly": True},
                **scope,
            })
    return program


def chain(sim, connector_arn: str, cluster: str = CLUSTER) -> dict:
    """What the AI Gateway does: pod credentials -> base role -> connector
    (session tags carried) -> connector again (self-assume), once STS sees
    the latest IAM changes (it decides on earlier ones for a moment)."""
    sim.settle()
    pod = sim.pod_credentials(cluster, "xpander", "xpander", pod_name="xpander-ai-gateway-0")
    hop = sim.client_for("sts", pod).assume_role(RoleArn=connector_arn, RoleSessionName="ai-gateway")
    return sim.client_for("sts", hop["Credentials"]).assume_role(RoleArn=connector_arn, RoleSessionName="refresh")


def pod_scope(cluster: str = CLUSTER, namespace: str = "xpander", service_account: str = "xpander") -> dict:
    """The condition that admits only the pods of one association (the session tags EKS sets)."""
    return {"StringEquals": {
        "aws:RequestTag/eks-cluster-arn": f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/{cluster}",
        "aws:RequestTag/kubernetes-namespace": namespace,
        "aws:RequestTag/kubernetes-service-account": service_account,
    }}


def assert_scoped_trust(iam, connectors, cluster: str = CLUSTER) -> None:
    """The trust the examples deploy: the base role and each connector's
    PodIdentity fallback admit the xpander pods of `cluster` only, and the
    ExternalId statement trusts xpander's platform account."""
    pods = {"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"], "Condition": pod_scope(cluster)}
    assert trust_of(iam, "xpander-base-role") == {"Version": "2012-10-17", "Statement": [pods]}
    for role in connectors:
        statements = {s["Sid"]: s for s in trust_of(iam, role)["Statement"]}
        assert statements["PodIdentity"] == {"Sid": "PodIdentity", **pods}, (role, statements["PodIdentity"])
        assert statements["CrossAccountWithExternalId"]["Principal"] == {"AWS": f"arn:aws:iam::{PLATFORM}:root"}, role


def trust_of(iam, role: str) -> dict:
    doc = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    return doc if isinstance(doc, dict) else json.loads(doc)
