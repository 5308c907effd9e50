"""Every trust policy the provider writes passes the linter the permission
policies pass (test_policies.py): the connectors' (the full trust and the one
CreateRole writes first) and the base role's, scoped to a Pod Identity
association or not.

parliament has no mode for resource-based policies: a statement without a
Resource element is MALFORMED ("Statement contains neither Resource nor
NotResource") before anything else of it is checked (parliament/statement.py,
analyze_statement), and a trust policy cannot have one (its resource is the
role it is attached to). So each statement is linted as a one-statement
policy on the resource IAM implies, the role's own ARN, which is what
sts:AssumeRole and sts:TagSession act on. Everything else of the statement is
then judged: the principal's form (UNKNOWN_PRINCIPAL), each action, the role
against the actions' resource type (RESOURCE_MISMATCH), each condition key
against each action (UNKNOWN_CONDITION_FOR_ACTION) and each operator against
its key's type (MISMATCHED_TYPE, MISMATCHED_TYPE_BUT_USABLE).

A finding fails the test unless the seed's own statement of the same Sid has
it (`TRUST_BASELINE`, with its reason).

Documents: connectors rendered offline by `xpander:index:renderConnectorPolicies`
over every trust input (base role or none; ExternalId with and without
trustedAccountId, or none; podIdentityTrust with podIdentityScope of a cluster
alone or of a whole association, without, or off; three partitions); base
roles and connectors as the provider writes them to awssim (base role with
podIdentity, with disableSessionTags, and without podIdentity).
"""

from __future__ import annotations

import itertools
import json
import os

import pytest

from e2e.seed import ACCOUNT, BASE, CONNECTOR, provider_config, trust_of
from engine import Engine, ProviderProcess, Secret, Stack
from policy_lint.test_policies import BINARY, findings, offline, partition, render  # noqa: F401 (fixture)

PLATFORM = "777788889999"
ORG_ID = "org-7f3a9c21"
CLUSTER = "xpander-cluster"
CONNECTOR_ROLE = "xpander-redshift-access"

# The seed's trust templates (Step 1 and Step 2), placeholders filled:
# <ACCOUNT_ID> 123456789012, <ORGANIZATION_ID> org-7f3a9c21,
# <THIS_ROLE_NAME> xpander-redshift-access.
SEED_BASE_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow",
    "Principal": {"Service": "pods.eks.amazonaws.com"},
    "Action": ["sts:AssumeRole", "sts:TagSession"],
}]}
SEED_CONNECTOR_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Sid": "PodIdentity", "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
     "Action": ["sts:AssumeRole", "sts:TagSession"]},
    {"Sid": "CrossAccountWithExternalId", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
     "Action": ["sts:AssumeRole", "sts:TagSession"], "Condition": {"StringEquals": {"sts:ExternalId": ORG_ID}}},
    {"Sid": "SelfAssume", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/{CONNECTOR_ROLE}"},
     "Action": ["sts:AssumeRole", "sts:TagSession"]},
    {"Sid": "AllowFromBaseRole", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/xpander-base-role"},
     "Action": ["sts:AssumeRole", "sts:TagSession"]},
]}

# What the linter reports on the seed's own trust statements: allowed on the
# rendered statement of the same Sid, nowhere else.
TRUST_BASELINE = {
    ("CrossAccountWithExternalId", "UNKNOWN_CONDITION_FOR_ACTION", "Unknown condition sts:ExternalId for action sts:TagSession"): (
        "the seed's statement allows sts:TagSession under its sts:ExternalId condition; the Service Authorization "
        "Reference lists sts:ExternalId for sts:AssumeRole only. Kept as the seed writes it"),
}


def trust_findings(doc: dict, role_arn: str) -> list[tuple[str | None, tuple, str]]:
    """(Sid, atom, the linter's line) of every finding, each statement linted on the role."""
    statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    out = []
    for statement in statements:
        one = {"Version": doc.get("Version", "2012-10-17"), "Statement": [{**statement, "Resource": role_arn}]}
        out += [(statement.get("Sid"), atom, line) for atom, line in findings(one)]
    return out


def seed_trust_atoms() -> set[tuple]:
    found = trust_findings(SEED_BASE_TRUST, f"arn:aws:iam::{ACCOUNT}:role/xpander-base-role")
    found += trust_findings(SEED_CONNECTOR_TRUST, f"arn:aws:iam::{ACCOUNT}:role/{CONNECTOR_ROLE}")
    return {(sid, *atom) for sid, atom, _ in found}


def problems_of(doc: dict, role_arn: str, label: str) -> list[str]:
    allowed = set(TRUST_BASELINE)
    return [f"{label} {sid}: {line}" for sid, atom, line in trust_findings(doc, role_arn) if (sid, *atom) not in allowed]


def plain(value):
    """A document with its secrets (the ExternalId) revealed, as IAM stores it."""
    value = value.value if isinstance(value, Secret) else value
    value = json.loads(json.dumps(value, default=lambda v: v.value if isinstance(v, Secret) else v))
    return json.loads(value) if isinstance(value, str) else value


def conditions(doc: dict) -> set[str]:
    return {key for s in doc["Statement"] for block in s.get("Condition", {}).values() for key in block}


# --------------------------------------------------------------------------

SCOPES = [None, {"clusterName": "prod"}, {"clusterName": "prod", "namespace": "agents", "serviceAccount": "gateway"}]
EXTERNAL = ["none", "own-account", "platform"]


