"""Each misconfiguration, built by hand with boto3 on awssim, is named by the
doctor — exactly that cause, nothing false — through the subcommand (JSON and
human) and through `xpander:index:diagnose`; the simulator's chain agrees."""

from __future__ import annotations

import json

import pytest

from doctor import checks
from doctor.handbuilt import (
    ACCOUNT,
    BASE,
    CLUSTER,
    CLUSTER_ARN,
    EKS,
    ORG_ID,
    REDSHIFT,
    VIEW,
    Blueprint,
    Role,
    apply,
    arn,
    blueprint,
    doctor_args,
    pod_scope,
    pods_statement,
    recreate_role,
    run_doctor,
    seed_trust,
)

CONNECTORS = (REDSHIFT, EKS)
ADMIN_INFO = [("EKS_CLUSTER_ADMIN", EKS)]  # the seed's access policy: reported as info


def size(statements: list[dict]) -> int:
    """IAM's measure (and the simulator's): non-whitespace characters."""
    text = json.dumps({"Version": "2012-10-17", "Statement": statements})
    return sum(not c.isspace() for c in text)


def pad_trust(role: Role, target: int) -> None:
    """Grow a trust policy to about `target` characters with a harmless Deny."""
    sources: list[str] = []
    stmt = {"Sid": "DenyOtherInstances", "Effect": "Deny", "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:SourceArn": sources}}}
    role.trust.append(stmt)
    while size(role.trust) < target:
        sources.append(f"arn:aws:ec2:us-east-1:123456789012:instance/i-{len(sources):017x}")
    assert target <= size(role.trust) < target + 80


# -- the cases ------------------------------------------------------------------------
# Each: change the blueprint; (optionally) change AWS after it is built; the
# findings expected on top of nothing (the correct setup reports only the
# seed's cluster-admin access policy, as info).


def tag_session_missing_in_trust_from_base(bp: Blueprint):
    bp.eks.sid("AllowFromBaseRole")["Action"] = "sts:AssumeRole"
    return [("TAG_SESSION_TRUST", EKS)]


def tag_session_missing_in_trust_self_assume(bp: Blueprint):
    bp.redshift.sid("SelfAssume")["Action"] = ["sts:AssumeRole"]
    return [("TAG_SESSION_TRUST", REDSHIFT)]


def tag_session_missing_in_base_trust(bp: Blueprint):
    bp.base.trust[0]["Action"] = "sts:AssumeRole"
    return [("TAG_SESSION_TRUST", BASE)]


def tag_session_denied_in_trust(bp: Blueprint):
    # Allowed by AllowFromBaseRole, taken back by an explicit Deny: found by evaluation, not by text.
    bp.eks.trust.append({"Sid": "NoTags", "Effect": "Deny", "Principal": {"AWS": arn(BASE)}, "Action": "sts:TagSession"})
    return [("TAG_SESSION_TRUST", EKS)]


def tag_session_missing_in_connector_permission(bp: Blueprint):
    bp.eks.policies["SelfAssumeAndTagSession"][0]["Action"] = "sts:AssumeRole"
    return [("TAG_SESSION_PERMISSION", EKS)]


def tag_session_missing_in_base_permission(bp: Blueprint):
    bp.base.policies["AssumeConnectorRoles"][0]["Action"] = ["sts:AssumeRole"]
    return [("TAG_SESSION_PERMISSION", BASE), ("TAG_SESSION_PERMISSION", BASE)]


def external_id_on_self_assume(bp: Blueprint):
    bp.redshift.sid("SelfAssume")["Condition"] = {"StringEquals": {"sts:ExternalId": ORG_ID}}
    return [("EXTERNAL_ID_ON_INTERNAL", REDSHIFT)]


def external_id_on_allow_from_base_role(bp: Blueprint):
    bp.eks.sid("AllowFromBaseRole")["Condition"] = {"StringEquals": {"sts:ExternalId": ORG_ID}}
    return [("EXTERNAL_ID_ON_INTERNAL", EKS)]


def external_id_lowercase_key_string_like(bp: Blueprint):
    # Condition keys are case-insensitive; the value must be redacted all the same.
    bp.eks.sid("AllowFromBaseRole")["Condition"] = {"StringLike": {"sts:externalid": [ORG_ID, f"{ORG_ID}-*"]}}
    return [("EXTERNAL_ID_ON_INTERNAL", EKS)]


