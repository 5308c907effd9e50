"""The seed's setup (IAM Best Practices, steps 1-2) built by hand with boto3,
as a blueprint a test bends before it is applied.

`blueprint()` is the correct setup: the base role on Pod Identity, a Redshift
and an EKS connector with the seed's trust template (four statements) and
permission policies, scoped resources, governance tags, the EKS access entry
with the seed's access policy. Where the seed's template trusts more than it
needs, the blueprint is what the provider deploys (issue 21): the ExternalId
statement trusts xpander's platform account, not the connector's own, and
every `pods.eks.amazonaws.com` statement requires the xpander service
account's cluster, namespace and service account through the session tags
EKS Pod Identity sets (EKS User Guide, "Create IAM role with trust policy
required by EKS Pod Identity"). `seed_trust()` is the seed's template as
written. A test changes the blueprint (drop a statement,
add a condition, ...) and `apply()` replays it in the seed's order: base role,
association, then each connector created without self-reference and given its
full trust once it exists ("Role Creation Order").

Also here: the doctor subcommand runner, and the AI Gateway's chain as a
yes/no oracle for "does this connector really work".
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
import time
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import ClientError

from awssim.harness import AwsSimError
from engine import clean_env

ACCOUNT = "123456789012"
# xpander's platform account, trusted with the ExternalId (any other account than ACCOUNT).
PLATFORM = "777788889999"
CLUSTER = "xpander-cluster"
CLUSTER_ARN = f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/{CLUSTER}"
NAMESPACE = "xpander"
SERVICE_ACCOUNT = "xpander"
BASE = "xpander-base-role"
REDSHIFT = "xpander-redshift-access"
EKS = "xpander-eks-connector"
# Recognisable, so that a leak anywhere is found by a plain substring search.
ORG_ID = "org-LEAKCANARY-5f1c0e9a"
ASSUME_AND_TAG = ["sts:AssumeRole", "sts:TagSession"]
PODS = "pods.eks.amazonaws.com"
CLUSTER_ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
TAGS = {"Environment": "prod", "Project": "xpander", "ManagedBy": "hand"}

REPO = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("XPANDER_PROVIDER_BINARY", REPO / "target" / "debug" / "pulumi-resource-xpander"))


def poll(call, retry_codes: tuple[str, ...], timeout: float = 10.0):
    """Call until it stops failing with one of retry_codes (IAM/EKS propagation)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except ClientError as err:
            if err.response["Error"]["Code"] not in retry_codes or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def arn(role: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{role}"


def doc(statements: list[dict]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


@dataclass
class Role:
    name: str
    trust: list[dict]
    policies: dict[str, list[dict]] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=lambda: dict(TAGS))
    managed: dict[str, list[dict]] = field(default_factory=dict)  # customer managed policies to attach
    boundary: list[dict] | None = None  # permissions boundary document

    def sid(self, sid: str) -> dict:
        return next(s for s in self.trust if s.get("Sid") == sid)

    def drop(self, sid: str) -> None:
        self.trust = [s for s in self.trust if s.get("Sid") != sid]


@dataclass
class Blueprint:
    base: Role
    connectors: dict[str, Role]
    pod_identity_role: str | None = BASE  # the role the association points to; None: no association
    # EKS access: connector -> access policy ARN; None: entry without policy; absent: no entry
    access: dict[str, str | None] = field(default_factory=lambda: {EKS: CLUSTER_ADMIN})
    extra_roles: list[Role] = field(default_factory=list)  # created before the association
    disable_session_tags: bool = False  # the association's: EKS then sets no session tags

    @property
    def redshift(self) -> Role:
        return self.connectors[REDSHIFT]

    @property
    def eks(self) -> Role:
        return self.connectors[EKS]


def pod_scope(cluster_arn: str = CLUSTER_ARN, namespace: str = NAMESPACE, service_account: str = SERVICE_ACCOUNT) -> dict:
    """The condition that admits only pods of one service account, namespace and cluster."""
    return {"StringEquals": {
        "aws:RequestTag/eks-cluster-arn": cluster_arn,
        "aws:RequestTag/kubernetes-namespace": namespace,
        "aws:RequestTag/kubernetes-service-account": service_account,
    }}


def pods_statement(sid: str | None = "PodIdentity", scoped: bool = True) -> dict:
    stmt = {"Effect": "Allow", "Principal": {"Service": PODS}, "Action": list(ASSUME_AND_TAG)}
    if scoped:
        stmt["Condition"] = pod_scope()
    return {"Sid": sid, **stmt} if sid else stmt


def connector_trust(role: str, trusted_account: str = PLATFORM, scoped: bool = True) -> list[dict]:
    """The seed's trust template: four statements; the cross-account one
    requires the ExternalId and, when scoped, the Pod Identity one the pod tags."""
    return [
        pods_statement(scoped=scoped),
        {
            "Sid": "CrossAccountWithExternalId",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{trusted_account}:root"},
            "Action": list(ASSUME_AND_TAG),
            "Condition": {"StringEquals": {"sts:ExternalId": ORG_ID}},
        },
        {"Sid": "SelfAssume", "Effect": "Allow", "Principal": {"AWS": arn(role)}, "Action": list(ASSUME_AND_TAG)},
        {"Sid": "AllowFromBaseRole", "Effect": "Allow", "Principal": {"AWS": arn(BASE)}, "Action": list(ASSUME_AND_TAG)},
    ]


def self_assume(role: str) -> list[dict]:
    return [{"Effect": "Allow", "Action": list(ASSUME_AND_TAG), "Resource": arn(role)}]


def redshift_role() -> Role:
    cluster = f"arn:aws:redshift:us-east-1:{ACCOUNT}"
    return Role(
        REDSHIFT,
        connector_trust(REDSHIFT),
        {
            "SelfAssumeAndTagSession": self_assume(REDSHIFT),
            "RedshiftCredentials": [{
                "Effect": "Allow",
                "Action": ["redshift:GetClusterCredentials", "redshift:GetClusterCredentialsWithIAM", "redshift:DescribeClusters"],
                "Resource": [f"{cluster}:cluster:analytics", f"{cluster}:dbname:analytics/dev", f"{cluster}:dbuser:analytics/*"],
            }],
            "RedshiftDataAPI": [{
                "Effect": "Allow",
                "Action": ["redshift-data:ExecuteStatement", "redshift-data:GetStatementResult", "redshift-data:DescribeStatement"],
                "Resource": "*",
            }],
        },
    )


def eks_role() -> Role:
    return Role(
        EKS,
        connector_trust(EKS),
        {
            "SelfAssumeAndTagSession": self_assume(EKS),
            "EKSAccess": [
                {"Effect": "Allow", "Action": ["eks:DescribeCluster", "eks:ListClusters", "eks:AccessKubernetesApi"], "Resource": "*"},
                {"Effect": "Allow", "Action": ["logs:GetLogEvents", "logs:FilterLogEvents"], "Resource": "*"},
            ],
        },
    )


def blueprint() -> Blueprint:
    base = Role(
        BASE,
        [pods_statement(None)],
        {"AssumeConnectorRoles": [{"Effect": "Allow", "Action": list(ASSUME_AND_TAG), "Resource": [arn(REDSHIFT), arn(EKS)]}]},
    )
    return Blueprint(base=base, connectors={REDSHIFT: redshift_role(), EKS: eks_role()})


def seed_trust(bp: Blueprint) -> None:
    """The seed's trust documents as written: Pod Identity unconditioned, the
    ExternalId statement on the connectors' own account."""
    bp.base.trust = [pods_statement(None, scoped=False)]
    for role in bp.connectors.values():
        role.trust = connector_trust(role.name, trusted_account=ACCOUNT, scoped=False)


# -- applying it ---------------------------------------------------------------


def _names_a_role(stmt: dict) -> bool:
    principal = stmt.get("Principal")
    aws = principal.get("AWS", []) if isinstance(principal, dict) else []
    return any(":role/" in p for p in ([aws] if isinstance(aws, str) else aws))


def create_role(sim, role: Role, trust: list[dict] | None = None) -> None:
    iam = sim.boto3_client("iam")
    kwargs = {}
    if role.boundary is not None:
        boundary = iam.create_policy(PolicyName=f"{role.name}-boundary", PolicyDocument=doc(role.boundary))
        kwargs["PermissionsBoundary"] = boundary["Policy"]["Arn"]
    iam.create_role(
        RoleName=role.name,
        AssumeRolePolicyDocument=doc(trust if trust is not None else role.trust),
        Tags=[{"Key": k, "Value": v} for k, v in role.tags.items()],
        **kwargs,
    )
    for name, statements in role.policies.items():
        iam.put_role_policy(RoleName=role.name, PolicyName=name, PolicyDocument=doc(statements))
    for name, statements in role.managed.items():
        policy = iam.create_policy(PolicyName=name, PolicyDocument=doc(statements))
        iam.attach_role_policy(RoleName=role.name, PolicyArn=policy["Policy"]["Arn"])


def apply(sim, bp: Blueprint) -> Blueprint:
    iam, eks = sim.boto3_client("iam"), sim.boto3_client("eks")
    eks.create_cluster(name=CLUSTER, roleArn=arn("eks-cluster"), resourcesVpcConfig={},
        accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})
    create_role(sim, bp.base)
    for extra in bp.extra_roles:
        create_role(sim, extra)
    if bp.pod_identity_role:
        poll(
            lambda: eks.create_pod_identity_association(
                clusterName=CLUSTER, namespace=NAMESPACE, serviceAccount=SERVICE_ACCOUNT, roleArn=arn(bp.pod_identity_role),
                disableSessionTags=bp.disable_session_tags,
            ),
            ("InvalidParameterException",),
        )
    for role in bp.connectors.values():
        # Role Creation Order: no role principal until the role exists.
        initial = [s for s in role.trust if not _names_a_role(s)] or [pods_statement()]
        create_role(sim, role, initial)
        if initial != role.trust:
            poll(
                lambda: iam.update_assume_role_policy(RoleName=role.name, PolicyDocument=doc(role.trust)),
                ("MalformedPolicyDocument",),
            )
    for name, policy in bp.access.items():
        eks.create_access_entry(clusterName=CLUSTER, principalArn=arn(name), type="STANDARD")
        if policy is not None:
            eks.associate_access_policy(
                clusterName=CLUSTER, principalArn=arn(name), policyArn=policy, accessScope={"type": "cluster"}
            )
    return bp


