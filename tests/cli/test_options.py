"""Resource options the engine hands to the provider, through the real CLI: a
small Python program per test (project `opts`), written into tmp_path and run
with the SDK of this checkout; each test checks AWS (awssim) and what the CLI
printed. Nothing here sleeps: a test waits for an output line or a command's
end, never for a time."""

from __future__ import annotations

import signal
import textwrap
import time

import pytest

from awssim.harness import AwsSim
from cli.workspace import Pulumi, interrupt
from e2e.seed import role_arn, trust_of

BASE_TYPE = "xpander:index:XpanderBaseRole"
CONNECTOR_TYPE = "xpander:index:XpanderConnectorRole"
ORG = "org-opts-1"
PROPAGATING = "waiting for IAM propagation"
# Steps that would create, delete or replace a role.
DESTRUCTIVE = {"create", "delete", "replace", "create-replacement", "delete-replaced", "discard-replaced"}
FOUR_STATEMENTS = ["PodIdentity", "CrossAccountWithExternalId", "SelfAssume", "AllowFromBaseRole"]


def program(body: str) -> str:
    return "import pulumi\nimport pulumi_xpander as xpander\n\n" + textwrap.dedent(body).lstrip()


def base_and_connector(
    name: str = "conn",
    role: str = "opts-conn",
    opts: str = "",
    tags: str = "None",
    description: str = "None",
) -> str:
    """The base role and one S3 connector granted to it; `opts` is the body of
    the connector's ResourceOptions."""
    return program(f"""
        base = xpander.XpanderBaseRole("base", role_name="opts-base")
        conn = xpander.XpanderConnectorRole(
            "{name}",
            role_name="{role}",
            base_role_arn=base.arn,
            base_role_id=base.role_id,
            external_id="{ORG}",
            description={description},
            tags={tags},
            s3=xpander.S3Args(buckets=["opts-data"], read_only=True),
            opts=pulumi.ResourceOptions({opts}),
        )
        pulumi.export("connArn", conn.arn)
    """)


@pytest.fixture
def project(sim: AwsSim, tmp_path, pulumi_home):
    """A new stack `dev` of project `opts` running the given program."""

    def make(source: str) -> Pulumi:
        folder = tmp_path / "opts"
        folder.mkdir()
        (folder / "Pulumi.yaml").write_text("name: opts\nruntime: python\n")
        (folder / "__main__.py").write_text(source)
        pulumi = Pulumi(root=tmp_path / "user", project=folder, aws_env=sim.provider_env(), home=pulumi_home)
        pulumi.init({})
        return pulumi

    return make


def rewrite(pulumi: Pulumi, source: str) -> None:
    (pulumi.project / "__main__.py").write_text(source)


def role_names(sim: AwsSim) -> list[str]:
    return sorted(r["RoleName"] for r in sim.boto3_client("iam").list_roles()["Roles"])


def diagnostics(result) -> str:
    """The CLI's Diagnostics section (where each resource's error is repeated)."""
    out = result.output
    return out[out.index("Diagnostics:"):] if "Diagnostics:" in out else out


def resource_diagnostic(result, name: str, type_token: str = CONNECTOR_TYPE) -> str:
    """The lines the Diagnostics section prints under `type_token (name):`."""
    lines = diagnostics(result).splitlines()
    head = f"  {type_token} ({name}):"
    start = lines.index(head)
    body = []
    for line in lines[start + 1:]:
        if line and not line.startswith("    "):
            break
        body.append(line)
    return "\n".join(body)


def assert_converged_connector(sim: AwsSim, pulumi: Pulumi, role: str = "opts-conn") -> None:
    """Exactly one role of that name, with the seed's four trust statements
    naming the right principals, granted on the base role; nothing left to do."""
    iam = sim.boto3_client("iam")
    assert role_names(sim).count(role) == 1
    trust = trust_of(iam, role)
    assert [s["Sid"] for s in trust["Statement"]] == FOUR_STATEMENTS
    principals = {s["Sid"]: s["Principal"] for s in trust["Statement"]}
    assert principals["SelfAssume"] == {"AWS": role_arn(role)}
    assert principals["AllowFromBaseRole"] == {"AWS": role_arn("opts-base")}
    assert principals["PodIdentity"] == {"Service": "pods.eks.amazonaws.com"}
    assert iam.list_role_policies(RoleName="opts-base")["PolicyNames"] == [f"xpander-assume-{role}"]
    assert "pending_operations" not in pulumi.export()["deployment"]
    pulumi.preview("--expect-no-changes")


