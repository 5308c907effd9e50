"""The two data sources beyond the seed, `bedrock` and `secretsManager`,
deployed through the engine driver as the principal holding only the printed
deploy policy, then used as xpander uses them: pod credentials (the base role
through Pod Identity) -> connector role -> the connector again.  The
connector's session reads secrets through moto's Secrets Manager, authorised
by the simulator (KMS decryption included, as Secrets Manager asks for it on
the caller's behalf); Bedrock, which moto does not serve, is asked of the
simulator's evaluator through POST /_awssim/authorize.  The written policies
are the ones renderConnectorPolicies renders."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from pulumi.runtime.proto import provider_pb2

from e2e.seed import ACCOUNT, BASE, CONNECTOR, chain, role_arn
from engine import from_struct, to_struct

REGION = "us-east-1"
BEDROCK_ROLE, SECRETS_ROLE = "xpander-bedrock-connector", "xpander-secrets-connector"
INVOKE = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
MODEL_ID = "anthropic.claude-3-5-sonnet-20240620-v1:0"
MODEL = f"arn:aws:bedrock:{REGION}::foundation-model/amazon.titan-text-express-v1"
PROFILE = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/us.{MODEL_ID}"
# The Regions of the `us` geography, which the profile routes to.
DESTINATIONS = ("us-east-1", "us-east-2", "us-west-2")


def routed(region: str) -> str:
    return f"arn:aws:bedrock:{region}::foundation-model/{MODEL_ID}"


@pytest.fixture
def key(aws) -> str:
    return aws.boto3_client("kms").create_key(Description="xpander connector secrets")["KeyMetadata"]["Arn"]


@pytest.fixture
def secrets(aws, key) -> dict[str, str]:
    """Two secrets under the customer managed key; the connector lists only the first."""
    sm = aws.boto3_client("secretsmanager")
    return {name: sm.create_secret(Name=name, SecretString=json.dumps({"password": name}), KmsKeyId=key)["ARN"]
            for name in ("xpander/redshift", "xpander/unlisted")}


def inputs(key: str, secrets: dict[str, str]) -> dict[str, dict]:
    """Each connector's own inputs (the base role's ARN and id are added by the program)."""
    return {
        "bedrock": {"roleName": BEDROCK_ROLE, "bedrock": {"modelArns": [MODEL, PROFILE]}},
        "secrets": {"roleName": SECRETS_ROLE, "secretsManager": {"secretArns": [secrets["xpander/redshift"]], "kmsKeyArn": key}},
    }


def program(cluster: str, connectors: dict[str, dict]):
    def run(ctx):
        base = ctx.resource(BASE, "base", {"roleName": "xpander-base-role", "podIdentity": {"clusterName": cluster}})
        for name, own in connectors.items():
            ctx.resource(CONNECTOR, name, {**own, "baseRoleArn": base["arn"], "baseRoleId": base["roleId"]})
    return run


def rendered_policies(engine, own: dict) -> dict[str, dict]:
    args = {**own, "accountId": ACCOUNT, "baseRoleArn": role_arn("xpander-base-role")}
    response = engine.call("Invoke", provider_pb2.InvokeRequest(tok="xpander:index:renderConnectorPolicies", args=to_struct(args)))
    assert not response.failures, response.failures
    return from_struct(getattr(response, "return"))["policies"]


def inline_policies(iam, role: str) -> dict[str, dict]:
    docs = {}
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        doc = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        docs[name] = doc if isinstance(doc, dict) else json.loads(doc)
    return docs


def denial(action: str, resource: str, session_arn: str) -> str:
    return (f"User: {session_arn} is not authorized to perform: {action} on resource: {resource} "
            f"because no identity-based policy allows the {action} action")


@pytest.fixture
def deployed(aws, cluster, stack, engine, key, secrets):
    connectors = inputs(key, secrets)
    stack.up(program(cluster, connectors))
    return connectors


def test_the_written_policies_are_the_rendered_ones(aws, engine, deployed):
    iam = aws.boto3_client("iam")
    for name, role in (("bedrock", BEDROCK_ROLE), ("secrets", SECRETS_ROLE)):
        assert inline_policies(iam, role) == rendered_policies(engine, deployed[name])
    bedrock = inline_policies(iam, BEDROCK_ROLE)["BedrockAccess"]["Statement"]
    assert [(s["Sid"], s["Resource"], s.get("Condition")) for s in bedrock] == [
        ("BedrockInvoke", [MODEL, PROFILE], None),
        ("BedrockModelsThroughProfiles", [routed(r) for r in DESTINATIONS], {"ArnEquals": {"bedrock:InferenceProfileArn": [PROFILE]}}),
    ]
    assert all(s["Action"] == INVOKE for s in bedrock)
    assert sorted(iam.list_role_policies(RoleName="xpander-base-role")["PolicyNames"]) == [
        f"xpander-assume-{BEDROCK_ROLE}", f"xpander-assume-{SECRETS_ROLE}"]
    for role in (BEDROCK_ROLE, SECRETS_ROLE, "xpander-base-role"):
        assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []


def test_the_secrets_connector_reads_only_its_secret_decrypted_through_secrets_manager(aws, deployed, secrets, key):
    final = chain(aws, role_arn(SECRETS_ROLE))
    session_arn = final["AssumedRoleUser"]["Arn"]
    assert session_arn.startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/{SECRETS_ROLE}/")
    sm = aws.client_for("secretsmanager", final["Credentials"])
    listed, unlisted = secrets["xpander/redshift"], secrets["xpander/unlisted"]

    assert json.loads(sm.get_secret_value(SecretId=listed)["SecretString"]) == {"password": "xpander/redshift"}
    assert sm.describe_secret(SecretId=listed)["KmsKeyId"] == key
    for action, call in (("secretsmanager:GetSecretValue", sm.get_secret_value), ("secretsmanager:DescribeSecret", sm.describe_secret)):
        with pytest.raises(ClientError) as info:
            call(SecretId=unlisted)
        assert info.value.response["Error"]["Code"] == "AccessDeniedException"
        assert info.value.response["Error"]["Message"] == denial(action, unlisted, session_arn)
    reads = [(r["action"], r["denied"]) for r in aws.requests() if r["service"] == "secretsmanager" and r["caller"] == session_arn]
    assert reads == [("GetSecretValue", None), ("DescribeSecret", None),
                     ("GetSecretValue", "secretsmanager:GetSecretValue"), ("DescribeSecret", "secretsmanager:DescribeSecret")]

    # kms:Decrypt holds only through Secrets Manager: the same session asking KMS itself is refused.
    ciphertext = aws.boto3_client("kms").encrypt(KeyId=key, Plaintext=b"credential")["CiphertextBlob"]
    with pytest.raises(ClientError) as info:
        aws.client_for("kms", final["Credentials"]).decrypt(CiphertextBlob=ciphertext)
    assert info.value.response["Error"]["Message"] == denial("kms:Decrypt", key, session_arn)


def test_the_bedrock_connector_invokes_exactly_its_models(aws, cluster, deployed):
    final = chain(aws, role_arn(BEDROCK_ROLE))
    creds, session_arn = final["Credentials"], final["AssumedRoleUser"]["Arn"]

    def allowed(action: str, resource: str, context: dict[str, str] | None = None) -> bool:
        decision = aws.authorize(creds, action, resource, context)
        if not decision["allowed"]:
            assert decision["message"] == denial(action, resource, session_arn)
        return decision["allowed"]

    through = {"bedrock:InferenceProfileArn": PROFILE}
    other_profile = {"bedrock:InferenceProfileArn": PROFILE.replace(f"us.{MODEL_ID}", "us.anthropic.claude-3-haiku-20240307-v1:0")}
    for action in INVOKE:
        assert allowed(action, MODEL) and allowed(action, PROFILE)
        assert not allowed(action, f"arn:aws:bedrock:{REGION}::foundation-model/amazon.titan-text-lite-v1")
        assert not allowed(action, MODEL.replace(REGION, "us-west-2")), "a model is granted in its own Region only"
        for region in DESTINATIONS:
            assert allowed(action, routed(region), through), region
            assert not allowed(action, routed(region)), f"{region}: the routed model without the profile"
            assert not allowed(action, routed(region), other_profile), f"{region}: through another profile"
        assert not allowed(action, routed("eu-west-1"), through), "outside the profile's geography"
    for action, resource in (("bedrock:CreateModelCustomizationJob", "*"), ("bedrock:InvokeAgent", "*"),
                             ("bedrock:GetFoundationModel", MODEL), ("bedrock:ApplyGuardrail", "*")):
        assert not allowed(action, resource), action
    # The grant is the connector's alone: the pod's base-role session may not invoke.
    pod = aws.pod_credentials(cluster, "xpander", "xpander")
    assert not aws.authorize(pod, "bedrock:InvokeModel", MODEL)["allowed"]


def test_destroy_leaves_nothing_and_the_sessions_can_do_nothing(aws, cluster, stack, deployed, secrets):
    secrets_session = chain(aws, role_arn(SECRETS_ROLE))["Credentials"]
    bedrock_session = chain(aws, role_arn(BEDROCK_ROLE))["Credentials"]
    stack.destroy()
    iam, eks = aws.boto3_client("iam"), aws.boto3_client("eks")
    assert iam.list_roles()["Roles"] == []
    assert eks.list_pod_identity_associations(clusterName=cluster)["associations"] == []
    with pytest.raises(ClientError) as info:
        aws.client_for("secretsmanager", secrets_session).get_secret_value(SecretId=secrets["xpander/redshift"])
    assert info.value.response["Error"]["Code"] == "AccessDeniedException"
    assert not aws.authorize(bedrock_session, "bedrock:InvokeModel", MODEL)["allowed"]
