"""sdk-examples/python under Pulumi's mock runtime, with every registration
sent to the provider binary's Check."""

from __future__ import annotations

import pulumi

from engine import UNKNOWN, Secret
from sdk.conftest import PROJECT
from sdk.program import PYTHON_EXAMPLE, CheckingMocks, run_program

BASE = "xpander:index:XpanderBaseRole"
CONNECTOR = "xpander:index:XpanderConnectorRole"
ORG_ID = "org-7f3a9c21"
CONFIG = {
    "clusterName": "xpander-cluster",
    "organizationId": Secret(ORG_ID),
    "platformAccountId": "777788889999",
    "redshiftClusterId": "analytics",
    "redshiftDatabase": "dev",
    "s3Buckets": [],
}


def run(engine, preview: bool = False, **config):
    mocks = CheckingMocks(engine)
    exports = run_program(PYTHON_EXAMPLE, PROJECT, "dev", {**CONFIG, **config}, preview=preview, mocks=mocks)
    return mocks, exports


def by_name(mocks: CheckingMocks):
    return {r.name: r for r in mocks.registrations}


def test_seed_architecture_registers_base_redshift_and_eks(engine):
    mocks, _ = run(engine)
    assert mocks.failures() == []
    assert sorted((r.type, r.name) for r in mocks.registrations) == [
        (BASE, "base"), (CONNECTOR, "eks"), (CONNECTOR, "redshift"),
    ]


def test_inputs_reach_the_provider_under_their_wire_names(engine):
    mocks, _ = run(engine)
    regs = by_name(mocks)
    assert regs["base"].inputs == {
        "roleName": "xpander-base-role",
        # The schema's defaults, filled by the SDK as Pulumi's SDKs do.
        "path": "/",
        "podIdentity": {"clusterName": "xpander-cluster", "namespace": "xpander", "serviceAccount": "xpander"},
    }
    assert regs["redshift"].inputs["redshift"] == {"clusterIdentifier": "analytics", "databaseName": "dev"}
    # The SDK fills the schema's defaults in (scopedPolicy: false, the seed's EKSAccess).
    assert regs["eks"].inputs["eks"] == {"clusterName": "xpander-cluster", "scopedPolicy": False}
    for name in ("redshift", "eks"):
        assert regs[name].inputs["baseRoleArn"] == "arn:aws:iam::123456789012:role/xpander-base-role"
        assert regs[name].inputs["baseRoleId"] == "AROAXPANDERBASEROLE"
        assert regs[name].inputs["grantBaseRole"] is True
        # The ExternalId statement trusts xpander's account; the PodIdentity fallback the base role's pods.
        assert regs[name].inputs["trustedAccountId"] == "777788889999"
        assert regs[name].inputs["podIdentityScope"] == regs["base"].inputs["podIdentity"]


def test_organization_id_is_sent_as_a_secret(engine):
    mocks, _ = run(engine)
    for name in ("redshift", "eks"):
        assert by_name(mocks)[name].inputs["externalId"] == Secret(ORG_ID)


def test_adding_an_s3_connector_adds_one_registration(engine):
    mocks, exports = run(engine, s3Buckets=["xpander-data"])
    assert mocks.failures() == []
    s3 = by_name(mocks)["s3"]
    assert s3.type == CONNECTOR
    assert s3.inputs["s3"] == {"buckets": ["xpander-data"], "readOnly": True}
    assert s3.inputs["externalId"] == Secret(ORG_ID)
    assert exports["s3RoleArn"] == "arn:aws:iam::123456789012:role/xpander-s3-connector"


def test_exports_the_role_arns_for_the_xpander_ui(engine):
    _, exports = run(engine)
    assert exports == {
        "baseRoleArn": "arn:aws:iam::123456789012:role/xpander-base-role",
        "eksRoleArn": "arn:aws:iam::123456789012:role/xpander-eks-connector",
        "redshiftRoleArn": "arn:aws:iam::123456789012:role/xpander-redshift-access",
    }


