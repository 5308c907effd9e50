"""Hypothesis fuzzing of the property-value codec and the policy-document
parser through the provider's real gRPC surface (official stubs), bounded for
CI. Every answer must be OK or a precise error: never a crash, a hang, or
INTERNAL/UNKNOWN (UNKNOWN is allowed only as ErrorResourceInitFailed), and a
secret sent as the ExternalId never comes back in a message.

The Rust crate has proptests for the codec and the policy model; this suite
checks the same code behind the wire: decoding of signature objects,
sentinels and odd numbers, Check's typed pipeline, Diff's canonical
comparison of documents from state, previews, and renderConnectorPolicies.
XPANDER_SOAK=1 runs many more examples, randomised.
"""

from __future__ import annotations

import json
import math
import urllib.parse

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pulumi.runtime.proto import provider_pb2

from bench.measure import cpu_seconds
from engine import Engine, ProviderProcess, clean_env, decode_error
from engine.values import (
    ALL_UNKNOWN_SENTINELS,
    ARCHIVE_SIG,
    ASSET_SIG,
    OUTPUT_VALUE_SIG,
    RESOURCE_REF_SIG,
    SECRET_SIG,
    SIG_KEY,
)
from reliability.world import BINARY, SOAK

BASE_TYPE = "xpander:index:XpanderBaseRole"
CONNECTOR_TYPE = "xpander:index:XpanderConnectorRole"
BYTE_STRING_SIG = "803fd3297a5875dc03ca845dda5d2a98"
MARKER = "fuzz-org-secret-5b3e1d"  # sent only inside Secret wrappers
RPC_TIMEOUT = 10.0  # far above any honest answer; reaching it is a hang

FUZZ = settings(
    max_examples=2000 if SOAK else 120,
    deadline=None,
    derandomize=not SOAK,  # CI runs the same examples every time
    database=None,  # keep .hypothesis/ out of the repository
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)

BASE_INPUTS = ["roleName", "path", "description", "maxSessionDuration", "permissionsBoundary", "tags",
               "connectorRoleArns", "podIdentity"]
CONNECTOR_INPUTS = ["roleName", "path", "description", "maxSessionDuration", "permissionsBoundary", "tags",
                    "baseRoleArn", "baseRoleId", "grantBaseRole", "externalId", "trustedAccountId",
                    "podIdentityTrust", "redshift", "eks", "s3", "dynamodb", "athena", "policies",
                    "managedPolicyArns"]
NESTED_FIELDS = ["clusterIdentifier", "databaseName", "region", "dbUsers", "clusterName", "accessPolicyArn",
                 "accessScope", "type", "namespaces", "buckets", "prefixes", "readOnly", "tables", "workGroups",
                 "outputBucket", "glueDatabases", "namespace", "serviceAccount", "disableSessionTags", "tags"]
CONNECTOR_OUTPUTS = ["arn", "roleId", "accountId", "trustPolicy", "policies", "tagsAll", "accessEntryArn",
                     "grantPolicyName"]

INTERESTING = [
    "", "*", "?", " ", "\x00", "\ud7ff", "null", "{", "}", "[]", "{}", "%",
    "%7B%22Version%22%3A%222012-10-17%22%7D", '{"Version":"2012-10-17","Statement":[]}',
    "arn:aws:iam::123456789012:role/xpander-base-role", "arn:aws:iam::123456789012:role/a/b/c",
    "arn:aws:iam::*:role/*", "arn:aws-cn:iam::123456789012:role/x", "arn:aws:iam::aws:policy/ReadOnlyAccess",
    "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", "AROAEXAMPLEEXAMPLE1234", "123456789012",
    "s3:*", "sts:AssumeRole", "Allow", "Deny", "2012-10-17", "${aws:username}", "/", "//", "/a/", "cluster",
    "namespace", "true", "1e309", *sorted(ALL_UNKNOWN_SENTINELS), SECRET_SIG, RESOURCE_REF_SIG, SIG_KEY,
]
long_texts = st.builds(lambda c, n: c * n, st.sampled_from(["a", "é", "*", "/"]), st.integers(60, 5000))
texts = st.one_of(st.text(max_size=30), st.sampled_from(INTERESTING), long_texts)
keys = st.one_of(st.text(max_size=12), st.sampled_from(NESTED_FIELDS + CONNECTOR_INPUTS + [SIG_KEY, "value", "urn", "id"]))
numbers = st.one_of(
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -0.0, 0.5, 3600, 43200, 43201, 1e300, -1, 2**53 + 1.0]),
)
leaves = st.one_of(st.none(), st.booleans(), numbers, texts)


