"""The driver's value codec must encode exactly as the engine does (reference §3)."""

from __future__ import annotations

import pytest
from google.protobuf import json_format
from hypothesis import given
from hypothesis import strategies as st

from engine import paths
from engine.values import (
    ALL_UNKNOWN_SENTINELS,
    SECRET_SIG,
    SIG_KEY,
    TYPED_UNKNOWN_SENTINELS,
    UNKNOWN,
    UNKNOWN_SENTINEL,
    ResourceRef,
    Secret,
    annotate_secrets,
    contains_secret,
    contains_unknown,
    from_struct,
    to_struct,
    unwrap_secrets,
)

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text().filter(lambda s: s not in ALL_UNKNOWN_SENTINELS)
    | st.just(UNKNOWN)
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text().filter(lambda k: k != SIG_KEY), inner, max_size=4)
    | inner.map(Secret)
    | st.builds(ResourceRef, st.text(min_size=1), st.text() | st.just(UNKNOWN)),
    max_leaves=20,
)


@given(st.dictionaries(st.text(), _values, max_size=6))
def test_struct_round_trip(props):
    assert from_struct(to_struct(props)) == props


def test_wire_shapes():
    wire = json_format.MessageToDict(to_struct({"s": Secret("x"), "u": UNKNOWN, "r": ResourceRef("urn:a", "i-1")}))
    assert wire["s"] == {SIG_KEY: SECRET_SIG, "value": "x"}
    assert wire["u"] == UNKNOWN_SENTINEL
    assert wire["r"] == {SIG_KEY: "5cf8f73096256a8f31e491e813e4eb8e", "urn": "urn:a", "id": "i-1"}


@pytest.mark.parametrize("sentinel", sorted(TYPED_UNKNOWN_SENTINELS.values()))
def test_every_typed_unknown_decodes_as_unknown(sentinel):
    assert from_struct(to_struct({"v": sentinel, "secret": {SIG_KEY: SECRET_SIG, "value": sentinel}})) == {
        "v": UNKNOWN,
        "secret": Secret(UNKNOWN),
    }


def test_output_values_flatten_to_secrets_and_unknowns():
    out = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
    decoded = from_struct(to_struct({
        "known": {SIG_KEY: out, "value": 1},
        "secret": {SIG_KEY: out, "value": "s", "secret": True},
        "unknown": {SIG_KEY: out, "dependencies": ["urn:x"]},
    }))
    assert decoded == {"known": 1, "secret": Secret("s"), "unknown": UNKNOWN}


def test_whole_numbers_decode_as_int():
    assert from_struct(to_struct({"n": 120, "f": 1.5})) == {"n": 120, "f": 1.5}
    assert isinstance(from_struct(to_struct({"n": 120}))["n"], int)


def test_integers_beyond_double_precision_are_refused():
    with pytest.raises(ValueError):
        to_struct({"id": 2**53 + 1})


def test_secret_helpers():
    value = {"a": [1, Secret({"b": UNKNOWN})]}
    assert contains_secret(value) and contains_unknown(value)
    assert unwrap_secrets(value) == {"a": [1, {"b": UNKNOWN}]}
    assert not contains_secret(unwrap_secrets(value))
    assert "hunter2" not in repr(Secret("hunter2"))


def test_annotate_secrets_recurses_into_objects_like_the_engine():
    ins = {"assumeRole": {"roleArn": "arn", "externalId": Secret("x")}, "tags": [Secret("t")], "region": "r"}
    outs = {"assumeRole": {"roleArn": "arn", "externalId": "x", "sessionName": "s"}, "tags": ["t"], "region": "r"}
    assert annotate_secrets(outs, ins) == {
        "assumeRole": {"roleArn": "arn", "externalId": Secret("x"), "sessionName": "s"},
        "tags": Secret(["t"]),
        "region": "r",
    }


@pytest.mark.parametrize(
    "path, tokens",
    [
        ("a", ["a"]),
        ("a.b[0].c", ["a", "b", 0, "c"]),
        ('tags["key.with.dots"]', ["tags", "key.with.dots"]),
        ("list[*]", ["list", "*"]),
    ],
)
def test_property_paths_parse(path, tokens):
    assert paths.parse(path) == tokens


@pytest.mark.parametrize("bad", ["", ".a", "a[", "a[x]", "a[0]b"])
def test_malformed_property_paths_are_rejected(bad):
    with pytest.raises(ValueError):
        paths.parse(bad)


def test_ignore_changes_takes_old_values_or_drops_new_ones():
    news = {"a": {"b": 1, "c": 2}, "d": 3}
    olds = {"a": {"b": 9}}
    assert paths.reset_to_old(news, olds, ["a.b", "d", "a.c"]) == {"a": {"b": 9}}
    assert news == {"a": {"b": 1, "c": 2}, "d": 3}  # the program's inputs are not mutated


@pytest.mark.parametrize(
    "pattern, path, expected",
    [("a", "a", True), ("a", "a.b[0]", True), ("a[*]", "a[3].c", True), ("*", "x", True),
     ("a.b", "a", False), ("a", "ab", False)],
)
def test_replace_on_changes_containment(pattern, path, expected):
    assert paths.contains(pattern, path) is expected


def test_path_lookup_keeps_secrets_secret():
    assert paths.lookup({"a": Secret({"b": "x"})}, ["a", "b"]) == Secret("x")
    assert paths.lookup({"a": {}}, ["a", "b"]) is paths.MISSING
