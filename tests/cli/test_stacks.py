"""Connectors owned by several stacks, through the real CLI on one file
backend: a platform stack owns the base role (with connectorPath), and two
data teams own connectors in stacks of their own, one reading the base role
through a StackReference (connectors under the path, no grant), one through
`pulumi config` (per-connector grants). Each stack runs as its own IAM user,
so awssim's request log says which stack wrote what; the path team's user
may write no role outside the connector path at all."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from awssim.harness import AwsSim
from cli.chains import ChainPoller
from cli.workspace import Pulumi
from cli.yaml_programs import CONNECTOR_PATH, base_role, s3_connector, stack, write_project
from e2e.conftest import printed_policy
from e2e.seed import CLUSTER, chain, role_arn, trust_of

BASE = "xpander-base-role"
PATH_TEAM = ["xpander-team-a-orders", "xpander-team-a-invoices"]
GRANT_TEAM = ["xpander-team-b-events", "xpander-team-b-metrics"]


def path_arn(name: str) -> str:
    return f"arn:aws:iam::123456789012:role{CONNECTOR_PATH}{name}"


def platform_project(folder):
    base = base_role(BASE, cluster=CLUSTER, connector_path=CONNECTOR_PATH)
    # Its name is fixed: a replacement must delete the old role first.
    base["options"] = {"deleteBeforeReplace": True}
    return write_project(folder, "platform", {"base": base}, {"baseRoleArn": "${base.arn}", "baseRoleId": "${base.roleId}"})


def path_team_project(folder):
    """Team A: the base role from the platform stack's outputs."""
    resources = {"platform": {"type": "pulumi:pulumi:StackReference",
                              "properties": {"name": "organization/platform/prod"}}}
    for name in PATH_TEAM:
        resources[name] = s3_connector(name, '${platform.outputs["baseRoleArn"]}', '${platform.outputs["baseRoleId"]}',
                                       path_mode=True)
    return write_project(folder, "team-a", resources, {n: f"${{{n}.arn}}" for n in PATH_TEAM})


def grant_team_project(folder):
    """Team B: the base role from stack config, each connector granted by its own policy."""
    resources = {name: s3_connector(name, "${baseRoleArn}", "${baseRoleId}") for name in GRANT_TEAM}
    return write_project(folder, "team-b", resources, {n: f"${{{n}.arn}}" for n in GRANT_TEAM},
                         config={"baseRoleArn": {"type": "string"}, "baseRoleId": {"type": "string"}})


def allowed_base(iam, connector: str):
    """The principal the connector's AllowFromBaseRole statement names, as IAM shows it."""
    statement = next(s for s in trust_of(iam, connector)["Statement"] if s.get("Sid") == "AllowFromBaseRole")
    return statement["Principal"]["AWS"]


def writes_by(sim: AwsSim, user: dict) -> set[tuple[str, str]]:
    """(role, inline policy or "") of every IAM write the user's requests made."""
    return {(r["params"]["RoleName"], r["params"].get("PolicyName", "")) for r in sim.requests()
            if r["mutating"] and r["caller"] == user["Arn"] and "RoleName" in r["params"]}


def together(*stacks: Pulumi, command: tuple[str, ...]) -> None:
    """One command on each stack, all at the same time (a process each)."""
    running = [s.start(*command) for s in stacks]
    outputs = [p.communicate(timeout=600)[0] for p in running]
    for proc, out in zip(running, outputs):
        assert proc.returncode == 0, out


