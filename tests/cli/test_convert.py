"""`pulumi convert` of sdk-examples/yaml into Python and TypeScript through the
real CLI: pulumi-converter-yaml reads the YAML program into PCL, and the
language host (tools/pulumi/langhost) writes the project with Pulumi's own
generators.

The converted program is run as generated, its dependencies aside (they are
this checkout's SDKs, which no registry serves). It must type-check, and deploy
to AWS exactly what the YAML program deploys: the same roles, trust,
permission policies, tags, Pod Identity association and EKS access entry.
"""

from __future__ import annotations

import pytest

from awssim.harness import AwsSim
from cli.conftest import CANARY, EXAMPLES, YAML_CONFIG, new_stack, prepare, project_copy
from cli.workspace import Pulumi, mypy, tsc
from e2e.seed import CLUSTER, role_arn

LANGUAGES = {"python": "__main__.py", "typescript": "index.ts"}
ROLES = {"xpander-base-role", "xpander-redshift-access", "xpander-eks-connector"}
SEED_TRUST = ["PodIdentity", "CrossAccountWithExternalId", "SelfAssume", "AllowFromBaseRole"]


def aws_state(sim: AwsSim) -> dict:
    """What a deployment made, without the ids and dates AWS assigns."""
    iam, eks = sim.boto3_client("iam"), sim.boto3_client("eks")
    roles = {}
    for listed in iam.list_roles()["Roles"]:
        name = listed["RoleName"]
        role = iam.get_role(RoleName=name)["Role"]
        roles[name] = {
            "path": role["Path"],
            "description": role.get("Description"),
            "maxSessionDuration": role["MaxSessionDuration"],
            "boundary": role.get("PermissionsBoundary"),
            "trust": role["AssumeRolePolicyDocument"],
            "inline": {
                policy: iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
                for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]
            },
            "managed": sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]),
            "tags": {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=name)["Tags"]},
        }
    associations = []
    for listed in eks.list_pod_identity_associations(clusterName=CLUSTER)["associations"]:
        a = eks.describe_pod_identity_association(clusterName=CLUSTER, associationId=listed["associationId"])["association"]
        associations.append({key: a.get(key) for key in ("namespace", "serviceAccount", "roleArn", "tags")})
    entries = {}
    for principal in eks.list_access_entries(clusterName=CLUSTER)["accessEntries"]:
        entry = eks.describe_access_entry(clusterName=CLUSTER, principalArn=principal)["accessEntry"]
        policies = eks.list_associated_access_policies(clusterName=CLUSTER, principalArn=principal)["associatedAccessPolicies"]
        entries[principal] = {
            "type": entry.get("type"),
            "kubernetesGroups": entry.get("kubernetesGroups"),
            "tags": entry.get("tags"),
            "policies": sorted((p["policyArn"], repr(p["accessScope"])) for p in policies),
        }
    return {"roles": roles, "podIdentityAssociations": associations, "accessEntries": entries}


def assert_nothing_left(sim: AwsSim) -> None:
    assert aws_state(sim) == {"roles": {}, "podIdentityAssociations": [], "accessEntries": {}}


@pytest.fixture(scope="module")
def yaml_deployed(awssim: AwsSim, tmp_path_factory, pulumi_home) -> dict:
    """What the YAML program deploys (once for the module; each test then starts
    from an empty simulator again)."""
    awssim.reset()
    sim = prepare(awssim)
    pulumi = new_stack(sim, tmp_path_factory.mktemp("yaml-reference"), pulumi_home, "yaml")
    pulumi.up()
    state = aws_state(sim)
    pulumi.destroy()
    assert_nothing_left(sim)
    # The reference is the seed's stack, so comparing with it proves something.
    assert set(state["roles"]) == ROLES
    for connector in ("xpander-redshift-access", "xpander-eks-connector"):
        assert [s["Sid"] for s in state["roles"][connector]["trust"]["Statement"]] == SEED_TRUST
    assert [a["roleArn"] for a in state["podIdentityAssociations"]] == [role_arn("xpander-base-role")]
    assert list(state["accessEntries"]) == [role_arn("xpander-eks-connector")]
    return state


def converted(sim: AwsSim, tmp_path, home, language: str) -> Pulumi:
    """sdk-examples/yaml converted into a new project of `language`, which then
    gets the stack config the YAML example's tests use."""
    source = Pulumi(root=tmp_path / "user", project=project_copy("yaml", tmp_path / "yaml"), aws_env=sim.provider_env(), home=home)
    target = tmp_path / language
    source.run("convert", "--from", "yaml", "--language", language, "--out", str(target), "--generate-only")
    program = target / LANGUAGES[language]
    text = program.read_text()
    assert "XpanderBaseRole" in text and "XpanderConnectorRole" in text, text
    if language == "python":
        mypy(program)
    else:
        # The generated package.json names the SDK by version; this checkout's SDK stands in.
        (target / "node_modules").symlink_to(EXAMPLES["typescript"] / "node_modules")
        tsc(target, "--noEmit")
    pulumi = Pulumi(root=tmp_path / "user", project=target, aws_env=sim.provider_env(), home=home)
    pulumi.init(YAML_CONFIG, {"organizationId": CANARY})
    return pulumi


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_the_converted_program_deploys_what_the_yaml_program_deploys(language, yaml_deployed, sim, tmp_path, pulumi_home):
    pulumi = converted(sim, tmp_path, pulumi_home, language)
    sim.clear_requests()
    pulumi.preview()
    assert [r for r in sim.requests() if r["mutating"]] == [], "pulumi preview must not change AWS"

    pulumi.up()
    assert aws_state(sim) == yaml_deployed
    assert pulumi.outputs() == {
        "baseRoleArn": role_arn("xpander-base-role"),
        "redshiftRoleArn": role_arn("xpander-redshift-access"),
        "eksRoleArn": role_arn("xpander-eks-connector"),
    }
    pulumi.preview("--expect-no-changes")

    pulumi.destroy()
    assert_nothing_left(sim)
    assert CANARY not in pulumi.everything_written()
