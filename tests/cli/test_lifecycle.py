"""The everyday path through the real CLI, for the Python and the TypeScript
example: preview a new stack, deploy it, prove it converged, add a connector
through stack config, tear it down."""

from __future__ import annotations

from awssim.harness import AwsSim
from cli.conftest import CANARY
from cli.workspace import Pulumi
from e2e.seed import assert_scoped_trust, chain, role_arn, trust_of

ROLES = {"xpander-base-role", "xpander-redshift-access", "xpander-eks-connector"}


def mutating_calls(sim: AwsSim) -> list[dict]:
    return [r for r in sim.requests() if r["mutating"]]


def test_preview_up_converges_and_destroy(example: Pulumi, sim: AwsSim):
    sim.clear_requests()
    plan = example.plan()
    assert mutating_calls(sim) == [], "pulumi preview must not change AWS"
    assert {name: step["op"] for name, step in plan.items()} == {"base": "create", "redshift": "create", "eks": "create"}

    example.up()
    iam = sim.boto3_client("iam")
    assert {r["RoleName"] for r in iam.list_roles()["Roles"]} == ROLES
    # The seed's four statements: the self-reference was written after propagation.
    sids = [s["Sid"] for s in trust_of(iam, "xpander-redshift-access")["Statement"]]
    assert sids == ["PodIdentity", "CrossAccountWithExternalId", "SelfAssume", "AllowFromBaseRole"]
    assert_scoped_trust(iam, ("xpander-redshift-access", "xpander-eks-connector"))
    outputs = example.outputs()
    assert outputs == {
        "baseRoleArn": role_arn("xpander-base-role"),
        "redshiftRoleArn": role_arn("xpander-redshift-access"),
        "eksRoleArn": role_arn("xpander-eks-connector"),
    }
    assert chain(sim, outputs["redshiftRoleArn"])["AssumedRoleUser"]["Arn"].startswith(
        "arn:aws:sts::123456789012:assumed-role/xpander-redshift-access/"
    )

    sim.clear_requests()
    example.preview("--expect-no-changes")
    example.refresh("--expect-no-changes")
    assert mutating_calls(sim) == []

    example.destroy()
    assert iam.list_roles()["Roles"] == []
    assert sim.boto3_client("eks").list_pod_identity_associations(clusterName="xpander-cluster")["associations"] == []
    assert CANARY not in example.everything_written()


def test_adding_a_connector_through_stack_config(python_example: Pulumi, sim: AwsSim):
    example = python_example
    example.up()
    example.config_set("s3Buckets[0]", "xpander-data", path=True)
    # Only the new role is created (seed: "No Pod Identity changes needed");
    # `preview --json` lists no step for an unchanged resource.
    assert {name: step["op"] for name, step in example.plan().items()} == {"s3": "create"}
    example.up()
    arn = example.outputs()["s3RoleArn"]
    assert chain(sim, arn)["AssumedRoleUser"]["Arn"].startswith("arn:aws:sts::123456789012:assumed-role/xpander-s3-connector/")
    example.preview("--expect-no-changes")