def connector_cases() -> list[dict]:
    out = []
    for region, base, external, pods, scope in itertools.product(
            ["us-east-1", "cn-north-1", "us-gov-west-1"], [True, False], EXTERNAL, [True, False], SCOPES):
        if scope and not pods:
            continue
        args = {"roleName": CONNECTOR_ROLE, "accountId": ACCOUNT, "region": region,
                "s3": {"buckets": ["xpander-data"], "readOnly": True}}
        if base:
            args["baseRoleArn"] = f"arn:{partition(region)}:iam::{ACCOUNT}:role/xpander-base-role"
        if external != "none":
            args["externalId"] = Secret(ORG_ID)
        if external == "platform":
            args["trustedAccountId"] = PLATFORM
        if not pods:
            args["podIdentityTrust"] = False
        if scope:
            args["podIdentityScope"] = scope
        out.append(args)
    return out


def test_linter_sees_each_kind_of_trust_defect():
    """The same procedure on broken statements: each is reported."""
    role = f"arn:aws:iam::{ACCOUNT}:role/{CONNECTOR_ROLE}"
    ok = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PLATFORM}:root"}, "Action": "sts:AssumeRole"}
    cases = [
        ({**ok, "Principal": {"AWS": "platform-account"}}, "UNKNOWN_PRINCIPAL"),
        ({**ok, "Action": "sts:AssumeRoles"}, "UNKNOWN_ACTION"),
        ({**ok, "Condition": {"StringEquals": {"s3:prefix": "x"}}}, "UNKNOWN_CONDITION_FOR_ACTION"),
        ({**ok, "Condition": {"NumericEquals": {"sts:ExternalId": "1"}}}, "MISMATCHED_TYPE"),
        ({**ok, "Condition": {"StringEquals": {"sts:ExternalId": ORG_ID}}}, None),
        ({**ok, "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"],
          "Condition": {"StringEquals": {"aws:RequestTag/kubernetes-namespace": "xpander"}}}, None),
    ]
    for statement, issue in cases:
        found = {atom[0] for _, atom, _ in trust_findings({"Version": "2012-10-17", "Statement": [statement]}, role)}
        assert found == ({issue} if issue else set()), (statement, found)


def test_seed_trust_baseline_is_what_the_linter_reports():
    assert seed_trust_atoms() == set(TRUST_BASELINE), "the seed's own trust findings changed: review TRUST_BASELINE"


def test_rendered_connector_trusts_pass_the_linter(offline):  # noqa: F811
    problems, linted, scoped = [], 0, 0
    for args in connector_cases():
        rendered, failures = render(offline, args)
        label = json.dumps(args, default=lambda v: "***", separators=(",", ":"))
        if failures or rendered is None:
            problems.append(f"{label}\n    render refused: {failures}")
            continue
        for key in ("initialTrustPolicy", "trustPolicy"):
            doc = plain(rendered[key])
            linted += 1
            scoped += "aws:RequestTag/eks-cluster-arn" in conditions(doc)
            problems += problems_of(doc, rendered["roleArn"], f"{label}\n    {key}")
    assert linted == 2 * len(connector_cases()) and scoped, (linted, scoped)
    assert not problems, f"{len(problems)} finding(s) not in the seed's own trust:\n" + "\n".join(problems)


def test_written_trusts_pass_the_linter(aws):
    """The base role's trust in its three forms and the connectors', read back
    from IAM as the provider wrote them."""
    aws.boto3_client("eks").create_cluster(
        name=CLUSTER, roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster", resourcesVpcConfig={},
        accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})
    bases = {
        "xpander-base-role": {"podIdentity": {"clusterName": CLUSTER}},
        "xpander-base-untagged": {"podIdentity": {"clusterName": CLUSTER, "namespace": "untagged", "disableSessionTags": True}},
        "xpander-base-unassociated": {},
    }
    connectors = {
        "xpander-scoped": {"externalId": Secret(ORG_ID), "trustedAccountId": PLATFORM, "podIdentityScope": {"clusterName": CLUSTER}},
        "xpander-unscoped": {"externalId": Secret(ORG_ID)},
        "xpander-chain-only": {"podIdentityTrust": False},
    }

    def program(ctx):
        arns = {}
        for name, inputs in bases.items():
            base = ctx.resource(BASE, name, {"roleName": name, **inputs})
            arns[name] = (base["arn"], base["roleId"])
        for name, inputs in connectors.items():
            arn, role_id = arns["xpander-base-role"]
            ctx.resource(CONNECTOR, name, {"roleName": name, "baseRoleArn": arn, "baseRoleId": role_id,
                                           "s3": {"buckets": ["xpander-data"], "readOnly": True}, **inputs})

    env = {**os.environ, **aws.provider_env()}
    env.pop("AWS_ENDPOINT_URL", None)
    with ProviderProcess(BINARY, env=env) as proc:
        engine = Engine(proc)
        engine.boot(provider_config(aws))
        Stack(engine).up(program)
    iam = aws.boto3_client("iam")
    problems = []
    written = {name: trust_of(iam, name) for name in [*bases, *connectors]}
    for name, doc in written.items():
        problems += problems_of(doc, f"arn:aws:iam::{ACCOUNT}:role/{name}", name)
    assert "aws:RequestTag/kubernetes-service-account" in conditions(written["xpander-base-role"])
    assert "aws:RequestTag/eks-cluster-arn" in conditions(written["xpander-scoped"])
    assert not conditions(written["xpander-base-unassociated"]) and not conditions(written["xpander-base-untagged"])
    assert not problems, f"{len(problems)} finding(s) not in the seed's own trust:\n" + "\n".join(problems)