def mutating_calls(sim: AwsSim) -> list[dict]:
    return [r for r in sim.requests() if r["mutating"]]


# --- 1. customTimeouts -----------------------------------------------------------------


CREATE_TIMEOUT = 'custom_timeouts=pulumi.CustomTimeouts(create="5s")'


def test_custom_timeouts_bound_a_create_stuck_in_propagation(project, sim: AwsSim):
    pulumi = project(base_and_connector(opts=CREATE_TIMEOUT))
    sim.set_config(propagation_delay=60)

    started = time.monotonic()
    failed = pulumi.fails("up", "--yes", "--skip-preview")
    took = time.monotonic() - started
    print(f"\ncustomTimeouts create=5s, IAM propagation 60 s: `pulumi up` failed after {took:.1f} s")

    # It was waiting for IAM, then gave up on this resource.
    assert f"{CONNECTOR_TYPE} conn creating" in failed.output and PROPAGATING in failed.output
    error = resource_diagnostic(failed, "conn")
    assert "create conn: write trust policy of opts-conn failed" in error
    assert 'Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:role/opts-conn"' in error
    assert "still failing after" in error
    # The role exists, unfinished; the engine keeps it as a partial create.
    assert pulumi.resources()["conn"]["initErrors"]

    sim.set_config(propagation_delay=0)
    pulumi.up()
    assert role_names(sim) == ["opts-base", "opts-conn"]
    assert_converged_connector(sim, pulumi)


def test_custom_timeout_failure_names_the_custom_timeout(project, sim: AwsSim):
    pulumi = project(base_and_connector(opts=CREATE_TIMEOUT))
    sim.set_config(propagation_delay=60)
    error = resource_diagnostic(pulumi.fails("up", "--yes", "--skip-preview"), "conn")
    assert "customTimeouts" in error, error
    assert "raise the provider's propagationTimeout" not in error, error


# --- 2. ignoreChanges ------------------------------------------------------------------


def test_ignore_changes_on_tags(project, sim: AwsSim):
    ignore = 'ignore_changes=["tags"]'
    pulumi = project(base_and_connector(opts=ignore, tags='{"team": "a"}'))
    pulumi.up()

    rewrite(pulumi, base_and_connector(opts=ignore, tags='{"team": "b"}'))
    assert "conn" not in pulumi.plan()
    pulumi.preview("--expect-no-changes")
    sim.clear_requests()
    pulumi.up()
    assert mutating_calls(sim) == []
    iam = sim.boto3_client("iam")
    tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName="opts-conn")["Tags"]}
    assert tags["team"] == "a"

    # Another change still applies, and the ignored tags stay as they were.
    rewrite(pulumi, base_and_connector(opts=ignore, tags='{"team": "b"}', description='"two"'))
    plan = pulumi.plan()
    assert plan["conn"]["op"] == "update" and plan["conn"]["diffReasons"] == ["description"]
    pulumi.up()
    assert iam.get_role(RoleName="opts-conn")["Role"]["Description"] == "two"
    tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName="opts-conn")["Tags"]}
    assert tags["team"] == "a"

    # Without the option the same program is an update of the tag.
    rewrite(pulumi, base_and_connector(tags='{"team": "b"}', description='"two"'))
    plan = pulumi.plan()
    assert plan["conn"]["op"] == "update" and plan["conn"]["diffReasons"] == ["tags"]


# --- 3. retainOnDelete -----------------------------------------------------------------


def test_retain_on_delete_keeps_the_role(project, sim: AwsSim):
    pulumi = project(base_and_connector(opts="retain_on_delete=True"))
    pulumi.up()
    role_id = sim.boto3_client("iam").get_role(RoleName="opts-conn")["Role"]["RoleId"]

    destroyed = pulumi.destroy()
    assert f"{CONNECTOR_TYPE} conn deleted" in destroyed.output and "[retain]" in destroyed.output
    iam = sim.boto3_client("iam")
    assert role_names(sim) == ["opts-conn"]
    assert iam.get_role(RoleName="opts-conn")["Role"]["RoleId"] == role_id
    assert sorted(iam.list_role_policies(RoleName="opts-conn")["PolicyNames"]) == ["S3Access", "SelfAssumeAndTagSession"]
    assert "resources" not in pulumi.export()["deployment"]

    # The same stack deploying again adopts the kept role (it carries its URN).
    pulumi.up()
    assert iam.get_role(RoleName="opts-conn")["Role"]["RoleId"] == role_id
    assert_converged_connector(sim, pulumi)


