"""The seed document's manual CLI steps (IAM Best Practices), replayed with boto3.

`build()` sets up cluster, base role, Pod Identity association and one EKS
connector role; its knobs reproduce each Troubleshooting misconfiguration.
`run_chain()` is what the AI Gateway does at run time.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
CLUSTER = "xpander-cluster"
NAMESPACE = "xpander"
SERVICE_ACCOUNT = "xpander"
BASE_ROLE = "xpander-base-role"
CONNECTOR = "xpander-eks-connector"
ORG_ID = "org-7f3a9c21"
BASE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{BASE_ROLE}"
CONNECTOR_ARN = f"arn:aws:iam::{ACCOUNT}:role/{CONNECTOR}"
ASSUME_AND_TAG = ["sts:AssumeRole", "sts:TagSession"]


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def poll(call, retry_codes: tuple[str, ...], timeout: float = 10.0, interval: float = 0.1):
    """Call until it stops failing with one of retry_codes; return (result, failures)."""
    deadline = time.monotonic() + timeout
    failures = 0
    while True:
        try:
            return call(), failures
        except ClientError as err:
            if err.response["Error"]["Code"] not in retry_codes or time.monotonic() > deadline:
                raise
            failures += 1
            time.sleep(interval)


@dataclass
class Misconfig:
    """One switch per seed Troubleshooting case; all False is the correct setup."""

    trust_without_tag_session: bool = False
    self_assume_with_external_id: bool = False
    base_without_permission: bool = False
    connector_without_base_trust: bool = False


def connector_trust(full: bool, bad: Misconfig) -> str:
    statements = [
        {"Sid": "PodIdentity", "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ASSUME_AND_TAG},
        {
            "Sid": "CrossAccountWithExternalId",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": ASSUME_AND_TAG,
            "Condition": {"StringEquals": {"sts:ExternalId": ORG_ID}},
        },
    ]
    if full:
        chain_actions = ["sts:AssumeRole"] if bad.trust_without_tag_session else ASSUME_AND_TAG
        self_assume = {"Sid": "SelfAssume", "Effect": "Allow", "Principal": {"AWS": CONNECTOR_ARN}, "Action": chain_actions}
        if bad.self_assume_with_external_id:
            self_assume["Condition"] = {"StringEquals": {"sts:ExternalId": ORG_ID}}
        statements.append(self_assume)
        if not bad.connector_without_base_trust:
            statements.append(
                {"Sid": "AllowFromBaseRole", "Effect": "Allow", "Principal": {"AWS": BASE_ARN}, "Action": chain_actions}
            )
    return doc(*statements)


def build(sim, bad: Misconfig = Misconfig()) -> None:
    iam, eks = sim.boto3_client("iam"), sim.boto3_client("eks")
    eks.create_cluster(name=CLUSTER, roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster", resourcesVpcConfig={},
        accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})

    # Step 1: base role, its assume permissions, and the Pod Identity association.
    iam.create_role(
        RoleName=BASE_ROLE,
        AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ASSUME_AND_TAG}
        ),
    )
    if not bad.base_without_permission:
        iam.put_role_policy(
            RoleName=BASE_ROLE,
            PolicyName="AssumeConnectorRoles",
            PolicyDocument=doc({"Effect": "Allow", "Action": ASSUME_AND_TAG, "Resource": [CONNECTOR_ARN]}),
        )
    poll(
        lambda: eks.create_pod_identity_association(
            clusterName=CLUSTER, namespace=NAMESPACE, serviceAccount=SERVICE_ACCOUNT, roleArn=BASE_ARN
        ),
        ("InvalidParameterException",),
    )

    # Step 2 / Role Creation Order: create without self-reference, then add it once propagated.
    iam.create_role(RoleName=CONNECTOR, AssumeRolePolicyDocument=connector_trust(False, bad))
    iam.put_role_policy(
        RoleName=CONNECTOR,
        PolicyName="SelfAssumeAndTagSession",
        PolicyDocument=doc({"Effect": "Allow", "Action": ASSUME_AND_TAG, "Resource": CONNECTOR_ARN}),
    )
    iam.put_role_policy(
        RoleName=CONNECTOR,
        PolicyName="EKSAccess",
        PolicyDocument=doc(
            {"Effect": "Allow", "Action": ["eks:DescribeCluster", "eks:ListClusters", "eks:AccessKubernetesApi"], "Resource": "*"}
        ),
    )
    poll(
        lambda: iam.update_assume_role_policy(RoleName=CONNECTOR, PolicyDocument=connector_trust(True, bad)),
        ("MalformedPolicyDocument",),
    )
    eks.create_access_entry(clusterName=CLUSTER, principalArn=CONNECTOR_ARN, type="STANDARD")
    eks.associate_access_policy(
        clusterName=CLUSTER,
        principalArn=CONNECTOR_ARN,
        policyArn="arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        accessScope={"type": "cluster"},
    )


def run_chain(sim) -> dict:
    """Pod credentials -> base role -> connector (tags carried) -> connector again (self-assume).
    Returns the final AssumeRole response; raises ClientError at the first refused hop."""
    pod = sim.pod_credentials(CLUSTER, NAMESPACE, SERVICE_ACCOUNT, pod_name="xpander-ai-gateway-0")
    base_sts = sim.client_for("sts", pod)
    connector = base_sts.assume_role(RoleArn=CONNECTOR_ARN, RoleSessionName="ai-gateway")
    connector_sts = sim.client_for("sts", connector["Credentials"])
    return connector_sts.assume_role(RoleArn=CONNECTOR_ARN, RoleSessionName="ai-gateway-refresh")