def _special(children):
    sig = st.sampled_from([SECRET_SIG, RESOURCE_REF_SIG, ASSET_SIG, ARCHIVE_SIG, OUTPUT_VALUE_SIG, BYTE_STRING_SIG,
                           "bogus-signature"])
    return st.one_of(
        children.map(lambda v: {SIG_KEY: SECRET_SIG, "value": v}),
        st.builds(lambda urn, id_: {SIG_KEY: RESOURCE_REF_SIG, "urn": urn, "id": id_}, texts, children),
        st.builds(lambda s, extra: {SIG_KEY: s, **extra}, sig, st.dictionaries(keys, children, max_size=3)),
        children.map(lambda v: {SIG_KEY: v}),  # a signature that is not a string
        st.builds(lambda v, secret: {SIG_KEY: OUTPUT_VALUE_SIG, "value": v, "secret": secret, "dependencies": []},
                  children, st.booleans()),
    )


values = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(keys, children, max_size=5),
        _special(children),
    ),
    max_leaves=20,  # keeps nesting below the depth defect tested on its own below
)

# Policy-shaped JSON: mostly plausible structure with wrong types and odd values mixed in.
actions = st.one_of(st.sampled_from(["s3:GetObject", "sts:AssumeRole", "sts:TagSession", "*", "iam:*", "s3:Get*",
                                     "", "no-colon", "S3:getobject"]), values)
principals = st.one_of(
    st.just("*"),
    st.dictionaries(st.sampled_from(["AWS", "Service", "Federated", "CanonicalUser", "aws", "Bogus"]),
                    st.one_of(texts, st.lists(texts, max_size=3), values), max_size=3),
    values,
)
conditions = st.dictionaries(
    st.sampled_from(["StringEquals", "StringLike", "StringNotEquals", "ForAnyValue:StringEquals", "Bool", "Null",
                     "NumericLessThan", "ArnLike", "StringEqualsIfExists", "Bogus", ""]),
    st.one_of(st.dictionaries(st.sampled_from(["sts:ExternalId", "aws:PrincipalArn", "aws:SourceIp", "x"]),
                              st.one_of(texts, st.lists(texts, max_size=3), values), max_size=3), values),
    max_size=3,
)
statement = st.fixed_dictionaries({}, optional={
    "Sid": st.one_of(texts, values),
    "Effect": st.one_of(st.sampled_from(["Allow", "Deny", "allow", ""]), values),
    "Action": st.one_of(actions, st.lists(actions, max_size=4)),
    "NotAction": st.one_of(actions, st.lists(actions, max_size=3)),
    "Resource": st.one_of(texts, st.lists(texts, max_size=3), values),
    "NotResource": st.one_of(texts, st.lists(texts, max_size=3)),
    "Principal": principals,
    "NotPrincipal": principals,
    "Condition": st.one_of(conditions, values),
})
document = st.fixed_dictionaries({}, optional={
    "Version": st.one_of(st.sampled_from(["2012-10-17", "2008-10-17", "", "2012-10-18"]), values),
    "Id": texts,
    "Statement": st.one_of(statement, st.lists(statement, max_size=4), values),
})
documents = st.one_of(
    document,
    document.map(json.dumps),
    document.map(lambda d: urllib.parse.quote(json.dumps(d))),
    st.text(max_size=60),
    values,
)


def nested_objects(field_values=values):
    return st.dictionaries(st.sampled_from(NESTED_FIELDS), field_values, max_size=5)