# --- 4. protect ------------------------------------------------------------------------


def test_protect_blocks_destroy(project, sim: AwsSim):
    pulumi = project(base_and_connector(opts="protect=True"))
    pulumi.up()

    failed = pulumi.fails("destroy", "--yes", "--skip-preview")
    urn = f"urn:pulumi:dev::opts::{CONNECTOR_TYPE}::conn"
    error = resource_diagnostic(failed, "conn")
    assert f'resource "{urn}" cannot be deleted' in error
    assert "because it is protected" in error and "pulumi state unprotect" in error
    assert "opts-conn" in role_names(sim)
    assert "conn" in pulumi.resources()

    pulumi.run("state", "unprotect", urn, "--yes")
    pulumi.destroy()
    assert role_names(sim) == []


# --- 5. deleteBeforeReplace ------------------------------------------------------------


def test_delete_before_replace_on_rename(project, sim: AwsSim):
    dbr = "delete_before_replace=True"
    pulumi = project(base_and_connector(opts=dbr))
    pulumi.up()

    rewrite(pulumi, base_and_connector(role="opts-conn-2", opts=dbr))
    doc = pulumi.run("preview", "--json", "--show-replacement-steps").json()
    steps = [s["op"] for s in doc["steps"] if s["urn"].endswith("::conn")]
    assert steps == ["delete-replaced", "replace", "create-replacement"]
    assert pulumi.plan()["conn"]["replaceReasons"] == ["roleName"]

    done = pulumi.up()
    assert done.output.index("conn deleted original") < done.output.index("conn creating replacement")
    assert role_names(sim) == ["opts-base", "opts-conn-2"]
    assert pulumi.outputs()["connArn"] == role_arn("opts-conn-2")
    assert_converged_connector(sim, pulumi, role="opts-conn-2")


# --- 6. aliases ------------------------------------------------------------------------


def test_alias_renames_without_replacing(project, sim: AwsSim):
    pulumi = project(base_and_connector(name="old"))
    pulumi.up()
    role_id = sim.boto3_client("iam").get_role(RoleName="opts-conn")["Role"]["RoleId"]

    rewrite(pulumi, base_and_connector(name="new", opts='aliases=[pulumi.Alias(name="old")]'))
    plan = pulumi.plan()
    assert {step["op"] for step in plan.values()} & DESTRUCTIVE == set(), plan
    sim.clear_requests()
    pulumi.up()
    # The only write moves the ownership tag to the new URN (see below).
    assert [r["action"] for r in mutating_calls(sim)] == ["TagRole"]
    names = set(pulumi.resources())
    assert "new" in names and "old" not in names
    assert sim.boto3_client("iam").get_role(RoleName="opts-conn")["Role"]["RoleId"] == role_id
    assert_converged_connector(sim, pulumi)


def test_alias_rename_moves_the_ownership_tag(project, sim: AwsSim):
    pulumi = project(base_and_connector(name="old"))
    pulumi.up()
    rewrite(pulumi, base_and_connector(name="new", opts='aliases=[pulumi.Alias(name="old")]'))
    pulumi.up()
    tags = {t["Key"]: t["Value"] for t in sim.boto3_client("iam").list_role_tags(RoleName="opts-conn")["Tags"]}
    assert tags["pulumi-xpander:urn"] == f"urn:pulumi:dev::opts::{CONNECTOR_TYPE}::new"


# --- 7. Ctrl-C during `pulumi up` ------------------------------------------------------


def test_interrupted_up_recovers_with_the_next_up(project, sim: AwsSim):
    pulumi = project(base_and_connector())
    sim.set_config(propagation_delay=30)

    proc = pulumi.start("up", "--yes", "--skip-preview")
    seen = interrupt(proc, PROPAGATING)
    print("\n--- output of the interrupted `pulumi up`\n" + seen)
    assert proc.returncode != 0
    assert "^C received; cancelling. If you would like to terminate immediately, press ^C again." in seen
    assert "create conn: write trust policy of opts-conn failed: UpdateAssumeRolePolicy: Cancelled" in seen

    # The provider stopped waiting at once and answered with a partial create:
    # the role is in the state, with no pending operation and no lock left.
    deployment = pulumi.export()["deployment"]
    assert "pending_operations" not in deployment
    conn = pulumi.resources()["conn"]
    assert conn["id"] == "opts-conn" and conn["initErrors"]
    assert role_names(sim) == ["opts-base", "opts-conn"]

    # Recovery: run `pulumi up` again.
    sim.set_config(propagation_delay=0)
    plan = pulumi.plan()
    assert {name: step["op"] for name, step in plan.items()} == {"conn": "update"}
    pulumi.up()
    assert role_names(sim) == ["opts-base", "opts-conn"]
    assert_converged_connector(sim, pulumi)