def test_preview_sends_unknowns_for_values_not_yet_known(engine):
    class PreviewMocks(CheckingMocks):
        """A preview before the base role exists: its outputs are unknown."""

        def new_resource(self, args):
            id_, state = super().new_resource(args)
            if args.typ == BASE:
                state = {**state, "arn": pulumi.output.UNKNOWN, "roleId": pulumi.output.UNKNOWN}
            return id_, state

    mocks = PreviewMocks(engine)
    run_program(PYTHON_EXAMPLE, PROJECT, "dev", CONFIG, preview=True, mocks=mocks)
    assert mocks.failures() == []
    assert by_name(mocks)["redshift"].inputs["baseRoleArn"] is UNKNOWN


def test_a_property_the_provider_does_not_know_fails_check(engine, tmp_path):
    """The check can fail: a registration the provider rejects is reported."""
    program = tmp_path / "__main__.py"
    program.write_text(
        "import pulumi\n"
        "pulumi.CustomResource('xpander:index:XpanderConnectorRole', 'typo', {'redshift': {'clusterId': 'a', 'databaseName': 'b'}})\n"
    )
    mocks = CheckingMocks(engine)
    run_program(program, PROJECT, "dev", {}, mocks=mocks)
    assert any("redshift" in failure for failure in mocks.failures()), mocks.failures()


def test_provider_class_config_passes_check_config(engine, tmp_path):
    """Non-string provider inputs travel as JSON, as with Pulumi's SDKs; the
    provider's CheckConfig must accept every key in that form."""
    program = tmp_path / "__main__.py"
    program.write_text("""\
import pulumi
import pulumi_xpander as xpander

provider = xpander.Provider("explicit",
    region="eu-west-1",
    assume_role=xpander.AssumeRoleArgs(role_arn="arn:aws:iam::123456789012:role/deployer",
                                       external_id=pulumi.Output.secret("ext-1"), session_name="ci"),
    endpoints=xpander.EndpointsArgs(iam="http://127.0.0.1:1", sts="http://127.0.0.1:1", eks="http://127.0.0.1:1"),
    default_tags={"Project": "xpander"},
    propagation_timeout=30,
    max_retries=3,
    skip_credentials_validation=True)
xpander.XpanderConnectorRole("athena",
    athena=xpander.AthenaArgs(work_groups=["primary"], output_bucket="results"),
    dynamodb={"tables": ["sessions"], "read_only": True},
    opts=pulumi.ResourceOptions(provider=provider))
""")
    mocks = CheckingMocks(engine)
    run_program(program, PROJECT, "dev", {}, mocks=mocks)
    assert mocks.failures() == []
    regs = by_name(mocks)
    assert regs["explicit"].inputs["maxRetries"] == "3"
    assert regs["athena"].inputs["dynamodb"] == {"tables": ["sessions"], "readOnly": True}


def test_functions_invoke_the_provider(engine, tmp_path):
    """renderConnectorPolicies through both SDK spellings, answered by the
    provider itself (offline: the account id is given). A function takes the
    plain input classes (`xpander.Redshift`), not a resource's Args."""
    program = tmp_path / "__main__.py"
    program.write_text("""\
import pulumi
import pulumi_xpander as xpander

args = dict(role_name="xpander-redshift-access", account_id="123456789012",
            base_role_arn="arn:aws:iam::123456789012:role/xpander-base-role",
            redshift=xpander.Redshift(cluster_identifier="analytics", database_name="dev"))
plain = xpander.render_connector_policies(external_id="org-7f3a9c21", **args)
pulumi.export("roleArn", plain.role_arn)
pulumi.export("sids", [s["Sid"] for s in plain.trust_policy["Statement"]])
pulumi.export("policies", sorted(plain.policies))
output = xpander.render_connector_policies_output(external_id=pulumi.Output.secret("org-7f3a9c21"), **args)
pulumi.export("outputRoleArn", output.role_arn)
""")
    exports = run_program(program, PROJECT, "dev", {}, mocks=CheckingMocks(engine))
    assert exports["roleArn"] == "arn:aws:iam::123456789012:role/xpander-redshift-access"
    assert exports["sids"] == ["PodIdentity", "CrossAccountWithExternalId", "SelfAssume", "AllowFromBaseRole"]
    assert exports["policies"] == ["RedshiftCredentials", "RedshiftDataAPI", "SelfAssumeAndTagSession"]
    assert exports["outputRoleArn"] == Secret("arn:aws:iam::123456789012:role/xpander-redshift-access")