def input_maps(names: list[str]):
    """Property maps with real input names (so values reach typed parsing) and some unknown names."""
    per_key = st.one_of(values, nested_objects(), st.dictionaries(texts, documents, max_size=3), documents)
    return st.dictionaries(st.one_of(st.sampled_from(names), st.text(max_size=8)), per_key, max_size=8)


def with_secret_external_id(inputs: dict) -> dict:
    return {**inputs, "externalId": {SIG_KEY: SECRET_SIG, "value": MARKER}}


# -- the provider under test ----------------------------------------------------------------------


def _struct(value: dict):
    from google.protobuf import struct_pb2

    s = struct_pb2.Struct()
    s.update(value)
    return s


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    home = tmp_path_factory.mktemp("fuzz-home")
    # Nothing here reaches AWS: the endpoint is the discard port and previews make no calls.
    env = clean_env(home, AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID="AKIAXPANDERFUZZONLY00",
                    AWS_SECRET_ACCESS_KEY="fuzz-secret-not-real", AWS_ENDPOINT_URL="http://127.0.0.1:9")
    proc = ProviderProcess(BINARY, env=env)
    engine = Engine(proc, rpc_timeout=RPC_TIMEOUT)
    engine.handshake()
    engine.configure({"region": "us-east-1", "skipCredentialsValidation": True, "maxRetries": 0})
    yield proc
    assert proc.running(), "the provider died during fuzzing"
    leaked = [log.message for log in proc.logs if MARKER in log.message]
    proc.stop()
    assert not leaked, f"Engine.Log messages carry the secret: {leaked[:3]}"
    assert MARKER not in proc.stderr


class Outcome:
    def __init__(self, response=None, failure=None):
        self.response, self.failure = response, failure


def rpc(proc: ProviderProcess, method: str, request) -> Outcome:
    """One call; fails the example on a crash, a hang or an INTERNAL/UNKNOWN answer."""
    try:
        response = getattr(proc.stub, method)(request, timeout=RPC_TIMEOUT)
        outcome = Outcome(response=response)
    except grpc.RpcError as err:
        failure = decode_error(err)
        outcome = Outcome(failure=failure)
        assert failure.code not in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE), \
            f"{method}: {failure.code.name} {failure.message[:300]} (hang or crash)"
        if failure.code in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN):
            assert failure.detail(provider_pb2.ErrorResourceInitFailed) is not None, \
                f"{method}: {failure.code.name}: {failure.message[:300]}"
        assert MARKER not in failure.message, f"{method}: the secret is in an error message"
    assert proc.running(), f"the provider exited during {method}"
    return outcome


def urn(type_: str, name: str = "fuzz") -> str:
    return f"urn:pulumi:dev::fuzz::{type_}::{name}"


def check(proc, type_: str, news: dict, olds: dict | None = None) -> Outcome:
    outcome = rpc(proc, "Check", provider_pb2.CheckRequest(
        urn=urn(type_), type=type_, name="fuzz", olds=_struct(olds or {}), news=_struct(news), randomSeed=b"\x01" * 32,
    ))
    if outcome.response is not None:
        reasons = [f.reason for f in outcome.response.failures]
        assert not [r for r in reasons if MARKER in r], "a CheckFailure quotes the secret"
    return outcome


# -- the properties -------------------------------------------------------------------------------


@FUZZ
@given(news=input_maps(CONNECTOR_INPUTS), olds=st.one_of(st.just({}), input_maps(CONNECTOR_INPUTS)))
def test_check_connector_answers_cleanly(provider, news, olds):
    check(provider, CONNECTOR_TYPE, with_secret_external_id(news), olds)


@FUZZ
@given(news=input_maps(BASE_INPUTS), olds=st.one_of(st.just({}), input_maps(BASE_INPUTS)))
def test_check_base_role_answers_cleanly(provider, news, olds):
    check(provider, BASE_TYPE, news, olds)


@FUZZ
@given(
    type_=st.sampled_from([CONNECTOR_TYPE, BASE_TYPE]),
    olds=input_maps(CONNECTOR_INPUTS + CONNECTOR_OUTPUTS),
    old_inputs=input_maps(CONNECTOR_INPUTS),
    news=input_maps(CONNECTOR_INPUTS),
)
def test_diff_answers_cleanly(provider, type_, olds, old_inputs, news):
    rpc(provider, "Diff", provider_pb2.DiffRequest(
        id="fuzz-role", urn=urn(type_), type=type_, name="fuzz",
        olds=_struct(olds), old_inputs=_struct(old_inputs), news=_struct(with_secret_external_id(news)),
    ))