def test_double_interrupt_leaves_a_pending_create_that_refresh_clears(project, sim: AwsSim):
    """The second Ctrl-C ("terminate immediately") may come before the
    provider's answer: the engine then records a pending create. Whether it
    does or not, the same recovery converges."""
    pulumi = project(base_and_connector())
    sim.set_config(propagation_delay=30)

    proc = pulumi.start("up", "--yes", "--skip-preview")
    assert proc.stdout is not None
    seen, sent = [], 0
    for line in proc.stdout:
        seen.append(line)
        if sent == 0 and PROPAGATING in line or sent == 1 and "press ^C again" in line:
            proc.send_signal(signal.SIGINT)
            sent += 1
    proc.wait(timeout=300)
    output = "".join(seen)
    print("\n--- output of the twice interrupted `pulumi up`\n" + output)
    assert sent == 2 and proc.returncode != 0
    pending = pulumi.export()["deployment"].get("pending_operations", [])
    print(f"pending operations after the second ^C: {[(p['type'], p['resource']['urn']) for p in pending]}")

    sim.set_config(propagation_delay=0)
    up = pulumi.up()
    # `pulumi up` adopted the role (it carries this resource's URN), but a
    # pending create stays in the state, warned about on every command, until
    # `pulumi refresh --clear-pending-creates` (a non-interactive refresh
    # without the flag keeps it).
    if pending:
        assert "interrupted while creating" in up.output
        pulumi.refresh()
        assert pulumi.export()["deployment"].get("pending_operations")
    pulumi.refresh("--clear-pending-creates")
    assert role_names(sim) == ["opts-base", "opts-conn"]
    assert_converged_connector(sim, pulumi)


# --- 8. what a failure looks like ------------------------------------------------------


def test_check_failure_names_resource_and_property(project, sim: AwsSim):
    pulumi = project(base_and_connector(role="bad name!"))
    sim.clear_requests()
    failed = pulumi.fails("preview")
    error = resource_diagnostic(failed, "conn")
    assert (
        f"{CONNECTOR_TYPE} resource 'conn': property roleName value {{bad name!}} has a problem: "
        "roleName may contain only letters, digits and _+=,.@-"
    ) in error
    assert mutating_calls(sim) == []


def test_check_failure_of_a_nested_property(project, sim: AwsSim):
    source = base_and_connector().replace('buckets=["opts-data"]', "buckets=[]")
    failed = project(source).fails("preview")
    error = resource_diagnostic(failed, "conn")
    # The engine prints the value of the top-level input the failure names;
    # the reason carries the nested path.
    assert "resource 'conn': property s3 " in error and "s3.buckets needs at least one bucket" in error
    assert "{<nil>}" not in error, error


def test_access_denied_names_the_aws_action(project, sim: AwsSim):
    pulumi = project(base_and_connector())
    sim.set_faults(deny=[{"action": "PutRolePolicy", "params": {"RoleName": "opts-conn"}}])
    failed = pulumi.fails("up", "--yes", "--skip-preview")
    error = resource_diagnostic(failed, "conn")
    assert "create conn: put inline policy S3Access on opts-conn failed: PutRolePolicy: AccessDenied" in error
    assert "iam:PutRolePolicy" in error

    # Once allowed, the next `up` finishes the role.
    sim.clear_faults()
    pulumi.up()
    assert_converged_connector(sim, pulumi)


def test_propagation_timeout_names_resource_and_remedy(project, sim: AwsSim):
    pulumi = project(base_and_connector())
    pulumi.config_set("xpander:propagationTimeout", "2")
    sim.set_config(propagation_delay=60)
    failed = pulumi.fails("up", "--yes", "--skip-preview")
    error = resource_diagnostic(failed, "conn")
    assert "create conn: write trust policy of opts-conn failed" in error
    assert "Invalid principal in policy" in error
    assert "raise the provider's propagationTimeout if IAM is slow in this account" in error

    sim.set_config(propagation_delay=0)
    pulumi.up()
    assert_converged_connector(sim, pulumi)