def recreate_role(sim, role: Role) -> None:
    """Delete a role and create it again under the same name: a new principal."""
    iam = sim.boto3_client("iam")
    for name in iam.list_role_policies(RoleName=role.name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=role.name, PolicyName=name)
    iam.delete_role(RoleName=role.name)
    iam.create_role(
        RoleName=role.name,
        AssumeRolePolicyDocument=doc(role.trust),
        Tags=[{"Key": k, "Value": v} for k, v in role.tags.items()],
    )
    for name, statements in role.policies.items():
        iam.put_role_policy(RoleName=role.name, PolicyName=name, PolicyDocument=doc(statements))


# -- the AI Gateway's chain ------------------------------------------------------


def chain_works(sim, connector: str) -> bool:
    """Pod credentials -> base role -> connector (tags carried) -> connector again.
    False when any hop is refused, once STS sees the latest IAM changes."""
    sim.settle()
    try:
        pod = sim.pod_credentials(CLUSTER, NAMESPACE, SERVICE_ACCOUNT, pod_name="xpander-ai-gateway-0")
        hop = sim.client_for("sts", pod).assume_role(RoleArn=arn(connector), RoleSessionName="ai-gateway")
        sim.client_for("sts", hop["Credentials"]).assume_role(RoleArn=arn(connector), RoleSessionName="refresh")
    except ClientError as err:
        assert err.response["Error"]["Code"] == "AccessDenied", err.response["Error"]
        return False
    except AwsSimError as err:
        assert err.code in ("AccessDenied", "AssociationNotFound", "RoleNotFound"), err
        return False
    return True