VALID_CONNECTOR = {
    "roleName": "fuzz-connector",
    "baseRoleArn": "arn:aws:iam::123456789012:role/xpander-base-role",
    "externalId": {SIG_KEY: SECRET_SIG, "value": MARKER},
    "redshift": {"clusterIdentifier": "analytics", "databaseName": "dev"},
}


@FUZZ
@given(
    trust=documents,
    policies=st.one_of(st.dictionaries(texts, documents, max_size=4), documents),
    custom=st.dictionaries(texts, documents, max_size=3),
    arn=st.one_of(st.just("arn:aws:iam::123456789012:role/fuzz-connector"), texts),
)
def test_policy_documents_in_state_and_inputs(provider, trust, policies, custom, arn):
    """Documents as the engine hands them back from state (Diff olds), as
    users write them (custom `policies`), and through renderConnectorPolicies."""
    news = {**VALID_CONNECTOR, "policies": custom}
    olds = {**VALID_CONNECTOR, "arn": arn, "trustPolicy": {SIG_KEY: SECRET_SIG, "value": trust},
            "policies": policies, "grantPolicyName": "xpander-assume-fuzz-connector"}
    checked = check(provider, CONNECTOR_TYPE, news)
    rpc(provider, "Diff", provider_pb2.DiffRequest(
        id="fuzz-connector", urn=urn(CONNECTOR_TYPE), type=CONNECTOR_TYPE, name="fuzz",
        olds=_struct(olds), old_inputs=_struct(VALID_CONNECTOR), news=_struct(news),
    ))
    if checked.response is not None and not checked.response.failures:
        rpc(provider, "Create", provider_pb2.CreateRequest(
            urn=urn(CONNECTOR_TYPE), type=CONNECTOR_TYPE, name="fuzz", properties=checked.response.inputs, preview=True,
        ))
    rpc(provider, "Invoke", provider_pb2.InvokeRequest(
        tok="xpander:index:renderConnectorPolicies",
        args=_struct({**news, "accountId": "123456789012"}),
    ))


@FUZZ
@given(type_=st.sampled_from([CONNECTOR_TYPE, BASE_TYPE]), props=input_maps(CONNECTOR_INPUTS + BASE_INPUTS),
       olds=input_maps(CONNECTOR_INPUTS + CONNECTOR_OUTPUTS))
def test_previews_answer_cleanly(provider, type_, props, olds):
    """Create and Update with preview=true take whatever Check let through, and more."""
    props = with_secret_external_id(props) if type_ == CONNECTOR_TYPE else props
    rpc(provider, "Create", provider_pb2.CreateRequest(
        urn=urn(type_), type=type_, name="fuzz", properties=_struct(props), preview=True,
    ))
    rpc(provider, "Update", provider_pb2.UpdateRequest(
        id="fuzz-role", urn=urn(type_), type=type_, name="fuzz", olds=_struct(olds), old_inputs=_struct(olds),
        news=_struct(props), preview=True,
    ))


CONFIG_KEYS = ["region", "profile", "assumeRole", "endpoints", "defaultTags", "propagationTimeout", "maxRetries",
               "skipCredentialsValidation", "version"]


@FUZZ
@given(news=st.dictionaries(st.one_of(st.sampled_from(CONFIG_KEYS), st.text(max_size=8)), values, max_size=6),
       olds=st.dictionaries(st.sampled_from(CONFIG_KEYS), values, max_size=4))
def test_config_answers_cleanly(provider, news, olds):
    provider_urn = "urn:pulumi:dev::fuzz::pulumi:providers:xpander::default"
    rpc(provider, "CheckConfig", provider_pb2.CheckRequest(
        urn=provider_urn, type="pulumi:providers:xpander", name="default", olds=_struct(olds), news=_struct(news),
    ))
    rpc(provider, "DiffConfig", provider_pb2.DiffRequest(
        id="fuzz", urn=provider_urn, type="pulumi:providers:xpander", name="default",
        olds=_struct(olds), old_inputs=_struct(olds), news=_struct(news),
    ))


