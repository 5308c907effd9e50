"""Shared by the reliability suite and the benchmarks: launching the provider
against awssim, the programs they deploy, and the checks that the stack's
state matches what exists in AWS (or that nothing is left)."""

from __future__ import annotations

import json
import os
import uuid
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from botocore.config import Config

from e2e.seed import ACCOUNT, BASE, CONNECTOR, provider_config
from engine import Engine, ProviderProcess, Secret, Stack
from e2e.conftest import BOUNDARY_NAME, deploy_policy, printed_policy
from engine.values import unwrap_secrets

REPO = Path(__file__).resolve().parents[2]
DEBUG_BINARY = REPO / "target" / "debug" / "pulumi-resource-xpander"
BINARY = Path(os.environ.get("XPANDER_PROVIDER_BINARY", DEBUG_BINARY))
SOAK = os.environ.get("XPANDER_SOAK") == "1"

# Boto3 clients used to *inspect* AWS while faults are injected: they retry
# throttling and 5xx like any AWS client would, so a check never fails
# because of an injected fault.
PATIENT = Config(retries={"total_max_attempts": 25, "mode": "standard"}, connect_timeout=5, read_timeout=30)


BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/{BOUNDARY_NAME}"


def launch(aws, binary: Path = BINARY, args: tuple[str, ...] = (), **extra_env: str) -> ProviderProcess:
    """The provider as the engine starts it, as a deployer that cannot
    escalate: it holds only the deploy policy printed for the boundary
    (`--mode boundary`, created once per test) and attaches only the customer
    managed policies that exist when it starts. No AWS_ENDPOINT_URL: it must
    reach the simulator through its own config."""
    assert binary.exists(), f"provider binary missing at {binary}: run `make build`"
    iam = aws.boto3_client("iam", config=PATIENT)
    try:
        iam.create_policy(PolicyName=BOUNDARY_NAME, PolicyDocument=json.dumps(printed_policy("boundary")))
    except iam.exceptions.EntityAlreadyExistsException:
        pass  # launched before in this test, or by a concurrent worker
    attachable = [p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"] if p["Arn"] != BOUNDARY_ARN]
    deployer = aws.principal(f"deployer-{uuid.uuid4().hex[:8]}", deploy_policy(BOUNDARY_ARN, attachable))
    env = {**os.environ, **aws.provider_env(deployer), **extra_env}
    env.pop("AWS_ENDPOINT_URL", None)
    return ProviderProcess(binary, env=env, args=list(args))


def boot(proc: ProviderProcess, aws, **config: Any) -> Engine:
    """A launched provider configured to set the boundary on every role."""
    engine = Engine(proc)
    engine.boot(provider_config(aws, permissionsBoundary=BOUNDARY_ARN, **config))
    return engine


def kill_hard(proc: ProviderProcess) -> None:
    """SIGKILL the plugin's process group (no grace, no cleanup), then release our side."""
    try:
        os.killpg(proc.proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.proc.wait(10)
    proc.stop()


def make_cluster(aws, name: str) -> str:
    aws.boto3_client("eks", config=PATIENT).create_cluster(
        name=name, roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster", resourcesVpcConfig={},
        accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"}
    )
    return name


def create_managed_policy(aws, name: str) -> str:
    """A customer managed policy for connectors to attach (moto has no AWS managed ones by default)."""
    doc = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'
    iam = aws.boto3_client("iam", config=PATIENT)
    return iam.create_policy(PolicyName=name, PolicyDocument=doc)["Policy"]["Arn"]


# -- the deployed architecture ------------------------------------------------------------------


@dataclass
class Names:
    """Everything one stack creates, so concurrent stacks never collide."""

    prefix: str
    cluster: str
    namespace: str = "xpander"
    managed_policy_arn: str = ""
    kinds: tuple[str, ...] = ("redshift", "eks", "s3")

    @property
    def role_prefix(self) -> str:
        # xpander-, as the printed deployer policy expects.
        return f"xpander-{self.prefix}-"

    @property
    def base(self) -> str:
        return f"{self.role_prefix}base"

    def connector(self, kind: str) -> str:
        return f"{self.role_prefix}{kind}"

    @property
    def roles(self) -> list[str]:
        return [self.base] + [self.connector(k) for k in self.kinds]


def architecture(names: Names, version: int = 0, org_id: str = "org-reliability-0"):
    """Base role on Pod Identity plus connectors (`names.kinds`) that between
    them cover every kind of AWS object the provider manages: inline policies,
    a managed-policy attachment, the base-role grants, an EKS access entry with
    its access policy, and the Pod Identity association. `version` changes
    what an update touches: ExternalId, policy documents, tags, a custom
    policy, the EKS access policy."""

    def program(ctx):
        base = ctx.resource(BASE, "base", {
            "roleName": names.base,
            "podIdentity": {"clusterName": names.cluster, "namespace": names.namespace},
            "tags": {"cycle": str(version)},
        })
        common = {"baseRoleArn": base["arn"], "baseRoleId": base["roleId"], "externalId": Secret(org_id)}
        if "redshift" in names.kinds:
            ctx.resource(CONNECTOR, "redshift", {
                "roleName": names.connector("redshift"),
                **common,
                "redshift": {"clusterIdentifier": "analytics", "databaseName": f"db{version % 3}"},
            })
        if "eks" in names.kinds:
            ctx.resource(CONNECTOR, "eks", {
                "roleName": names.connector("eks"),
                **common,
                "eks": {"clusterName": names.cluster,
                        "accessPolicyArn": "arn:aws:eks::aws:cluster-access-policy/"
                        + ("AmazonEKSViewPolicy" if version % 2 else "AmazonEKSClusterAdminPolicy")},
            })
        if "s3" not in names.kinds:
            return
        s3: dict[str, Any] = {
            "roleName": names.connector("s3"),
            **common,
            "s3": {"buckets": [f"xpander-data-{version % 4}"], "readOnly": bool(version % 2)},
            "tags": {"team": "data", "v": str(version)},
        }
        if names.managed_policy_arn:
            s3["managedPolicyArns"] = [names.managed_policy_arn]
        if version % 2:
            s3["policies"] = {"Extra": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}}
        ctx.resource(CONNECTOR, "s3", s3)

    return program


# -- comparing state with AWS -------------------------------------------------------------------


def _as_doc(value: Any) -> Any:
    if isinstance(value, str):
        return json.loads(unquote(value) if value.startswith("%") else value)
    return value


def canonical(doc: Any) -> Any:
    """A policy document in a form where equal meaning compares equal:
    single values and one-element lists alike, lists sorted, statements by Sid."""
    doc = _as_doc(unwrap_secrets(doc))

    def norm(v):
        if isinstance(v, dict):
            return {k: norm(x) for k, x in sorted(v.items())}
        if isinstance(v, list):
            items = [norm(x) for x in v]
            return sorted(items, key=lambda x: json.dumps(x, sort_keys=True))
        return v

    out = norm(doc)
    for stmt in out.get("Statement", []) if isinstance(out.get("Statement"), list) else []:
        for key in ("Action", "NotAction", "Resource", "NotResource"):
            if isinstance(stmt.get(key), str):
                stmt[key] = [stmt[key]]
        principal = stmt.get("Principal")
        if isinstance(principal, dict):
            for k, v in principal.items():
                if isinstance(v, str):
                    principal[k] = [v]
    if isinstance(out.get("Statement"), dict):
        out["Statement"] = [out["Statement"]]
    return out


class Mismatch(AssertionError):
    pass


def inspect_clients(aws):
    return aws.boto3_client("iam", config=PATIENT), aws.boto3_client("eks", config=PATIENT)


def assert_state_matches_aws(aws, stack: Stack, names: Names) -> None:
    """Every resource in state exists in AWS exactly as its outputs say, and
    nothing the stack does not know about exists under its names."""
    iam, eks = inspect_clients(aws)
    problems: list[str] = []
    by_role = {}
    for res in stack.resources:
        out = unwrap_secrets(res.outputs)
        if res.init_errors:
            problems.append(f"{res.name}: left with init errors {res.init_errors}")
        role = iam.get_role(RoleName=res.id)["Role"]
        by_role[res.id] = (res, out)
        if role["RoleId"] != out.get("roleId"):
            problems.append(f"{res.name}: roleId {out.get('roleId')} in state, {role['RoleId']} in AWS")
        if role["Arn"] != out.get("arn"):
            problems.append(f"{res.name}: arn {out.get('arn')} in state, {role['Arn']} in AWS")
        if canonical(role["AssumeRolePolicyDocument"]) != canonical(out.get("trustPolicy")):
            problems.append(f"{res.name}: trust policy differs from state")
        live_boundary = role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
        if live_boundary != out.get("permissionsBoundary"):
            problems.append(f"{res.name}: boundary {live_boundary} in AWS, {out.get('permissionsBoundary')} in state")
        live_tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=res.id)["Tags"]}
        if live_tags != out.get("tagsAll"):
            problems.append(f"{res.name}: tags {live_tags} in AWS, {out.get('tagsAll')} in state")
        inline = iam.list_role_policies(RoleName=res.id)["PolicyNames"]
        want = out.get("policies") or {}
        if res.type == BASE:
            # The base role also carries one grant per connector, owned by that connector.
            inline = [p for p in inline if not p.startswith("xpander-assume-")]
        if sorted(inline) != sorted(want):
            problems.append(f"{res.name}: inline policies {sorted(inline)} in AWS, {sorted(want)} in state")
        for name in set(inline) & set(want):
            live = iam.get_role_policy(RoleName=res.id, PolicyName=name)["PolicyDocument"]
            if canonical(live) != canonical(want[name]):
                problems.append(f"{res.name}: inline policy {name} differs from state")
        attached = sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=res.id)["AttachedPolicies"])
        if attached != sorted(out.get("managedPolicyArns") or []):
            problems.append(f"{res.name}: attached {attached}, state {out.get('managedPolicyArns')}")
        if res.type == BASE:
            assoc_id = out.get("podIdentityAssociationId")
            try:
                assoc = eks.describe_pod_identity_association(clusterName=names.cluster, associationId=assoc_id)["association"]
                if assoc["roleArn"] != role["Arn"] or assoc["namespace"] != names.namespace:
                    problems.append(f"{res.name}: association {assoc_id} points at {assoc['roleArn']}")
            except eks.exceptions.ResourceNotFoundException:
                problems.append(f"{res.name}: association {assoc_id} missing")
            listed = eks.list_pod_identity_associations(clusterName=names.cluster, namespace=names.namespace)["associations"]
            if len(listed) != 1:
                problems.append(f"{res.name}: {len(listed)} associations for {names.namespace}/xpander")
        if res.type == CONNECTOR:
            grant = out.get("grantPolicyName")
            base_role = out["baseRoleArn"].rsplit("/", 1)[1]
            if not grant:
                problems.append(f"{res.name}: no grantPolicyName in state")
            else:
                try:
                    iam.get_role_policy(RoleName=base_role, PolicyName=grant)
                except iam.exceptions.NoSuchEntityException:
                    problems.append(f"{res.name}: grant {grant} missing on {base_role}")
            if out.get("eks"):
                try:
                    entry = eks.describe_access_entry(clusterName=names.cluster, principalArn=role["Arn"])["accessEntry"]
                    if entry["accessEntryArn"] != out.get("accessEntryArn"):
                        problems.append(f"{res.name}: access entry arn differs")
                    pols = eks.list_associated_access_policies(clusterName=names.cluster, principalArn=role["Arn"])
                    arns = [p["policyArn"] for p in pols["associatedAccessPolicies"]]
                    if arns != [out["eks"]["accessPolicyArn"]]:
                        problems.append(f"{res.name}: access policies {arns}, want {out['eks']['accessPolicyArn']}")
                except eks.exceptions.ResourceNotFoundException:
                    problems.append(f"{res.name}: access entry missing")
    # Nothing under our names that state does not know about.
    live_roles = [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(names.role_prefix)]
    extra = sorted(set(live_roles) - set(by_role))
    if extra:
        problems.append(f"roles in AWS not in state: {extra}")
    if names.base in by_role:
        grants = sorted(p for p in iam.list_role_policies(RoleName=names.base)["PolicyNames"] if p.startswith("xpander-assume-"))
        want_grants = sorted(unwrap_secrets(r.outputs).get("grantPolicyName") for r in stack.resources if r.type == CONNECTOR)
        if grants != want_grants:
            problems.append(f"grants on the base role {grants}, want {want_grants}")
    entries = [e for e in eks.list_access_entries(clusterName=names.cluster)["accessEntries"]
               if e.rsplit("/", 1)[1].startswith(names.role_prefix)]
    want_entries = sorted(unwrap_secrets(r.outputs)["arn"] for r in stack.resources if unwrap_secrets(r.outputs).get("eks"))
    if sorted(entries) != want_entries:
        problems.append(f"access entries {sorted(entries)}, want {want_entries}")
    if problems:
        raise Mismatch("state does not match AWS:\n  " + "\n  ".join(problems))


