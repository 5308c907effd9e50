"""Unit tests of the pure policy evaluator (no server)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from awssim.policy_eval import Decision, EvalRequest, evaluate, wildcard_match

ROLE = "arn:aws:iam::123456789012:role/xpander-eks-connector"


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def decide(statement: dict, context: dict | None = None, action: str = "sts:AssumeRole", resource: str = ROLE) -> Decision:
    return evaluate([policy(statement)], EvalRequest(action, resource, context or {}))


def test_action_wildcards_are_case_insensitive():
    assert decide({"Effect": "Allow", "Action": "STS:assume*", "Resource": "*"}) is Decision.ALLOW
    assert decide({"Effect": "Allow", "Action": "sts:Tag*", "Resource": "*"}) is Decision.IMPLICIT_DENY


def test_resource_wildcards_are_case_sensitive():
    assert decide({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:iam::123456789012:role/xpander-???-*"}) is Decision.ALLOW
    assert decide({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:iam::123456789012:role/XPANDER-*"}) is Decision.IMPLICIT_DENY
    assert decide({"Effect": "Allow", "Action": "*", "NotResource": ROLE}) is Decision.IMPLICIT_DENY


def test_explicit_deny_wins_over_allow_in_any_document():
    allow = policy({"Effect": "Allow", "Action": "*", "Resource": "*"})
    deny = policy({"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": ROLE})
    assert evaluate([allow, deny], EvalRequest("sts:AssumeRole", ROLE)) is Decision.EXPLICIT_DENY


@pytest.mark.parametrize(
    "condition, context, allowed",
    [
        ({"StringNotEquals": {"aws:PrincipalTag/team": "web"}}, {}, True),
        ({"StringEquals": {"aws:PrincipalTag/team": "web"}}, {}, False),
        ({"StringEquals": {"aws:PrincipalTag/Team": "web"}}, {"aws:principaltag/team": ["web"]}, True),
        ({"StringEquals": {"sts:ExternalId": ["a", "b"]}}, {"sts:externalid": ["b"]}, True),
        ({"StringEqualsIgnoreCase": {"sts:ExternalId": "ABC"}}, {"sts:externalid": ["abc"]}, True),
        ({"StringLike": {"sts:RoleSessionName": "gw-?"}}, {"sts:rolesessionname": ["gw-12"]}, False),
        ({"StringNotLike": {"sts:RoleSessionName": "gw-*"}}, {"sts:rolesessionname": ["gw-12"]}, False),
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/base"}}, {"aws:principalarn": ["arn:aws:iam::1:role/base"]}, True),
        ({"ArnNotEquals": {"aws:PrincipalArn": ROLE}}, {"aws:principalarn": [ROLE]}, False),
        ({"StringEqualsIfExists": {"sts:ExternalId": "x"}}, {}, True),
        ({"StringEqualsIfExists": {"sts:ExternalId": "x"}}, {"sts:externalid": ["y"]}, False),
        ({"Null": {"sts:ExternalId": "true"}}, {}, True),
        ({"Null": {"sts:ExternalId": "false"}}, {}, False),
        ({"Bool": {"aws:SecureTransport": True}}, {"aws:securetransport": ["true"]}, True),
        ({"NumericLessThan": {"sts:DurationSeconds": "3601"}}, {"sts:durationseconds": ["3600"]}, True),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}}, {"aws:tagkeys": ["team", "env"]}, True),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}}, {"aws:tagkeys": ["team", "env"]}, False),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}}, {}, True),
        ({"StringEquals": {"sts:ExternalId": "a"}, "StringLike": {"sts:RoleSessionName": "x"}},
         {"sts:externalid": ["a"], "sts:rolesessionname": ["y"]}, False),
    ],
)
def test_conditions(condition, context, allowed):
    statement = {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": condition}
    assert (decide(statement, context) is Decision.ALLOW) is allowed


def test_unsupported_operator_can_only_deny():
    unknown = {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}
    assert decide({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": unknown}) is Decision.IMPLICIT_DENY
    assert evaluate(
        [policy({"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": unknown})],
        EvalRequest("sts:AssumeRole", ROLE),
    ) is Decision.EXPLICIT_DENY


def test_principal_blocks_go_through_the_matcher():
    trust = policy({"Effect": "Allow", "Principal": {"AWS": "me"}, "Action": "sts:AssumeRole"})
    seen = []

    def matcher(block):
        seen.append(block)
        return block == {"AWS": "me"}

    assert evaluate([trust], EvalRequest("sts:AssumeRole", None, {}, matcher)) is Decision.ALLOW
    assert evaluate([trust], EvalRequest("sts:AssumeRole", None, {}, lambda block: False)) is Decision.IMPLICIT_DENY
    assert seen == [{"AWS": "me"}]


literal = st.text(alphabet=st.characters(blacklist_characters="*?", blacklist_categories=("Cs",)), max_size=40)


@given(literal, literal)
def test_wildcard_literals_and_star(prefix, rest):
    value = prefix + rest
    assert wildcard_match(value, value)
    assert wildcard_match(prefix + "*", value)
    assert not wildcard_match(value + "x", value)
    assert wildcard_match("?" * len(value), value)