# -- sizes and depths hypothesis does not reach -------------------------------------------------


def nest(depth: int, kind: str):
    value = "leaf"
    for _ in range(depth):
        value = [value] if kind == "list" else {"k": value}
    return value


@pytest.mark.parametrize("kind,depth", [("object", 25), ("list", 40)])
def test_nesting_the_engine_produces_is_accepted(provider, kind, depth):
    outcome = check(provider, CONNECTOR_TYPE, {**VALID_CONNECTOR, "tags": nest(depth, kind)})
    assert outcome.response is not None


@pytest.mark.parametrize("kind,depth", [("object", 40), ("list", 64), ("object", 200)])
def test_deep_nesting_is_rejected_cleanly(provider, kind, depth):
    """Deeper than prost's recursion limit (100 messages, ~32 objects): the
    engine (Go, limit 10,000) sends such values, so the provider must refuse
    them precisely, not with tonic's INTERNAL decode error: INVALID_ARGUMENT
    naming the request field that is too deep and why."""
    outcome = check(provider, CONNECTOR_TYPE, {**VALID_CONNECTOR, "tags": nest(depth, kind)})
    assert outcome.failure is not None, (
        f"a {kind} nested {depth} deep must be refused, got CheckFailures "
        f"{[(f.property, f.reason) for f in outcome.response.failures]}"
    )
    assert outcome.failure.code == grpc.StatusCode.INVALID_ARGUMENT, outcome.failure.code.name
    assert "CheckRequest.news" in outcome.failure.message, outcome.failure.message[-300:]
    assert outcome.failure.message.endswith("recursion limit reached"), outcome.failure.message[-300:]


@pytest.mark.parametrize("what", ["huge-string", "long-list", "many-keys", "many-policies"])
def test_large_values_answer_promptly(provider, what):
    big = {
        "huge-string": {"description": "d" * 2_000_000},
        "long-list": {"managedPolicyArns": [f"arn:aws:iam::123456789012:policy/p{i}" for i in range(20_000)]},
        "many-keys": {"tags": {f"k{i}": "v" for i in range(20_000)}},
        "many-policies": {"policies": {f"P{i}": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::b{i}/*"}]} for i in range(2_000)}},
    }[what]
    # Work, not wall time (a busy machine stretches the latter; the latency
    # figure is `make bench`'s rpc row): the provider's own CPU seconds.
    cpu_before = cpu_seconds(provider.proc.pid)
    outcome = check(provider, CONNECTOR_TYPE, {**VALID_CONNECTOR, **big})
    cpu_used = cpu_seconds(provider.proc.pid) - cpu_before
    assert cpu_used < 2, f"Check of {what} used {cpu_used:.2f} s of provider CPU"
    assert outcome.response is not None and outcome.response.failures, f"{what} must be refused by Check"


@pytest.mark.parametrize("type_", [CONNECTOR_TYPE, BASE_TYPE], ids=["connector", "base"])
@pytest.mark.parametrize("n", [math.nan, math.inf, -math.inf, 1e308 * 10], ids=["nan", "inf", "-inf", "1e309"])
def test_non_finite_numbers_are_refused(provider, type_, n):
    """maxSessionDuration is an integer of seconds in [3600, 43200]: NaN and
    the infinities (which JSON cannot even carry) must be a CheckFailure
    naming the property, not an input passed on to AWS."""
    news = {**VALID_CONNECTOR, "maxSessionDuration": n} if type_ == CONNECTOR_TYPE else {"roleName": "b", "maxSessionDuration": n}
    outcome = check(provider, type_, news)
    assert outcome.response is not None, f"{outcome.failure.code.name}: {outcome.failure.message[:300]}"
    failed = [f.property for f in outcome.response.failures]
    assert "maxSessionDuration" in failed, f"maxSessionDuration={n} was accepted (failures: {failed})"
