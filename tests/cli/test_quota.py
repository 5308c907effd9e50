"""IAM caps a role's inline policies at 10,240 characters in all, so one base
role holds a bounded number of per-connector grants. Through the real CLI:
`pulumi preview` predicts the quota (counting what the base role holds and
what the other connectors of the same run will write) before anything is
written, and the same stack in path mode (connectorPath, connectors under it
with grantBaseRole false) deploys where grants cannot."""

from __future__ import annotations

import json

from awssim.harness import AwsSim
from cli.yaml_programs import CONNECTOR_PATH, base_role, s3_connector, stack, write_project
from e2e.seed import CLUSTER, chain, role_arn

BASE = "xpander-quota-base"
# Names of 25 characters make grants of 172: 59 fit in 10,240, 60 do not.
HELD = [f"xpander-data-team-conn-{i:02d}" for i in range(58)]
NEW = [f"xpander-quota-connector-{i}" for i in range(3)]
GRANT_CHARS = 172
QUOTA = 10240


def grant(connector: str) -> str:
    """A connector's grant on the base role, as the provider writes it."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": role_arn(connector)}]},
        separators=(",", ":"))


def program(folder, connectors: int, path_mode: bool = False):
    base = base_role(BASE, cluster=CLUSTER, connector_path=CONNECTOR_PATH if path_mode else None)
    resources = {"base": base}
    for i, name in enumerate(NEW[:connectors]):
        resources[f"conn-{i}"] = s3_connector(name, "${base.arn}", "${base.roleId}", path_mode=path_mode)
    outputs = {f"conn{i}": f"${{conn-{i}.arn}}" for i in range(connectors)}
    return write_project(folder, "quota", resources, outputs)


def refusal(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if "IAM's quota is" in line]
    assert lines, output
    return lines[0]


def writes(sim: AwsSim) -> list[dict]:
    return [r for r in sim.requests() if r["mutating"]]


def test_the_preview_predicts_the_grant_quota_and_path_mode_deploys(sim: AwsSim, tmp_path, pulumi_home):
    folder = tmp_path / "quota"
    pulumi = stack(sim, tmp_path / "user", pulumi_home, program(folder, 0))
    pulumi.up()
    # 58 connectors of other stacks (or of the seed's own steps) already hold grants on it.
    iam = sim.boto3_client("iam")
    for name in HELD:
        iam.put_role_policy(RoleName=BASE, PolicyName=f"xpander-assume-{name}", PolicyDocument=grant(name))
    assert len(grant(NEW[0])) == GRANT_CHARS and 59 * GRANT_CHARS <= QUOTA < 60 * GRANT_CHARS

    # One more fits...
    program(folder, 1)
    sim.clear_requests()
    assert {n: s["op"] for n, s in pulumi.plan().items()} == {"conn-0": "create"}

    # ...two do not, though each alone would: the steps run in parallel and
    # see each other's bookings.
    program(folder, 2)
    failed = pulumi.fails("preview")
    expected = (f"the base role \"{BASE}\" would hold 60 inline policies of {60 * GRANT_CHARS} characters in all; "
                f"IAM's quota is {QUOTA} per role (it would refuse with LimitExceeded): give the base role a "
                "connectorPath and create connectors under it with grantBaseRole: false")
    assert expected in refusal(failed.output), failed.output

    # Three: `pulumi up` stops in its preview, before any write.
    program(folder, 3)
    failed = pulumi.fails("up", "--yes")
    assert "would hold 60 inline policies" in refusal(failed.output)
    assert "connectorRoleArns with grantBaseRole: false" in refusal(failed.output)
    assert writes(sim) == []

    # Without the preview, the one connector that fits is created and the
    # others are refused before they write anything: IAM never answers LimitExceeded.
    failed = pulumi.fails("up", "--yes", "--skip-preview")
    assert "would hold 60 inline policies" in refusal(failed.output)
    assert not [r for r in sim.requests() if r["status"] == 409]
    created = {r["params"]["RoleName"] for r in writes(sim) if r["action"] == "CreateRole"}
    assert len(created) == 1 and created <= set(NEW)

    # Path mode: the base role's own AssumeConnectorPath counts with the
    # grants it holds (59 of them now): refused at preview, not at deploy.
    program(folder, 3, path_mode=True)
    failed = pulumi.fails("preview")
    assert "connectorPath: with its AssumeConnectorPath policy" in refusal(failed.output)
    assert f"the base role \"{BASE}\" would hold 60 inline policies" in refusal(failed.output)

    # With the connector made above removed, the path grant fits; the
    # connectors under the path need no grant of their own.
    program(folder, 0)
    pulumi.up()
    program(folder, 3, path_mode=True)
    pulumi.preview()
    sim.clear_requests()
    pulumi.up()
    on_base = [(r["action"], r["params"].get("PolicyName")) for r in writes(sim) if r["params"].get("RoleName") == BASE]
    assert on_base == [("PutRolePolicy", "AssumeConnectorPath")]
    outputs = pulumi.outputs()
    assert sorted(outputs.values()) == sorted(f"arn:aws:iam::123456789012:role{CONNECTOR_PATH}{n}" for n in NEW)
    for arn in outputs.values():
        assert chain(sim, arn)["AssumedRoleUser"]["Arn"].endswith("/refresh")
    policies = set(iam.list_role_policies(RoleName=BASE)["PolicyNames"])
    assert policies == {f"xpander-assume-{n}" for n in HELD} | {"AssumeConnectorPath"}
    pulumi.preview("--expect-no-changes")
