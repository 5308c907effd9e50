"""schema.json as a small typed model: the part of the Pulumi package schema
this provider uses, resolved once so both language emitters read the same facts.

Anything the emitters cannot render (enums, modules other than `index`,
`oneOf`, assets) is rejected here, loudly, rather than generated wrongly.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

PRIMITIVES = ("string", "integer", "number", "boolean")
ANY_REF = "pulumi.json#/Any"


class SchemaError(ValueError):
    pass


@dataclass(frozen=True)
class Primitive:
    name: str  # one of PRIMITIVES


@dataclass(frozen=True)
class AnyType:
    """`pulumi.json#/Any`: a JSON value (the policy documents)."""


@dataclass(frozen=True)
class ArrayType:
    items: TypeRef


@dataclass(frozen=True)
class MapType:
    values: TypeRef


@dataclass(frozen=True)
class ObjectRef:
    token: str

    @property
    def name(self) -> str:
        return token_name(self.token)


TypeRef = Union[Primitive, AnyType, ArrayType, MapType, ObjectRef]


@dataclass(frozen=True)
class Property:
    name: str  # the wire (camelCase) name
    type: TypeRef
    description: str = ""
    required: bool = False
    secret: bool = False
    default: Any = None


@dataclass(frozen=True)
class ObjectType:
    token: str
    description: str
    properties: tuple[Property, ...]

    @property
    def name(self) -> str:
        return token_name(self.token)


@dataclass(frozen=True)
class Resource:
    token: str
    description: str
    inputs: tuple[Property, ...]
    outputs: tuple[Property, ...]  # every output, inputs included, as the schema lists them

    @property
    def name(self) -> str:
        return token_name(self.token)

    @property
    def secret_outputs(self) -> list[str]:
        """Outputs the engine must store as secrets whatever the provider
        returns (`additionalSecretOutputs`): those the schema marks secret."""
        return [p.name for p in self.outputs if p.secret]


@dataclass(frozen=True)
class Function:
    token: str
    description: str
    inputs: tuple[Property, ...]
    outputs: tuple[Property, ...]

    @property
    def name(self) -> str:
        return token_name(self.token)


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    description: str
    keywords: tuple[str, ...]
    license: str
    repository: str
    provider: Resource
    resources: tuple[Resource, ...]
    functions: tuple[Function, ...]
    types: dict[str, ObjectType] = field(hash=False)
    nodejs: dict[str, Any] = field(hash=False)
    python: dict[str, Any] = field(hash=False)

    def object_type(self, ref: ObjectRef) -> ObjectType:
        return self.types[ref.token]

    def reachable(self, roots: list[TypeRef]) -> list[ObjectType]:
        """Object types used (transitively) by `roots`, sorted by name: a
        language module only declares the types its properties can hold."""
        seen: dict[str, ObjectType] = {}
        stack = list(roots)
        while stack:
            ref = stack.pop()
            for obj in object_refs(ref):
                if obj.token not in seen:
                    seen[obj.token] = self.types[obj.token]
                    stack.extend(p.type for p in seen[obj.token].properties)
        return sorted(seen.values(), key=lambda t: t.name)


def token_name(token: str) -> str:
    return token.rsplit(":", 1)[-1]


def object_refs(ref: TypeRef) -> list[ObjectRef]:
    if isinstance(ref, ObjectRef):
        return [ref]
    if isinstance(ref, ArrayType):
        return object_refs(ref.items)
    if isinstance(ref, MapType):
        return object_refs(ref.values)
    return []


def load(path: Path) -> Package:
    return parse(json.loads(path.read_text()))


def parse(schema: dict[str, Any]) -> Package:
    name = schema["name"]
    if schema.get("meta", {}).get("moduleFormat", "(.*)") != "(.*)":
        raise SchemaError("only the default moduleFormat is supported")
    types = {token: _object_type(name, token, spec) for token, spec in sorted(schema.get("types", {}).items())}
    provider_spec = schema.get("provider", {})
    provider = Resource(
        token=f"pulumi:providers:{name}",
        description=provider_spec.get("description", ""),
        inputs=_properties(name, provider_spec.get("inputProperties", {}), provider_spec.get("requiredInputs", [])),
        outputs=_properties(name, provider_spec.get("properties", {}), provider_spec.get("required", [])),
    )
    resources = tuple(_resource(name, token, spec) for token, spec in sorted(schema.get("resources", {}).items()))
    functions = tuple(
        Function(
            token=_token(name, token),
            description=spec.get("description", ""),
            inputs=_properties(name, spec.get("inputs", {}).get("properties", {}), spec.get("inputs", {}).get("required", [])),
            outputs=_properties(name, spec.get("outputs", {}).get("properties", {}), spec.get("outputs", {}).get("required", [])),
        )
        for token, spec in sorted(schema.get("functions", {}).items())
    )
    language = schema.get("language", {})
    return Package(
        name=name,
        version=schema["version"],
        description=schema.get("description", ""),
        keywords=tuple(schema.get("keywords", [])),
        license=schema.get("license", ""),
        repository=schema.get("repository", ""),
        provider=provider,
        resources=resources,
        functions=functions,
        types=types,
        nodejs=language.get("nodejs", {}),
        python=language.get("python", {}),
    )


def _token(package: str, token: str) -> str:
    parts = token.split(":")
    if len(parts) != 3 or parts[0] != package or parts[1] != "index":
        raise SchemaError(f"{token}: only tokens of the form {package}:index:<Name> are supported")
    return token


def _resource(package: str, token: str, spec: dict[str, Any]) -> Resource:
    if spec.get("isComponent"):
        raise SchemaError(f"{token}: component resources are not supported")
    return Resource(
        token=_token(package, token),
        description=spec.get("description", ""),
        inputs=_properties(package, spec.get("inputProperties", {}), spec.get("requiredInputs", [])),
        outputs=_properties(package, spec.get("properties", {}), spec.get("required", [])),
    )


def _object_type(package: str, token: str, spec: dict[str, Any]) -> ObjectType:
    _token(package, token)
    if spec.get("type") != "object" or "enum" in spec:
        raise SchemaError(f"{token}: only object types are supported")
    return ObjectType(token, spec.get("description", ""), _properties(package, spec.get("properties", {}), spec.get("required", [])))


def _properties(package: str, specs: dict[str, Any], required: list[str]) -> tuple[Property, ...]:
    # Sorted by name, as Pulumi's own code generators order them.
    return tuple(
        Property(
            name=_check_name(name),
            type=_type(package, spec, name),
            description=spec.get("description", ""),
            required=name in required,
            secret=bool(spec.get("secret")),
            default=spec.get("default"),
        )
        for name, spec in sorted(specs.items())
    )


def _check_name(name: str) -> str:
    if not re.fullmatch(r"[a-z][A-Za-z0-9]*", name):
        raise SchemaError(f"property {name!r}: expected a camelCase name")
    return name


def _type(package: str, spec: dict[str, Any], where: str) -> TypeRef:
    if "$ref" in spec:
        ref = spec["$ref"]
        if ref == ANY_REF:
            return AnyType()
        prefix = "#/types/"
        if not ref.startswith(prefix):
            raise SchemaError(f"{where}: unsupported reference {ref}")
        return ObjectRef(_token(package, ref[len(prefix):]))
    kind = spec.get("type")
    if kind in PRIMITIVES:
        return Primitive(kind)
    if kind == "array":
        return ArrayType(_type(package, spec["items"], where))
    if kind == "object" and "additionalProperties" in spec:
        return MapType(_type(package, spec["additionalProperties"], where))
    raise SchemaError(f"{where}: unsupported type {json.dumps(spec, sort_keys=True)}")


def snake_case(name: str) -> str:
    """`clusterName` -> `cluster_name`, `s3` -> `s3`, `XpanderBaseRole` -> `xpander_base_role`."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]