def leftovers(aws, names: Names) -> list[str]:
    """What is left in AWS under a stack's names: roles (with their inline
    policies and attachments), Pod Identity associations, access entries,
    and attachments of the stack's managed policy."""
    iam, eks = inspect_clients(aws)
    found: list[str] = []
    for role in iam.list_roles()["Roles"]:
        name = role["RoleName"]
        if name.startswith(names.role_prefix):
            found.append(f"role {name}")
            found += [f"inline policy {name}/{p}" for p in iam.list_role_policies(RoleName=name)["PolicyNames"]]
            found += [f"attachment {name}/{p['PolicyArn']}"
                      for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]]
    assocs = eks.list_pod_identity_associations(clusterName=names.cluster, namespace=names.namespace)["associations"]
    found += [f"association {a['associationId']}" for a in assocs]
    found += [f"access entry {e}" for e in eks.list_access_entries(clusterName=names.cluster)["accessEntries"]
              if e.rsplit("/", 1)[1].startswith(names.role_prefix)]
    if names.managed_policy_arn:
        count = iam.get_policy(PolicyArn=names.managed_policy_arn)["Policy"].get("AttachmentCount", 0)
        if count:
            found.append(f"{count} attachments of {names.managed_policy_arn}")
    return found


def wait_for_request(aws, predicate, since: int = 0, timeout: float = 30.0) -> dict:
    """The first request-log entry after `since` matching `predicate`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for entry in aws.requests(since):
            if predicate(entry):
                return entry
        time.sleep(0.05)
    raise TimeoutError("no matching AWS request within the timeout")


def last_seq(aws) -> int:
    entries = aws.requests()
    return entries[-1]["seq"] if entries else 0