def test_connectors_in_other_stacks_share_the_base_role_and_touch_nothing_else(sim: AwsSim, tmp_path, pulumi_home):
    # Platform and team B: the printed deploy policy. Team A writes nothing
    # outside the connector path: roles there only, plus GetRole on the base
    # role and on its own roles before they exist (IAM authorises GetRole of an
    # absent role at path /, the only path a bare name gives).
    deployers = {team: sim.principal(f"deployer-{team}", printed_policy("deploy", "--connector-path", CONNECTOR_PATH))
                 for team in ("platform", "team-b")}
    path_only = printed_policy("deploy", "--path", CONNECTOR_PATH)
    path_only["Statement"].append({"Effect": "Allow", "Action": "iam:GetRole", "Resource": role_arn("xpander-*")})
    deployers["team-a"] = sim.principal("deployer-team-a", path_only)
    root = tmp_path / "user"
    platform = stack(sim, root, pulumi_home, platform_project(tmp_path / "platform"), "prod", deployers["platform"])
    platform.up()
    base = platform.outputs()
    team_a = stack(sim, root, pulumi_home, path_team_project(tmp_path / "team-a"), "prod", deployers["team-a"])
    team_b = stack(sim, root, pulumi_home, grant_team_project(tmp_path / "team-b"), "prod", deployers["team-b"],
                   config={"baseRoleArn": base["baseRoleArn"], "baseRoleId": base["baseRoleId"]})

    together(team_a, team_b, command=("up", "--yes", "--skip-preview"))
    connectors = [path_arn(n) for n in PATH_TEAM] + [role_arn(n) for n in GRANT_TEAM]
    assert sorted([*team_a.outputs().values(), *team_b.outputs().values()]) == sorted(connectors)
    for arn in connectors:
        assert chain(sim, arn)["AssumedRoleUser"]["Arn"].endswith("/refresh")
    # Each stack wrote its own roles; team B its own grants on the base role, team A none.
    assert writes_by(sim, deployers["platform"]) == {(BASE, ""), (BASE, "AssumeConnectorPath")}
    assert {role for role, _ in writes_by(sim, deployers["team-a"])} == set(PATH_TEAM)
    assert {(role, policy) for role, policy in writes_by(sim, deployers["team-b"]) if role == BASE} == \
        {(BASE, f"xpander-assume-{n}") for n in GRANT_TEAM}
    assert {role for role, _ in writes_by(sim, deployers["team-b"])} == {BASE, *GRANT_TEAM}
    # The teams' grants are not the platform's: its stack sees no change.
    platform.preview("--expect-no-changes")
    platform.refresh("--expect-no-changes")

    # The platform replaces the base role: same ARN, a new principal. IAM
    # turned every connector's AllowFromBaseRole into the old role's unique
    # id and dropped team B's grants with the old role: every chain is
    # refused until each team's stack runs again.
    sim.clear_requests()
    platform.run("up", "--yes", "--skip-preview", "--replace", platform.resources()["base"]["urn"])
    replaced = platform.outputs()
    assert replaced["baseRoleArn"] == base["baseRoleArn"] and replaced["baseRoleId"] != base["baseRoleId"]
    iam = sim.boto3_client("iam")
    assert iam.list_role_policies(RoleName=BASE)["PolicyNames"] == ["AssumeConnectorPath"]
    for name in PATH_TEAM + GRANT_TEAM:
        assert allowed_base(iam, name) == base["baseRoleId"]
    for arn in connectors:
        with pytest.raises(ClientError, match="AccessDenied"):
            chain(sim, arn)
    # Team A sees the new roleId through the StackReference: its up rewrites both trusts.
    assert {n: (s["op"], s["diffReasons"]) for n, s in team_a.plan().items()} == \
        {n: ("update", ["baseRoleId"]) for n in PATH_TEAM}
    team_a.up()
    # Team B's config still holds the old roleId, so its preview shows nothing;
    # a refresh finds the stale principal and the missing grants, and up repairs them.
    assert team_b.plan() == {}
    with ChainPoller(sim, [path_arn(n) for n in PATH_TEAM]) as poller:
        team_b.up("--refresh")
    assert poller.refusals == [] and poller.rounds > 0, "team B's grants must not disturb team A's connectors"
    for arn in connectors:
        assert chain(sim, arn)["AssumedRoleUser"]["Arn"].endswith("/refresh")
    for name in PATH_TEAM + GRANT_TEAM:
        assert allowed_base(iam, name) == base["baseRoleArn"]
    # Deleting a role takes its inline policies with it (IAM refuses to delete
    # one that has any): the platform's only writes on team B's grants.
    assert {(role, policy) for role, policy in writes_by(sim, deployers["platform"]) if policy.startswith("xpander-")} \
        == {(BASE, f"xpander-assume-{n}") for n in GRANT_TEAM}
    assert {r["action"] for r in sim.requests() if r["mutating"] and r["caller"] == deployers["platform"]["Arn"]
            and r["params"].get("PolicyName", "").startswith("xpander-")} == {"DeleteRolePolicy"}
    assert {role for role, _ in writes_by(sim, deployers["team-a"])} == set(PATH_TEAM)
    assert {role for role, _ in writes_by(sim, deployers["team-b"])} == {BASE, *GRANT_TEAM}
    assert {policy for role, policy in writes_by(sim, deployers["team-b"]) if role == BASE} == \
        {f"xpander-assume-{n}" for n in GRANT_TEAM}
    platform.preview("--expect-no-changes")

    # Removing one team's connectors changes nothing for the other's, not even for a moment.
    sim.clear_requests()
    with ChainPoller(sim, [role_arn(n) for n in GRANT_TEAM]) as poller:
        team_a.destroy()
    assert poller.refusals == [] and poller.rounds > 0
    assert {role for role, _ in writes_by(sim, deployers["team-a"])} == set(PATH_TEAM)
    team_b.destroy()
    assert iam.list_role_policies(RoleName=BASE)["PolicyNames"] == ["AssumeConnectorPath"]
    assert {r["RoleName"] for r in iam.list_roles()["Roles"]} == {BASE}
    platform.preview("--expect-no-changes")
