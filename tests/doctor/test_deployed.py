"""What the provider deploys, the doctor finds correct; what drifts after
the deploy, it names."""

from __future__ import annotations

import json

from doctor import checks
from doctor.handbuilt import run_doctor
from e2e.seed import CLUSTER, seed_program

CONNECTORS = ("xpander-redshift-access", "xpander-eks-connector", "xpander-s3-connector")
ARGS = ["--base-role", "xpander-base-role", *(a for c in CONNECTORS for a in ("--connector", c)), "--cluster", CLUSTER]


def test_provider_deployed_setup_is_clean(aws, cluster, stack, engine, provider, session_engine):
    stack.up(seed_program(cluster, with_s3=True))
    run = run_doctor(aws, ARGS + ["--json"])
    findings = run.report["findings"]
    # No error, no warning; as info the seed's cluster-admin access policy and
    # the two governance tags the program does not set (ManagedBy is the provider's).
    assert checks.triples(findings) == sorted(
        [("info", "EKS_CLUSTER_ADMIN", "xpander-eks-connector")]
        + [("info", "MISSING_TAGS", role) for role in ("xpander-base-role", *CONNECTORS)]
    ), json.dumps(findings, indent=1)
    assert all(f["summary"].endswith("Environment, Project") for f in findings if f["code"] == "MISSING_TAGS")
    assert run.returncode == 0
    checks.check_shape(findings)
    checks.no_leak(run.stdout, run.stderr)
    # diagnose as the doctor runs: reading the boundary's document needs the doctor policy, not the deployer's.
    assert checks.diagnose(session_engine, CONNECTORS, CLUSTER) == run.report
    checks.check_chain(aws, findings, CONNECTORS)
    checks.no_leak(*checks.engine_texts(provider))


def test_drift_after_deploy_is_named_and_up_repairs_it(aws, cluster, stack, engine):
    """Someone hand-edits the deployed trust (drops TagSession from
    AllowFromBaseRole): the doctor names it; `pulumi up` (after refresh) puts
    it back and the doctor is quiet again."""
    stack.up(seed_program(cluster))
    iam = aws.boto3_client("iam")
    role = "xpander-eks-connector"
    trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    trust = trust if isinstance(trust, dict) else json.loads(trust)
    for stmt in trust["Statement"]:
        if stmt["Sid"] == "AllowFromBaseRole":
            stmt["Action"] = "sts:AssumeRole"
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(trust))

    args = ["--base-role", "xpander-base-role", "--connector", "xpander-redshift-access", "--connector", role, "--cluster", CLUSTER]
    run = run_doctor(aws, args + ["--json"])
    errors = [(f["code"], f["role"]) for f in run.report["findings"] if f["severity"] != "info"]
    assert errors == [("TAG_SESSION_TRUST", role)] and run.returncode == 1
    checks.check_chain(aws, run.report["findings"], ("xpander-redshift-access", role))

    stack.refresh()
    stack.up(seed_program(cluster))
    run = run_doctor(aws, args + ["--json"])
    assert [f for f in run.report["findings"] if f["severity"] != "info"] == [] and run.returncode == 0
    checks.check_chain(aws, run.report["findings"], ("xpander-redshift-access", role))