def self_assume_permission_missing(bp: Blueprint):
    del bp.eks.policies["SelfAssumeAndTagSession"]
    return [("SELF_ASSUME_PERMISSION_MISSING", EKS)]


def base_lacks_permission_for_one_connector(bp: Blueprint):
    bp.base.policies["AssumeConnectorRoles"][0]["Resource"] = [arn(REDSHIFT)]
    return [("BASE_CANNOT_ASSUME", BASE)]


def base_lacks_permission(bp: Blueprint):
    bp.base.policies.clear()
    return [("BASE_CANNOT_ASSUME", BASE), ("BASE_CANNOT_ASSUME", BASE)]


def works_in_cloud_not_self_hosted(bp: Blueprint):
    bp.redshift.drop("AllowFromBaseRole")
    return [("TRUST_MISSING_BASE_ROLE", REDSHIFT)]


def trust_missing_self(bp: Blueprint):
    bp.eks.drop("SelfAssume")
    return [("TRUST_MISSING_SELF", EKS)]


def base_service_permissions_inline(bp: Blueprint):
    bp.base.policies["DataAccess"] = [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::xpander-data/*"}]
    return [("BASE_SERVICE_PERMISSIONS", BASE)]


def base_service_permissions_managed(bp: Blueprint):
    bp.base.managed["XpanderDataRead"] = [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::xpander-data/*"}]
    return [("BASE_SERVICE_PERMISSIONS", BASE)]


def base_assumes_any_role(bp: Blueprint):
    bp.base.policies["AssumeConnectorRoles"][0]["Resource"] = "*"
    return [("BASE_ASSUMES_ANY_ROLE", BASE)]


def redshift_and_eks_in_one_role(bp: Blueprint):
    bp.eks.policies["RedshiftCredentials"] = bp.redshift.policies["RedshiftCredentials"]
    return [("MIXED_DATA_SOURCES", EKS)]


def pod_identity_missing(bp: Blueprint):
    bp.pod_identity_role = None
    return [("POD_IDENTITY_MISSING", BASE)]


def pod_identity_other_role(bp: Blueprint):
    bp.extra_roles.append(Role("xpander-legacy-role", [pods_statement(None)]))
    bp.pod_identity_role = "xpander-legacy-role"
    return [("POD_IDENTITY_OTHER_ROLE", BASE)]


def base_trust_scoped_to_another_namespace(bp: Blueprint):
    # The trust names the pods of another namespace: the xpander service account's are refused.
    bp.base.trust[0]["Condition"] = pod_scope(namespace="xpander-staging")
    return [("POD_IDENTITY_OUT_OF_SCOPE", BASE)]


def base_trust_scoped_to_another_cluster(bp: Blueprint):
    bp.base.trust[0]["Condition"] = pod_scope(cluster_arn=CLUSTER_ARN.replace(CLUSTER, "xpander-cluster-2"))
    return [("POD_IDENTITY_OUT_OF_SCOPE", BASE)]


def session_tags_disabled_on_association(bp: Blueprint):
    # A scoped trust needs the tags; an association with disableSessionTags sends none.
    bp.disable_session_tags = True
    return [("POD_IDENTITY_OUT_OF_SCOPE", BASE)]


def session_tags_disabled_unscoped_trust(bp: Blueprint):
    # Without conditions on the tags, disabling them refuses nothing.
    bp.disable_session_tags = True
    bp.base.trust = [pods_statement(None, scoped=False)]
    return []


def external_id_trusts_own_account(bp: Blueprint):
    # The seed's template: the ExternalId statement on the connector's own account.
    bp.redshift.sid("CrossAccountWithExternalId")["Principal"] = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    return [("EXTERNAL_ID_OWN_ACCOUNT", REDSHIFT)]


def external_id_trusts_own_account_by_id(bp: Blueprint):
    # A bare account id is the same principal as its root.
    bp.eks.sid("CrossAccountWithExternalId")["Principal"] = {"AWS": ACCOUNT}
    return [("EXTERNAL_ID_OWN_ACCOUNT", EKS)]


def seed_trust_as_written(bp: Blueprint):
    # The seed's documents verbatim: the chain works; the doctor warns on each
    # ExternalId statement (own account). An unconditioned Pod Identity trust
    # is no finding: the provider's Check warns about it instead.
    seed_trust(bp)
    return [("EXTERNAL_ID_OWN_ACCOUNT", REDSHIFT), ("EXTERNAL_ID_OWN_ACCOUNT", EKS)]


def eks_without_access_entry(bp: Blueprint):
    bp.access.clear()
    return [("EKS_ACCESS_ENTRY_MISSING", EKS)], []


def eks_without_access_policy(bp: Blueprint):
    bp.access[EKS] = None
    return [("EKS_ACCESS_POLICY_MISSING", EKS)], []


def eks_view_policy_is_clean(bp: Blueprint):
    bp.access[EKS] = VIEW
    return [], []


def resource_star_on_scoped_redshift_actions(bp: Blueprint):
    bp.redshift.policies["RedshiftCredentials"][0]["Resource"] = "*"
    return [("RESOURCE_STAR", REDSHIFT)]


def resource_star_on_s3(bp: Blueprint):
    bp.redshift.policies["S3Unload"] = [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"}]
    return [("RESOURCE_STAR", REDSHIFT)]


def missing_tags(bp: Blueprint):
    bp.base.tags = {}
    bp.eks.tags = {"Environment": "prod"}
    return [("MISSING_TAGS", BASE), ("MISSING_TAGS", EKS)]


def trust_near_size_quota(bp: Blueprint):
    pad_trust(bp.eks, 1900)  # above 90 % of 2,048
    return [("SIZE_NEAR_QUOTA", EKS)]


def trust_below_the_warning_line(bp: Blueprint):
    pad_trust(bp.eks, 1760)  # 86 % of 2,048: nothing to say
    return []


def pad_policies(role: Role, target: int) -> None:
    """Grow a role's inline policies to about `target` characters in total with a harmless Deny."""
    buckets: list[str] = []
    role.policies["GuardArchive"] = [{"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": buckets}]
    while sum(size(p) for p in role.policies.values()) < target:
        buckets.append(f"arn:aws:s3:::xpander-archive-{len(buckets):04d}/*")


def inline_policies_near_size_quota(bp: Blueprint):
    pad_policies(bp.redshift, 9400)  # above 90 % of 10,240
    return [("SIZE_NEAR_QUOTA", REDSHIFT)]


def wildcards_evaluated_not_searched(bp: Blueprint):
    # Same meaning as the seed, other spelling: patterns, lists, a single string.
    bp.base.policies["AssumeConnectorRoles"][0]["Resource"] = "arn:aws:iam::123456789012:role/xpander-*"
    bp.eks.sid("AllowFromBaseRole")["Principal"] = {"AWS": [arn(BASE)]}
    bp.eks.sid("AllowFromBaseRole")["Action"] = ["sts:TagSession", "sts:AssumeRole"]
    bp.eks.policies["SelfAssumeAndTagSession"][0]["Action"] = "sts:*"
    return []


# -- regressions for defects found while writing this suite ----------------------------


def assume_permission_in_managed_policy(bp: Blueprint):
    # The seed's AssumeConnectorRoles as a customer managed policy (as Terraform or CDK often do):
    # the chain works, so nothing is wrong.
    bp.base.managed["AssumeConnectorRoles"] = bp.base.policies.pop("AssumeConnectorRoles")
    return []


def self_assume_permission_in_managed_policy(bp: Blueprint):
    bp.eks.managed["EksSelfAssume"] = bp.eks.policies.pop("SelfAssumeAndTagSession")
    return []


def permissions_boundary_blocks_assume(bp: Blueprint):
    # A boundary that does not allow sts:AssumeRole: the chain is refused at the base role.
    bp.base.boundary = [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]
    return [("BASE_CANNOT_ASSUME", BASE), ("BASE_CANNOT_ASSUME", BASE)]


def allow_from_base_role_by_principal_arn_condition(bp: Blueprint):
    # Account principal narrowed to the base role by aws:PrincipalArn: admits the base role.
    stmt = bp.eks.sid("AllowFromBaseRole")
    stmt["Principal"] = {"AWS": "arn:aws:iam::123456789012:root"}
    stmt["Condition"] = {"ArnEquals": {"aws:PrincipalArn": arn(BASE)}}
    return []


def pods_trust_with_source_account_condition(bp: Blueprint):
    # A confused-deputy condition AWS samples add beside the pod tags (EKS's pages do not name it).
    bp.base.trust[0]["Condition"]["StringEquals"]["aws:SourceAccount"] = "123456789012"
    return []


def deny_guardrail_on_star(bp: Blueprint):
    # A Deny on "*" narrows access; it is not a too-broad grant.
    bp.redshift.policies["Guardrail"] = [{"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]
    return []


def resource_star_on_wildcard_action(bp: Blueprint):
    # "redshift:Get*" includes redshift:GetClusterCredentials.
    bp.redshift.policies["RedshiftCredentials"][0]["Action"] = "redshift:Get*"
    bp.redshift.policies["RedshiftCredentials"][0]["Resource"] = "*"
    return [("RESOURCE_STAR", REDSHIFT)]


def base_action_pattern_within_assume_and_tag(bp: Blueprint):
    # "sts:Tag*" matches sts:TagSession only: no service permission.
    bp.base.policies["AssumeConnectorRoles"][0]["Action"] = ["sts:AssumeRole", "sts:Tag*"]
    return []


# Cases that once exposed doctor defects (managed policies, boundaries,
# request context, wildcard matching); kept as regressions.
DEFECT_CASES = [
    assume_permission_in_managed_policy,
    self_assume_permission_in_managed_policy,
    permissions_boundary_blocks_assume,
    allow_from_base_role_by_principal_arn_condition,
    pods_trust_with_source_account_condition,
    deny_guardrail_on_star,
    resource_star_on_wildcard_action,
    base_action_pattern_within_assume_and_tag,
]


def correct_setup(bp: Blueprint):
    return []


CASES = [
    correct_setup,
    # the seed's Troubleshooting: AccessDenied: sts:TagSession
    tag_session_missing_in_trust_from_base,
    tag_session_missing_in_trust_self_assume,
    tag_session_missing_in_base_trust,
    tag_session_denied_in_trust,
    tag_session_missing_in_connector_permission,
    tag_session_missing_in_base_permission,
    # AccessDenied: sts:AssumeRole (self-assume)
    external_id_on_self_assume,
    external_id_on_allow_from_base_role,
    external_id_lowercase_key_string_like,
    self_assume_permission_missing,
    trust_missing_self,
    # AccessDenied: sts:AssumeRole (from base role)
    base_lacks_permission_for_one_connector,
    base_lacks_permission,
    # Connector works in cloud but not self-hosted
    works_in_cloud_not_self_hosted,
    # Security Recommendations and the rest of the setup
    base_service_permissions_inline,
    base_service_permissions_managed,
    base_assumes_any_role,
    redshift_and_eks_in_one_role,
    pod_identity_missing,
    pod_identity_other_role,
    # issue 21: Pod Identity scoped by the session tags, the platform's account
    base_trust_scoped_to_another_namespace,
    base_trust_scoped_to_another_cluster,
    session_tags_disabled_on_association,
    session_tags_disabled_unscoped_trust,
    external_id_trusts_own_account,
    external_id_trusts_own_account_by_id,
    seed_trust_as_written,
    eks_without_access_entry,
    eks_without_access_policy,
    eks_view_policy_is_clean,
    resource_star_on_scoped_redshift_actions,
    resource_star_on_s3,
    missing_tags,
    trust_near_size_quota,
    trust_below_the_warning_line,
    inline_policies_near_size_quota,
    wildcards_evaluated_not_searched,
    *DEFECT_CASES,
]


def diagnosed(sim, engine, provider, bp: Blueprint, want, after=None, connectors=CONNECTORS, cluster=CLUSTER, chain=True):
    """Build, run the doctor three ways, check everything that holds for any
    report, and compare with `want` (code, role) pairs. Returns the findings."""
    apply(sim, bp)
    if after:
        after(sim, bp)
    args = doctor_args(connectors, cluster)
    as_json = run_doctor(sim, args + ["--json"])
    human = run_doctor(sim, args)
    checks.no_leak(as_json.stdout, as_json.stderr, human.stdout, human.stderr)
    assert as_json.stderr == "" and human.stderr == "", as_json.stderr + human.stderr
    report = as_json.report
    findings = report["findings"]

    assert checks.triples(findings) == checks.expected(want), json.dumps(findings, indent=1)
    checks.check_shape(findings)
    errors = sum(f["severity"] == "error" for f in findings)
    assert (report["errorCount"], report["warningCount"]) == (errors, sum(f["severity"] == "warning" for f in findings))
    assert as_json.returncode == human.returncode == (1 if errors else 0)

    header = f"xpander doctor: base role {BASE}, {len(connectors)} connector(s)"
    if cluster:
        header += f", cluster {cluster} (xpander/xpander)"
    checks.check_human(human.stdout, findings, header)

    # The provider function answers the same.
    invoked = checks.diagnose(engine, connectors, cluster)
    assert invoked == report
    assert checks.diagnose(engine, connectors, cluster, preview=True) == report  # also during `pulumi preview`
    checks.no_leak(json.dumps(invoked), *checks.engine_texts(provider))

    if chain:
        checks.check_chain(sim, findings, [c for c in connectors if c in bp.connectors])
    return findings


@pytest.mark.parametrize("case", CASES, ids=lambda c: getattr(c, "__name__", None))
def test_doctor_names_the_cause(aws, session_engine, session_provider, case):
    bp = blueprint()
    want = case(bp)
    want, info = want if isinstance(want, tuple) else (want, ADMIN_INFO)
    findings = diagnosed(aws, session_engine, session_provider, bp, want + info)

    if case is works_in_cloud_not_self_hosted:
        (f,) = [f for f in findings if f["severity"] == "error"]
        assert "cloud" in f["summary"] and "AllowFromBaseRole" in f["fix"] and arn(BASE) in f["fix"]
        assert f["evidence"]["Statement"][1]["Condition"] == {"StringEquals": {"sts:ExternalId": "***"}}
    if case in (external_id_on_self_assume, external_id_on_allow_from_base_role, external_id_lowercase_key_string_like):
        (f,) = [f for f in findings if f["severity"] == "error"]
        sid = "SelfAssume" if case is external_id_on_self_assume else "AllowFromBaseRole"
        assert f["evidence"]["Sid"] == sid and sid in f["fix"]
        assert "***" in json.dumps(f["evidence"]["Condition"])
    if case is tag_session_missing_in_trust_from_base:
        (f,) = [f for f in findings if f["severity"] == "error"]
        assert f["evidence"]["Sid"] == "AllowFromBaseRole" and "sts:TagSession" in f["fix"]
    if case is base_lacks_permission_for_one_connector:
        (f,) = [f for f in findings if f["severity"] == "error"]
        assert arn(EKS) in f["summary"] and arn(REDSHIFT) not in f["summary"]
    if case is missing_tags:
        summaries = {f["role"]: f["summary"] for f in findings if f["code"] == "MISSING_TAGS"}
        assert summaries[BASE].endswith("Environment, Project, ManagedBy")
        assert summaries[EKS].endswith("Project, ManagedBy")
    if case in (base_trust_scoped_to_another_namespace, base_trust_scoped_to_another_cluster, session_tags_disabled_on_association):
        (f,) = [f for f in findings if f["severity"] == "error"]
        assert f["evidence"] == {"Version": "2012-10-17", "Statement": bp.base.trust}
        assert "xpander/xpander" in f["summary"] and CLUSTER in f["summary"], f["summary"]
        if case is session_tags_disabled_on_association:
            assert "disableSessionTags" in f["summary"], f["summary"]
        else:
            assert "xpander-staging" in f["summary"] or "xpander-cluster-2" in f["summary"], f["summary"]
    if case in (external_id_trusts_own_account, external_id_trusts_own_account_by_id, seed_trust_as_written):
        for f in (f for f in findings if f["code"] == "EXTERNAL_ID_OWN_ACCOUNT"):
            assert f["evidence"]["Sid"] == "CrossAccountWithExternalId", f
            assert f["evidence"]["Condition"] == {"StringEquals": {"sts:ExternalId": "***"}}, f
            assert ACCOUNT in f["summary"] and "trustedAccountId" in f["fix"], f
    if case is trust_near_size_quota:
        (f,) = [f for f in findings if f["code"] == "SIZE_NEAR_QUOTA"]
        assert f"{size(bp.eks.trust)} of 2048" in f["summary"]


def test_stale_principal_is_named(aws, session_engine):
    """Delete and recreate the base role: both connectors' AllowFromBaseRole
    now names the old role's AROA id, and the chain fails at that hop."""
    bp = apply(aws, blueprint())
    recreate_role(aws, bp.base)
    run = run_doctor(aws, doctor_args() + ["--json"])
    assert run.returncode == 1
    stale = [f for f in run.report["findings"] if f["code"] == "STALE_PRINCIPAL"]
    assert sorted(f["role"] for f in stale) == sorted(CONNECTORS)
    assert all(f["severity"] == "error" and "AROA" in f["summary"] and "baseRoleId" in f["fix"] for f in stale)
    assert checks.diagnose(session_engine, CONNECTORS, CLUSTER) == run.report
    checks.check_chain(aws, run.report["findings"], CONNECTORS)


def test_stale_principal_after_the_base_role_is_recreated(aws, session_engine, session_provider):
    """Delete and recreate the base role: the connectors' trust now names the
    old role's AROA id, which the new role is not. One cause per connector."""
    bp = blueprint()
    findings = diagnosed(
        aws, session_engine, session_provider, bp,
        [("STALE_PRINCIPAL", REDSHIFT), ("STALE_PRINCIPAL", EKS)] + ADMIN_INFO,
        after=lambda sim, bp: recreate_role(sim, bp.base),
    )
    for f in findings:
        if f["code"] == "STALE_PRINCIPAL":
            assert "AROA" in f["summary"]


def test_missing_roles_are_named(aws, session_engine, session_provider):
    bp = blueprint()
    diagnosed(
        aws, session_engine, session_provider, bp,
        [("ROLE_NOT_FOUND", "xpander-s3-connector")] + ADMIN_INFO,
        connectors=(REDSHIFT, EKS, "xpander-s3-connector"),
    )


def test_missing_base_role_is_the_only_finding(aws, session_engine):
    run = run_doctor(aws, doctor_args((REDSHIFT,), None, base="xpander-no-such-base-role") + ["--json"])
    assert run.returncode == 1, run
    assert checks.triples(run.report["findings"]) == [("error", "ROLE_NOT_FOUND", "xpander-no-such-base-role")]
    invoked = checks.diagnose(session_engine, (REDSHIFT,), None, base="xpander-no-such-base-role")
    assert invoked == run.report


def test_without_a_cluster_no_eks_checks_run(aws, session_engine, session_provider):
    bp = blueprint()
    bp.pod_identity_role = None
    bp.access.clear()
    diagnosed(aws, session_engine, session_provider, bp, [], cluster=None, chain=False)


def test_endpoint_flag_instead_of_env(aws):
    """`--endpoint` points IAM, STS and EKS at one URL without AWS_ENDPOINT_URL."""
    bp = blueprint()
    bp.redshift.drop("AllowFromBaseRole")
    apply(aws, bp)
    run = run_doctor(aws, doctor_args() + ["--json", "--endpoint", aws.url], env_endpoint=False)
    assert run.returncode == 1, run.stderr
    assert checks.triples(run.report["findings"]) == checks.expected([("TRUST_MISSING_BASE_ROLE", REDSHIFT)] + ADMIN_INFO)


def test_could_not_run_exits_2(aws):
    no_base = run_doctor(aws, ["--connector", REDSHIFT])
    assert (no_base.returncode, no_base.stdout) == (2, "") and "--base-role" in no_base.stderr
    unknown = run_doctor(aws, ["--base-role", BASE, "--frobnicate"])
    assert (unknown.returncode, unknown.stdout) == (2, "") and "--frobnicate" in unknown.stderr


@pytest.mark.awssim_config(trust_policy_size_quota=4096)
def test_trust_size_is_measured_against_the_accounts_quota(aws, session_engine, session_provider):
    bp = blueprint()
    pad_trust(bp.eks, 2500)  # 61 % of this account's 4,096
    diagnosed(aws, session_engine, session_provider, bp, ADMIN_INFO)


def test_unknown_cluster_is_named(aws):
    apply(aws, blueprint())
    run = run_doctor(aws, doctor_args(cluster="xpander-clustr"))
    out = run.stdout + run.stderr
    assert "POD_IDENTITY_MISSING" not in out and "EKS_ACCESS_ENTRY_MISSING" not in out, out
    assert "xpander-clustr" in out and ("not found" in out or "does not exist" in out), out
    assert run.returncode in (1, 2)


def test_config_map_cluster_is_a_finding(aws):
    bp = blueprint()
    bp.access.clear()
    apply(aws, bp)
    aws.boto3_client("eks").create_cluster(
        name="legacy", roleArn=arn("eks-cluster"), resourcesVpcConfig={}, accessConfig={"authenticationMode": "CONFIG_MAP"}
    )
    run = run_doctor(aws, doctor_args(cluster="legacy") + ["--json"])
    assert run.returncode == 1, run.stderr
    eks_findings = [f for f in run.report["findings"] if f["role"] == EKS and f["severity"] == "error"]
    assert eks_findings and any("CONFIG_MAP" in f["summary"] or "authentication mode" in f["summary"] for f in eks_findings)
