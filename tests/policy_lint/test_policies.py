"""Every permission policy a template renders is valid against the AWS Service
Authorization Reference: each action exists, each resource ARN matches a
resource type the action supports, each condition key is one the action
supports.

The judge is ol-parliament (PyPI, pinned in tests/requirements.txt): the
maintained fork of duo-labs' parliament, with its bundled catalogue of the
Service Authorization Reference refreshed in 2026. It reports UNKNOWN_PREFIX /
UNKNOWN_ACTION, RESOURCE_MISMATCH, UNKNOWN_CONDITION_FOR_ACTION,
MISMATCHED_TYPE, INVALID_ARN and its pattern findings (RESOURCE_STAR, ...).

Documents come from the provider's offline Invoke
`xpander:index:renderConnectorPolicies` (with `accountId` it calls no AWS) over
a matrix of options for every data source, read from the provider's own schema
so that an option added later without variants here fails
`test_every_option_is_in_the_matrix`. Linted: each inline policy (the data
sources' and `SelfAssumeAndTagSession`) and the base-role grant. Trust
policies are linted by test_trust_policies.py (each statement on the role it
is attached to: parliament requires a Resource element). Not linted: the
user's own `policies` (written as given).

A finding fails the test unless the seed's own document of the same name has
the same finding (`BASELINE`, each with its reason); S3Access, DynamoDBAccess
and AthenaAccess have no seed document, so any finding there fails.

parliament's RESOURCE_MISMATCH only looks at resource types the catalogue marks
required, and the current Reference marks every S3 resource type optional
(bucket / object / access point), so it cannot see `s3:GetObject` on a bucket
ARN. `test_optional_resource_types_match` closes that gap with parliament's own
catalogue and ARN matcher for exactly the actions its check skips: at least one
of the statement's resources must match one of the action's resource types.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import pytest
from parliament import analyze_policy_string, enhance_finding, expand_action, is_arn_match, is_arn_strictly_valid
from parliament.statement import get_arn_format, get_privilege_info

from engine import Engine, ProviderProcess, Secret, clean_env, from_struct, to_struct
from pulumi.runtime.proto import provider_pb2

REPO = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("XPANDER_PROVIDER_BINARY", REPO / "target" / "debug" / "pulumi-resource-xpander"))
RENDER = "xpander:index:renderConnectorPolicies"
LINTER, LINTER_VERSION = "ol-parliament", "1.7.0"

ACCOUNT = "123456789012"
ROLE = "xpander-connector"
BASE_ROLE = "xpander-base-role"
VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"

# --------------------------------------------------------------------------
# The seed's documents (IAM Best Practices, steps 1-2), placeholders filled:
# <ACCOUNT_ID> 123456789012, <REGION> us-east-1, <CLUSTER_ID> analytics,
# <DB_NAME> dev, <CONNECTOR_ROLE> xpander-redshift-access.

SEED = {
    "AssumeConnectorRoles": {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Resource": [
                f"arn:aws:iam::{ACCOUNT}:role/xpander-redshift-access",
                f"arn:aws:iam::{ACCOUNT}:role/xpander-eks-connector",
            ],
        }],
    },
    "SelfAssumeAndTagSession": {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Resource": f"arn:aws:iam::{ACCOUNT}:role/xpander-redshift-access",
        }],
    },
    "RedshiftCredentials": {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": [
                "redshift:GetClusterCredentials",
                "redshift:GetClusterCredentialsWithIAM",
                "redshift:DescribeClusters",
            ],
            "Resource": [
                f"arn:aws:redshift:us-east-1:{ACCOUNT}:cluster:analytics",
                f"arn:aws:redshift:us-east-1:{ACCOUNT}:dbname:analytics/dev",
                f"arn:aws:redshift:us-east-1:{ACCOUNT}:dbuser:analytics/*",
            ],
        }],
    },
    "RedshiftDataAPI": {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": [
                "redshift-data:ExecuteStatement",
                "redshift-data:GetStatementResult",
                "redshift-data:DescribeStatement",
                "redshift-data:ListStatements",
                "redshift-data:CancelStatement",
                "redshift-data:BatchExecuteStatement",
                "redshift-data:ListDatabases",
                "redshift-data:ListSchemas",
                "redshift-data:ListTables",
                "redshift-data:DescribeTable",
            ],
            "Resource": "*",
        }],
    },
    "EKSAccess": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "eks:DescribeCluster",
                    "eks:ListClusters",
                    "eks:ListNodegroups",
                    "eks:DescribeNodegroup",
                    "eks:ListInsights",
                    "eks:DescribeInsight",
                    "eks:AccessKubernetesApi",
                ],
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Action": [
                    "logs:GetLogEvents",
                    "logs:FilterLogEvents",
                    "logs:DescribeLogGroups",
                    "logs:DescribeLogStreams",
                ],
                "Resource": "*",
            },
        ],
    },
}

# Which seed document a rendered one is held to; the others have none.
SEED_OF = {
    "grant": "AssumeConnectorRoles",
    "SelfAssumeAndTagSession": "SelfAssumeAndTagSession",
    "RedshiftCredentials": "RedshiftCredentials",
    "RedshiftDataAPI": "RedshiftDataAPI",
    "EKSAccess": "EKSAccess",
}

_EKS_STAR = "the seed's EKSAccess grants it on Resource \"*\" (every cluster in the account), kept as the default"
_LOGS_STAR = "the seed's EKSAccess grants it on Resource \"*\" (every log group), kept as the default"
_DATA_STAR = ("the seed's RedshiftDataAPI grants it on Resource \"*\"; it also takes a cluster or workgroup ARN, "
              "but the statement shares \"*\" with the statement-id actions that take no resource")

# What the linter reports on the seed's own documents: allowed on the rendered
# document of the same name, nowhere else.
BASELINE = {
    ("EKSAccess", "RESOURCE_STAR", "eks:AccessKubernetesApi"): _EKS_STAR,
    ("EKSAccess", "RESOURCE_STAR", "eks:DescribeCluster"): _EKS_STAR,
    ("EKSAccess", "RESOURCE_STAR", "eks:DescribeInsight"): _EKS_STAR,
    ("EKSAccess", "RESOURCE_STAR", "eks:DescribeNodegroup"): _EKS_STAR,
    ("EKSAccess", "RESOURCE_STAR", "eks:ListInsights"): _EKS_STAR,
    ("EKSAccess", "RESOURCE_STAR", "eks:ListNodegroups"): _EKS_STAR,
    ("EKSAccess", "RESOURCE_STAR", "logs:DescribeLogStreams"): _LOGS_STAR,
    ("EKSAccess", "RESOURCE_STAR", "logs:FilterLogEvents"): _LOGS_STAR,
    ("EKSAccess", "RESOURCE_STAR", "logs:GetLogEvents"): _LOGS_STAR,
    ("RedshiftDataAPI", "RESOURCE_STAR", "redshift-data:DescribeTable"): _DATA_STAR,
    ("RedshiftDataAPI", "RESOURCE_STAR", "redshift-data:ListDatabases"): _DATA_STAR,
    ("RedshiftDataAPI", "RESOURCE_STAR", "redshift-data:ListSchemas"): _DATA_STAR,
    ("RedshiftDataAPI", "RESOURCE_STAR", "redshift-data:ListTables"): _DATA_STAR,
}

# A model and a profile for the checks' own defect examples below.
MODEL = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0"
PROFILE = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0"

# --------------------------------------------------------------------------
# The option matrix, from the provider's own registry of data sources
# (`pulumi-resource-xpander sources --json`): each source states its input,
# schema type, policy names and example values for each of its fields (None:
# left out; the last is the most configured), and an input that widens its
# grant with wildcards. A source added later brings its own variants.


def _registry() -> list[dict]:
    assert BINARY.exists(), f"provider binary missing at {BINARY}: run `make build`"
    done = subprocess.run([str(BINARY), "sources", "--json"], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


REGISTRY = _registry()
SOURCES = {s["key"]: s["type"] for s in REGISTRY}
POLICIES_OF = {s["key"]: set(s["policies"]) for s in REGISTRY}
VARIANTS: dict[str, list] = {f"{s['key']}.{field}": values for s in REGISTRY for field, values in s["variants"].items()}
WILDCARDS = {s["key"]: s["wildcard"] for s in REGISTRY if s["wildcard"] is not None}

# Role-level inputs: varied by the matrix, or why they need not be.
ROLE_INPUTS_VARIED = {"roleName", "path", "baseRoleArn", "grantBaseRole", "region", "accountId", "allowWildcards", *SOURCES}
ROLE_INPUTS_NOT_LINTED = {
    "description": "role metadata, in no policy",
    "maxSessionDuration": "role metadata, in no policy",
    "tags": "role metadata, in no policy",
    "permissionsBoundary": "an existing managed policy, attached by ARN",
    "managedPolicyArns": "existing managed policies, attached by ARN",
    "policies": "the user's own documents, written as given",
    "baseRoleId": "only makes an update rewrite the trust and grant",
    "externalId": "trust policy only: every form linted by test_trust_policies.py",
    "trustedAccountId": "trust policy only: every form linted by test_trust_policies.py",
    "podIdentityTrust": "trust policy only: every form linted by test_trust_policies.py",
    "podIdentityScope": "trust policy only: every form linted by test_trust_policies.py",
    "partition": "follows the region here: cn-north-1 is aws-cn, us-gov-west-1 is aws-us-gov",
}

REGIONS = ["us-east-1", "cn-north-1", "us-gov-west-1"]
PATHS = [None, "/xpander/"]
BASES = ["grant", "no-base", "no-grant"]

def partition(region: str) -> str:
    return {"cn": "aws-cn", "us-gov": "aws-us-gov"}.get(region.rsplit("-", 2)[0], "aws")


def role_args(region: str = "us-east-1", path: str | None = None, base: str = "grant") -> dict:
    args = {"roleName": ROLE, "accountId": ACCOUNT, "region": region}
    if path:
        args["path"] = path
    if base != "no-base":
        args["baseRoleArn"] = f"arn:{partition(region)}:iam::{ACCOUNT}:role/{BASE_ROLE}"
    if base == "no-grant":
        args["grantBaseRole"] = False
    return args


def source_props(schema: dict, source: str) -> list[str]:
    return sorted(schema["types"][f"xpander:index:{SOURCES[source]}"]["properties"])


def spec(names: list[str], values) -> dict:
    return {n: v for n, v in zip(names, values) if v is not None}


def label(args: dict) -> str:
    return json.dumps(args, separators=(",", ":"))


def cases(schema: dict, group: str) -> list[dict]:
    """The argument sets of one group of the matrix."""
    if group == "wildcards":
        return [{**role_args(), "allowWildcards": True, src: s} for src, s in WILDCARDS.items()]
    if group == "all-sources":
        every = {}
        for src in SOURCES:
            names = source_props(schema, src)
            every[src] = spec(names, [None if n == "region" else VARIANTS[f"{src}.{n}"][-1] for n in names])
        return [{**role_args(r, "/xpander/", "grant"), **every} for r in REGIONS]
    names = source_props(schema, group)
    variants = [VARIANTS[f"{group}.{n}"] for n in names]
    # Each combination of the source's own options, in the default role setup.
    out = [{**role_args(), group: spec(names, combo)} for combo in itertools.product(*variants)]
    # Its least and most configured forms in every partition, path and base-role setup
    # (the source's own region left out: a partition has its own regions).
    least = spec(names, [None if n == "region" else v[0] for n, v in zip(names, variants)])
    most = spec(names, [None if n == "region" else v[-1] for n, v in zip(names, variants)])
    for region, path, base in itertools.product(REGIONS, PATHS, BASES):
        out += [{**role_args(region, path, base), group: s} for s in (least, most)]
    return out


# --------------------------------------------------------------------------
# Linting.

def statements(doc: dict) -> list[dict]:
    s = doc.get("Statement", [])
    return s if isinstance(s, list) else [s]


def as_list(v) -> list:
    return v if isinstance(v, list) else [v]


@lru_cache(maxsize=None)
def lint(text: str) -> tuple[tuple[tuple, str], ...]:
    """(atom, the linter's own line) for each finding; an atom is one action's
    share of a finding that lists several."""
    policy = analyze_policy_string(text, ignore_private_auditors=True, include_community_auditors=False)
    out = []
    for finding in policy.findings:
        f = enhance_finding(finding)
        line = f"{f.severity} - {f.title} - {f.description} - {f.detail} - {f.location}"
        if f.issue == "RESOURCE_STAR":
            out += [((f.issue, a), line) for a in f.detail]
        elif f.issue == "RESOURCE_MISMATCH":
            out += [((f.issue, d["action"], d["required_format"]), line) for d in f.detail]
        else:
            out.append(((f.issue, f.detail if isinstance(f.detail, str) else json.dumps(f.detail, sort_keys=True)), line))
    return tuple(out)


@lru_cache(maxsize=None)
def optional_type_mismatches(text: str) -> tuple[tuple[tuple, str], ...]:
    """Allowed actions whose resource types are all optional in the catalogue
    (parliament's RESOURCE_MISMATCH skips them) and none of whose types any
    resource of the statement matches."""
    out = []
    for i, stmt in enumerate(statements(json.loads(text))):
        if stmt.get("Effect") != "Allow" or "Resource" not in stmt:
            continue
        resources = as_list(stmt["Resource"])
        if "*" in resources:
            continue
        for pattern in as_list(stmt.get("Action", [])):
            for a in expand_action(pattern, raise_exceptions=False):  # unknown ones: parliament's finding
                info = get_privilege_info(a["service"], a["action"])
                types = [t["resource_type"] for t in info["resource_types"] if t["resource_type"]]
                if not types or any("*" in t for t in types):
                    continue  # needs "*" or has a required type: parliament's own check
                formats = [get_arn_format(t, info["service_resources"]) for t in types]
                if not any(is_arn_strictly_valid(t, f, r) for t, f in zip(types, formats) for r in resources):
                    action = f"{a['service']}:{a['action']}"
                    line = (f"{action} matches none of its resource types {dict(zip(types, formats))} "
                            f"with {resources} (statement {stmt.get('Sid', i)})")
                    out.append((("OPTIONAL_RESOURCE_MISMATCH", action, tuple(formats)), line))
    return tuple(out)


def one_of_several_matched(doc: dict, action: str) -> bool:
    """The catalogue marks every resource type of some actions as required
    (bedrock:InvokeModel lists eleven: a foundation model *or* an inference
    profile *or* ...), and parliament reports each type the statement does not
    match. AWS reads them as alternatives: the action is scoped when a resource
    of the statement matches one of them (by parliament's own matcher: its
    strict one counts colons, and model ids such as `…-v1:0` hold one)."""
    service, name = action.split(":", 1)
    info = get_privilege_info(service, name)
    types = [t["resource_type"].rstrip("*") for t in info["resource_types"] if t["resource_type"].endswith("*")]
    if len(types) < 2:
        return False
    formats = [get_arn_format(t, info["service_resources"]) for t in types]
    for stmt in statements(doc):
        actions = {f"{a['service']}:{a['action']}".lower()
                   for p in as_list(stmt.get("Action", [])) for a in expand_action(p, raise_exceptions=False)}
        if stmt.get("Effect") == "Allow" and action.lower() in actions:
            if any(is_arn_match(t, f, r) for t, f in zip(types, formats) for r in as_list(stmt.get("Resource", []))):
                return True
    return False


def findings(doc: dict) -> tuple[tuple[tuple, str], ...]:
    text = json.dumps(doc, sort_keys=True)
    found = lint(text) + optional_type_mismatches(text)
    return tuple((atom, line) for atom, line in found
                 if not (atom[0] == "RESOURCE_MISMATCH" and one_of_several_matched(doc, atom[1])))


def seed_atoms() -> set[tuple]:
    return {(name, *atom) for name, doc in SEED.items() for atom, _ in findings(doc)}


# --------------------------------------------------------------------------
# The provider.

@pytest.fixture(scope="module")
def offline():
    """A provider that cannot reach any AWS: no credentials, a dead endpoint."""
    assert BINARY.exists(), f"provider binary missing at {BINARY}: run `make build`"
    env = clean_env(REPO, AWS_REGION="us-east-1", AWS_ENDPOINT_URL="http://127.0.0.1:9")
    with ProviderProcess(BINARY, env=env) as proc:
        eng = Engine(proc)
        eng.boot({"region": "us-east-1", "skipCredentialsValidation": True})
        yield eng


@pytest.fixture(scope="module")
def schema(offline) -> dict:
    return json.loads(offline.call("GetSchema", provider_pb2.GetSchemaRequest()).schema)


def render(engine: Engine, args: dict) -> tuple[dict | None, list]:
    response = engine.call("Invoke", provider_pb2.InvokeRequest(tok=RENDER, args=to_struct(args)))
    result = from_struct(getattr(response, "return")) if response.HasField("return") else None
    return result, [(f.property, f.reason) for f in response.failures]


def documents(rendered: dict) -> dict[str, dict]:
    """The permission policies of one render: inline policies and the grant."""
    docs = {name: (d.value if isinstance(d, Secret) else d) for name, d in rendered["policies"].items()}
    docs = {name: (json.loads(d) if isinstance(d, str) else d) for name, d in docs.items()}
    if "grant" in rendered:
        docs["grant"] = rendered["grant"]["policy"]
    return docs


def violations(engine: Engine, schema: dict, group: str, check) -> tuple[list[str], int]:
    """Every finding of `check` on the group's documents that the seed's
    document of the same name does not have; and how many documents were linted."""
    allowed = seed_atoms()
    problems, linted = [], 0
    for args in cases(schema, group):
        rendered, failures = render(engine, args)
        if failures or rendered is None:
            problems.append(f"{label(args)}\n    render refused: {failures}")
            continue
        docs = documents(rendered)
        expected = {"SelfAssumeAndTagSession"}.union(*(POLICIES_OF[s] for s in SOURCES if s in args))
        expected |= {"grant"} if "baseRoleArn" in args and args.get("grantBaseRole", True) else set()
        if set(docs) != expected:
            problems.append(f"{label(args)}\n    rendered {sorted(docs)}, expected {sorted(expected)}")
        for name, doc in sorted(docs.items()):
            linted += 1
            for atom, line in check(doc):
                if (SEED_OF.get(name), *atom) not in allowed:
                    problems.append(f"{label(args)}\n    {name}: {line}")
    return problems, linted


# --------------------------------------------------------------------------
# The tests.

GROUPS = [*SOURCES, "all-sources", "wildcards"]


def test_linter_is_the_pinned_one():
    # BASELINE was read off this version's catalogue; review it when upgrading.
    assert metadata.version(LINTER) == LINTER_VERSION


def _doc(action, resource, condition=None) -> dict:
    stmt = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        stmt["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [stmt]}


DEFECTS = [
    (_doc("s3:GetObjects", "arn:aws:s3:::b/*"), "UNKNOWN_ACTION"),
    (_doc("s4:GetObject", "arn:aws:s3:::b/*"), "UNKNOWN_PREFIX"),
    (_doc("dynamodb:GetItem", "arn:aws:s3:::b"), "RESOURCE_MISMATCH"),
    (_doc("logs:DescribeLogGroups", "arn:aws:logs:us-east-1:123456789012:log-group:*"), "RESOURCE_MISMATCH"),
    (_doc("s3:GetBucketLocation", "arn:aws:s3:::b", {"StringLike": {"s3:prefix": ["r/*"]}}), "UNKNOWN_CONDITION_FOR_ACTION"),
    (_doc("s3:GetObject", "arn:aws:s3:::b"), "OPTIONAL_RESOURCE_MISMATCH"),
    (_doc("s3:ListBucket", "arn:aws:s3:::b/*"), "OPTIONAL_RESOURCE_MISMATCH"),
    (_doc("s3:ListBucket", "arn:aws:s3:::b", {"StringLike": {"s3:prefix": ["r/*"]}}), None),
    # An action whose catalogue lists alternative required types: one matched is scoped, none is a mismatch.
    (_doc("bedrock:InvokeModel", MODEL), None),
    (_doc("bedrock:InvokeModel", "arn:aws:s3:::b"), "RESOURCE_MISMATCH"),
    (_doc("bedrock:InvokeModel", MODEL, {"StringEquals": {"bedrock:InferenceProfileArn": [PROFILE]}}), "MISMATCHED_TYPE_BUT_USABLE"),
]


@pytest.mark.parametrize("doc,issue", DEFECTS, ids=lambda v: v if isinstance(v, str) else None)
def test_the_checks_see_each_kind_of_defect(doc, issue):
    found = {atom[0] for atom, _ in findings(doc)}
    assert found == ({issue} if issue else set()), findings(doc)


def test_seed_baseline_is_what_the_linter_reports():
    assert seed_atoms() == set(BASELINE), "the seed's own findings changed: review BASELINE"


def test_every_option_is_in_the_matrix(schema):
    inputs = set(schema["functions"][RENDER]["inputs"]["properties"])
    unclassified = inputs - ROLE_INPUTS_VARIED - set(ROLE_INPUTS_NOT_LINTED)
    assert not unclassified, f"role inputs neither varied by the lint matrix nor explained: {sorted(unclassified)}"
    missing = [f"{s}.{p}" for s in SOURCES for p in source_props(schema, s) if f"{s}.{p}" not in VARIANTS]
    assert not missing, f"options without lint variants: {missing}"


@pytest.mark.parametrize("group", GROUPS)
def test_rendered_policies_pass_the_linter(offline, schema, group):
    if group == "wildcards" and "allowWildcards" not in schema["functions"][RENDER]["inputs"]["properties"]:
        pytest.skip("this provider has no allowWildcards")
    problems, linted = violations(offline, schema, group, findings)
    assert linted, "nothing was linted"
    assert not problems, f"{len(problems)} finding(s) of {LINTER} {LINTER_VERSION} not in the seed's own documents:\n" + "\n".join(problems)


@pytest.mark.parametrize("group", GROUPS)
def test_optional_resource_types_match(offline, schema, group):
    if group == "wildcards" and "allowWildcards" not in schema["functions"][RENDER]["inputs"]["properties"]:
        pytest.skip("this provider has no allowWildcards")
    problems, linted = violations(offline, schema, group, lambda doc: optional_type_mismatches(json.dumps(doc, sort_keys=True)))
    assert linted, "nothing was linted"
    assert not problems, f"{len(problems)} resource(s) matching no resource type of their action:\n" + "\n".join(problems)