# -- the doctor subcommand ------------------------------------------------------------


@dataclass
class DoctorRun:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def report(self) -> dict:
        return json.loads(self.stdout)


def doctor_args(connectors=(REDSHIFT, EKS), cluster: str | None = CLUSTER, base: str = BASE) -> list[str]:
    args = ["--base-role", base]
    for name in connectors:
        args += ["--connector", name]
    if cluster:
        args += ["--cluster", cluster]
    return args


def doctor_principal(sim) -> dict:
    """A new principal holding exactly what `deployer-policy --mode doctor` prints."""
    done = subprocess.run([str(BINARY), "deployer-policy", "--mode", "doctor", "--json"],
                          capture_output=True, text=True, check=True)
    return sim.principal(f"doctor-{uuid.uuid4().hex[:8]}", json.loads(done.stdout))


def run_doctor(sim, args: list[str], env_endpoint: bool = True, timeout: float = 30) -> DoctorRun:
    """The subcommand as a principal holding the doctor policy, with the
    standard credential chain pointed at awssim (AWS_ENDPOINT_URL), or with
    `--endpoint` when env_endpoint is False."""
    env = clean_env(REPO, **sim.provider_env(doctor_principal(sim)))
    if not env_endpoint:
        env.pop("AWS_ENDPOINT_URL")
    argv = [str(BINARY), "doctor", *args]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO)
    return DoctorRun(argv, done.returncode, done.stdout, done.stderr)
