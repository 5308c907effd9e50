"""The Python SDK (`pulumi_xpander`), shaped like the SDKs `pulumi package
gen-sdk --language python` writes: `@pulumi.input_type` Args classes with
TypedDict twins, `@pulumi.output_type` result classes, one module per
resource and function, and a `Provider`.

Property names are snake_case in Python; `@pulumi.getter(name=...)` carries
the camelCase wire name, which is how the Pulumi runtime translates keys
in both directions.
"""

from __future__ import annotations

import json

from .model import (
    AnyType,
    ArrayType,
    Function,
    MapType,
    ObjectRef,
    ObjectType,
    Package,
    Primitive,
    Property,
    Resource,
    TypeRef,
    object_refs,
    snake_case,
)
from .text import header, python_docstring, python_literal

BUILTINS = {"string": "_builtins.str", "integer": "_builtins.int", "number": "_builtins.float", "boolean": "_builtins.bool"}

IMPORTS = """\
import builtins as _builtins
import sys
import pulumi
import pulumi.runtime
from typing import Any, Mapping, Optional, Sequence, Union, overload
if sys.version_info >= (3, 11):
    from typing import NotRequired, TypedDict
else:
    from typing_extensions import NotRequired, TypedDict
from . import _utilities
"""


def generate(pkg: Package) -> dict[str, str]:
    module = pkg.python.get("packageName", f"pulumi_{pkg.name}")
    input_types = pkg.reachable([p.type for r in (pkg.provider, *pkg.resources) for p in r.inputs]
                                + [p.type for f in pkg.functions for p in f.inputs])
    output_types = pkg.reachable([p.type for r in pkg.resources for p in r.outputs]
                                 + [p.type for f in pkg.functions for p in f.outputs])
    files = {
        "pyproject.toml": _pyproject(pkg, module),
        "README.md": f"# {module}\n\n{pkg.description}\n\nGenerated from `schema.json` by `make sdks`; see the repository README.\n",
        f"{module}/__init__.py": _init(pkg, bool(input_types), bool(output_types)),
        f"{module}/_utilities.py": _utilities(pkg),
        f"{module}/pulumi-plugin.json": json.dumps({"resource": True, "name": pkg.name, "version": pkg.version}, indent=2) + "\n",
        f"{module}/py.typed": "",
        f"{module}/provider.py": _resource_module(pkg, pkg.provider, "Provider", provider=True),
    }
    # Dict spellings only where the runtime can translate their keys: resource
    # inputs, typed by the Args class. Provider inputs travel as JSON and
    # invoke arguments untyped, so there only Args classes are accepted.
    dict_types = {t.token for t in pkg.reachable([p.type for r in pkg.resources for p in r.inputs])}
    if input_types:
        files[f"{module}/_inputs.py"] = _inputs(input_types, dict_types)
    if output_types:
        files[f"{module}/outputs.py"] = _outputs(pkg, output_types)
    for resource in pkg.resources:
        files[f"{module}/{snake_case(resource.name)}.py"] = _resource_module(pkg, resource, resource.name)
    for function in pkg.functions:
        files[f"{module}/{snake_case(function.name)}.py"] = _function_module(pkg, function)
    return files


# -- package files ------------------------------------------------------------------


def _pyproject(pkg: Package, module: str) -> str:
    requires = pkg.python.get("requires", {"pulumi": ">=3.0.0,<4.0.0"})
    deps = [f"{name}{spec}" for name, spec in sorted(requires.items())]
    deps.append('typing-extensions>=4.11,<5; python_version < "3.11"')
    lines = [
        "[project]",
        f'name = "pulumi-{pkg.name}"',
        f"version = {json.dumps(pkg.version)}",
        f"description = {json.dumps(pkg.description)}",
        'readme = "README.md"',
        'requires-python = ">=3.9"',
        f"keywords = {json.dumps(list(pkg.keywords))}",
        f"dependencies = {json.dumps(deps)}",
        f"license = {json.dumps(pkg.license)}",
        "",
        "[project.urls]",
        f"Repository = {json.dumps(pkg.repository)}",
        "",
        "[build-system]",
        'requires = ["setuptools>=77.0"]',  # SPDX `license`
        'build-backend = "setuptools.build_meta"',
        "",
        "[tool.setuptools]",
        f"packages = [{json.dumps(module)}]",
        "",
        "[tool.setuptools.package-data]",
        # Without these the installed package has no plugin metadata and no types.
        f'{module} = ["py.typed", "pulumi-plugin.json"]',
    ]
    return "\n".join(lines) + "\n"


def _init(pkg: Package, has_inputs: bool, has_outputs: bool) -> str:
    out = [header("#"), "# Export this package's modules as members:"]
    modules = ["provider"] + [snake_case(r.name) for r in pkg.resources] + [snake_case(f.name) for f in pkg.functions]
    out += [f"from .{m} import *" for m in sorted(modules)]
    if has_inputs:
        out.append("from ._inputs import *")
    if has_outputs:
        out.append("from . import outputs")
    return "\n".join(out) + "\n"


def _utilities(pkg: Package) -> str:
    invoke = ""
    if pkg.functions:
        invoke = '''

def get_invoke_opts_defaults() -> pulumi.InvokeOptions:
    return pulumi.InvokeOptions(version=get_version())
'''
    return header("#") + f'''
import typing

import pulumi

# The schema's version: resources ask the engine for exactly this plugin.
_VERSION = {json.dumps(pkg.version)}


def get_version() -> str:
    return _VERSION


def get_resource_opts_defaults() -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(version=get_version())
{invoke}

def get_resource_args_opts(resource_args_type, resource_options_type, *args, **kwargs) -> typing.Tuple[typing.Any, typing.Any]:
    """
    Find the Args object and the options among a resource constructor's
    positional and keyword arguments, for the `(name, args, opts)` overload.
    Returns `(None, opts)` for the keyword-argument overload.
    """
    resource_args = None
    if args and isinstance(args[0], resource_args_type):
        resource_args, args = args[0], args[1:]
    elif isinstance(kwargs.get("args"), resource_args_type):
        resource_args = kwargs["args"]
    opts = args[0] if args and isinstance(args[0], resource_options_type) else kwargs.get("opts")
    return resource_args, opts
'''


# -- types ---------------------------------------------------------------------------


def _input_type(t: TypeRef, style: str) -> str:
    """`style`: "args" (Args classes), "dict" (TypedDicts) or "union" (resource keywords)."""
    if isinstance(t, Primitive):
        return f"pulumi.Input[{BUILTINS[t.name]}]"
    if isinstance(t, AnyType):
        return "Any"
    if isinstance(t, ArrayType):
        return f"pulumi.Input[Sequence[{_input_type(t.items, style)}]]"
    if isinstance(t, MapType):
        return f"pulumi.Input[Mapping[str, {_input_type(t.values, style)}]]"
    assert isinstance(t, ObjectRef)
    if style == "args":
        return f"pulumi.Input['{t.name}Args']"
    if style == "dict":
        return f"pulumi.Input['{t.name}ArgsDict']"
    return f"pulumi.Input[Union['{t.name}Args', '{t.name}ArgsDict']]"


def _output_type(t: TypeRef) -> str:
    if isinstance(t, Primitive):
        return BUILTINS[t.name]
    if isinstance(t, AnyType):
        return "Any"
    if isinstance(t, ArrayType):
        return f"Sequence[{_output_type(t.items)}]"
    if isinstance(t, MapType):
        return f"Mapping[str, {_output_type(t.values)}]"
    assert isinstance(t, ObjectRef)
    return f"'outputs.{t.name}'"


def _plain_type(t: TypeRef) -> str:
    """A function argument that must be known when the program calls it."""
    if isinstance(t, ArrayType):
        return f"Sequence[{_plain_type(t.items)}]"
    if isinstance(t, MapType):
        return f"Mapping[str, {_plain_type(t.values)}]"
    if isinstance(t, ObjectRef):
        # Only the Args class: an invoke's arguments carry no type the runtime
        # could translate a dict's snake_case keys with.
        return f"'{t.name}Args'"
    return _output_type(t)


def _optional(text: str, required: bool) -> str:
    return text if required else f"Optional[{text}]"


def _getter(p: Property) -> str:
    name = snake_case(p.name)
    return "@pulumi.getter" if name == p.name else f'@pulumi.getter(name="{p.name}")'


def _ordered(props: tuple[Property, ...]) -> list[Property]:
    """Required parameters first (they have no default), as Pulumi orders them."""
    return [p for p in props if p.required] + [p for p in props if not p.required]


def _params(props: list[Property], style: str, indent: str, all_optional: bool = False) -> list[str]:
    lines = []
    for p in props:
        annotation = _input_type(p.type, style)
        if p.required and not all_optional:
            lines.append(f"{indent}{snake_case(p.name)}: {annotation},")
        else:
            lines.append(f"{indent}{snake_case(p.name)}: Optional[{annotation}] = None,")
    return lines


def _param_docs(props: list[Property], style: str) -> list[str]:
    """`style` as for `_input_type`, or "plain" for invoke arguments."""
    def annotation(t: TypeRef) -> str:
        return _plain_type(t) if style == "plain" else _input_type(t, style)
    return [f":param {annotation(p.type)} {snake_case(p.name)}: {p.description}" for p in props if p.description]


def _with_params(description: str, params: list[str]) -> str:
    """A description, a blank line, then Sphinx `:param` lines."""
    return "\n\n".join(filter(None, [description, "\n".join(params)]))


def _args_class(name: str, props: tuple[Property, ...], doc: str, style: str = "args") -> list[str]:
    """An `@pulumi.input_type` class: keyword-only constructor, getters and setters."""
    ordered = _ordered(props)
    out = ["@pulumi.input_type", f"class {name}:"]
    if ordered:
        params = _params(ordered, style, " " * 17)
        params[-1] = params[-1].rstrip(",") + "):"
        out += ["    def __init__(__self__, *,"] + params
    else:
        out += ["    def __init__(__self__):"]
    out += python_docstring("\n".join(filter(None, [doc, *_param_docs(ordered, style)])), " " * 8)
    for p in ordered:
        name = snake_case(p.name)
        if p.default is not None:
            out += [f"        if {name} is None:", f"            {name} = {python_literal(p.default)}"]
        if p.required:
            out.append(f'        pulumi.set(__self__, "{name}", {name})')
        else:
            out += [f"        if {name} is not None:", f'            pulumi.set(__self__, "{name}", {name})']
    if not ordered:
        out.append("        pass")
    for p in ordered:
        name = snake_case(p.name)
        annotation = _optional(_input_type(p.type, style), p.required)
        out += [
            "",
            "    @_builtins.property",
            f"    {_getter(p)}",
            f"    def {name}(self) -> {annotation}:",
            *python_docstring(p.description, " " * 8),
            f'        return pulumi.get(self, "{name}")',
            "",
            f"    @{name}.setter",
            f"    def {name}(self, value: {annotation}):",
            f'        pulumi.set(self, "{name}", value)',
        ]
    return out


def _typed_dict(obj: ObjectType) -> list[str]:
    """The dict spelling of an input type: `{"cluster_name": ...}` type-checks
    too, and the runtime translates its keys through the Args class."""
    out = [f"class {obj.name}ArgsDict(TypedDict):"]
    out += python_docstring(obj.description, "    ")
    for p in _ordered(obj.properties):
        annotation = _input_type(p.type, "dict")
        out.append(f"    {snake_case(p.name)}: {annotation if p.required else f'NotRequired[{annotation}]'}")
        out += python_docstring(p.description, "    ")
    return out


def _inputs(types: list[ObjectType], dict_types: set[str]) -> str:
    names = [n for t in types for n in (f"{t.name}Args", f"{t.name}ArgsDict") if n.endswith("Args") or t.token in dict_types]
    out = [header("#"), IMPORTS, "__all__ = ["] + [f"    '{n}'," for n in names] + ["]", ""]
    for obj in types:
        if obj.token in dict_types:
            out += [""] + _typed_dict(obj) + [""]
        out += [""] + _args_class(f"{obj.name}Args", obj.properties, obj.description) + [""]
    return "\n".join(out) + "\n"


def _outputs(pkg: Package, types: list[ObjectType]) -> str:
    out = [header("#"), IMPORTS, "from . import outputs", "", "__all__ = ["] + [f"    '{t.name}'," for t in types] + ["]", ""]
    for obj in types:
        out += [""] + _output_class(obj) + [""]
    return "\n".join(out) + "\n"


def _output_class(obj: ObjectType) -> list[str]:
    """An `@pulumi.output_type` dict subclass. Reading it by a wire name
    (`x["clusterName"]`) works but warns, pointing at the getter."""
    renamed = [p for p in obj.properties if snake_case(p.name) != p.name]
    out = ["@pulumi.output_type", f"class {obj.name}(dict):"]
    out += python_docstring(obj.description, "    ")
    if renamed:
        out += ["    @staticmethod", "    def __key_warning(key: str):", "        suggest = None"]
        for i, p in enumerate(renamed):
            out += [f'        {"if" if i == 0 else "elif"} key == "{p.name}":', f'            suggest = "{snake_case(p.name)}"']
        out += [
            "",
            "        if suggest:",
            f"            pulumi.log.warn(f\"Key '{{key}}' not found in {obj.name}. Access the value via the '{{suggest}}' property getter instead.\")",
            "",
            "    def __getitem__(self, key: str) -> Any:",
            f"        {obj.name}.__key_warning(key)",
            "        return super().__getitem__(key)",
            "",
            "    def get(self, key: str, default = None) -> Any:",
            f"        {obj.name}.__key_warning(key)",
            "        return super().get(key, default)",
            "",
        ]
    ordered = _ordered(obj.properties)
    params = [f"                 {snake_case(p.name)}: {_optional(_output_type(p.type), p.required)}" + ("" if p.required else " = None") + ","
              for p in ordered]
    params[-1] = params[-1].rstrip(",") + "):"
    out += ["    def __init__(__self__, *,"] + params
    for p in ordered:
        name = snake_case(p.name)
        if p.default is not None:
            out += [f"        if {name} is None:", f"            {name} = {python_literal(p.default)}"]
        if p.required:
            out.append(f'        pulumi.set(__self__, "{name}", {name})')
        else:
            out += [f"        if {name} is not None:", f'            pulumi.set(__self__, "{name}", {name})']
    for p in ordered:
        out += [
            "",
            "    @_builtins.property",
            f"    {_getter(p)}",
            f"    def {snake_case(p.name)}(self) -> {_optional(_output_type(p.type), p.required)}:",
            *python_docstring(p.description, " " * 8),
            f'        return pulumi.get(self, "{snake_case(p.name)}")',
        ]
    return out


# -- resources -----------------------------------------------------------------------


def _uses_objects(props) -> bool:
    return any(object_refs(p.type) for p in props)


def _resource_module(pkg: Package, res: Resource, class_name: str, provider: bool = False) -> str:
    args_name = f"{class_name}Args"
    imports = [header("#"), IMPORTS]
    if _uses_objects(res.outputs) and not provider:
        imports.append("from . import outputs")
    if _uses_objects(res.inputs):
        imports.append("from ._inputs import *")
    out = imports + ["", f"__all__ = ['{args_name}', '{class_name}']", "", ""]
    out += _args_class(args_name, res.inputs, f"The set of arguments for constructing a {class_name} resource.")
    out += ["", ""] + _resource_class(res, class_name, args_name, provider)
    return "\n".join(out) + "\n"


def _resource_class(res: Resource, class_name: str, args_name: str, provider: bool) -> list[str]:
    base = "pulumi.ProviderResource" if provider else "pulumi.CustomResource"
    inputs = _ordered(res.inputs)
    # Keyword parameters are all optional at the type level, as in Pulumi's
    # SDKs: the required ones are checked at run time (get() passes none).
    style = "args" if provider else "union"
    keyword_params = _params(inputs, style, " " * 17, all_optional=True)
    doc_params = [":param str resource_name: The name of the resource.",
                  ":param pulumi.ResourceOptions opts: Options for the resource."]
    out = [f"class {class_name}({base}):", ""]
    out += [
        "    @overload",
        "    def __init__(__self__,",
        "                 resource_name: str,",
        "                 opts: Optional[pulumi.ResourceOptions] = None,",
        *keyword_params,
        "                 __props__=None):",
        *python_docstring(_with_params(res.description, [*doc_params, *_param_docs(inputs, style)]), " " * 8),
        "        ...",
        "    @overload",
        "    def __init__(__self__,",
        "                 resource_name: str,",
        f"                 args: Optional[{args_name}] = None,",
        "                 opts: Optional[pulumi.ResourceOptions] = None):",
        *python_docstring(_with_params(res.description, [
            ":param str resource_name: The name of the resource.",
            f":param {args_name} args: The arguments to use to populate this resource's properties.",
            ":param pulumi.ResourceOptions opts: Options for the resource.",
        ]), " " * 8),
        "        ...",
        "    def __init__(__self__, resource_name: str, *args, **kwargs):",
        f"        resource_args, opts = _utilities.get_resource_args_opts({args_name}, pulumi.ResourceOptions, *args, **kwargs)",
        "        if resource_args is not None:",
        "            __self__._internal_init(resource_name, opts, **resource_args.__dict__)",
        "        else:",
        "            __self__._internal_init(resource_name, *args, **kwargs)",
        "",
        "    def _internal_init(__self__,",
        "                 resource_name: str,",
        "                 opts: Optional[pulumi.ResourceOptions] = None,",
        *keyword_params,
        "                 __props__=None):",
        "        opts = pulumi.ResourceOptions.merge(_utilities.get_resource_opts_defaults(), opts)",
        "        if not isinstance(opts, pulumi.ResourceOptions):",
        "            raise TypeError('Expected resource options to be a ResourceOptions instance')",
        "        if opts.id is None:",
        "            if __props__ is not None:",
        "                raise TypeError('__props__ is only valid when passed in combination with a valid opts.id to get an existing resource')",
        f"            __props__ = {args_name}.__new__({args_name})",
        "",
    ]
    for p in inputs:
        out += _prop_assignment(p, provider)
    input_names = {p.name for p in res.inputs}
    out += [f'            __props__.__dict__["{snake_case(p.name)}"] = None' for p in res.outputs if p.name not in input_names]
    secret_outputs = res.secret_outputs
    if secret_outputs:
        out += [
            # The engine stores these as secrets whatever the provider returns.
            f"        secret_opts = pulumi.ResourceOptions(additional_secret_outputs={json.dumps(secret_outputs)})",
            "        opts = pulumi.ResourceOptions.merge(opts, secret_opts)",
        ]
    type_arg = f"'{res.token.rsplit(':', 1)[-1]}'" if provider else f"'{res.token}'"
    out += [
        f"        super({class_name}, __self__).__init__(",
        f"            {type_arg},",
        "            resource_name,",
        "            __props__,",
        "            opts)",
    ]
    if not provider:
        out += ["", *_get_method(res, class_name, args_name)]
    for p in res.outputs:
        out += [
            "",
            "    @_builtins.property",
            f"    {_getter(p)}",
            f"    def {snake_case(p.name)}(self) -> pulumi.Output[{_optional(_output_type(p.type), p.required)}]:",
            *python_docstring(p.description, " " * 8),
            f'        return pulumi.get(self, "{snake_case(p.name)}")',
        ]
    return out


def _prop_assignment(p: Property, provider: bool) -> list[str]:
    name = snake_case(p.name)
    out = []
    if p.default is not None:
        out += [f"            if {name} is None:", f"                {name} = {python_literal(p.default)}"]
    if p.required:
        out += [f"            if {name} is None and not opts.urn:", f"                raise TypeError(\"Missing required property '{name}'\")"]
    if provider and not (isinstance(p.type, Primitive) and p.type.name == "string"):
        # The engine hands provider configuration to the plugin as strings, so
        # Pulumi's SDKs send every non-string provider input as JSON.
        value = f"pulumi.Output.from_input({name}).apply(pulumi.runtime.to_json) if {name} is not None else None"
    elif p.secret:
        value = f"None if {name} is None else pulumi.Output.secret({name})"
    else:
        value = name
    out.append(f'            __props__.__dict__["{name}"] = {value}')
    return out


def _get_method(res: Resource, class_name: str, args_name: str) -> list[str]:
    return [
        "    @staticmethod",
        "    def get(resource_name: str,",
        "            id: pulumi.Input[str],",
        f"            opts: Optional[pulumi.ResourceOptions] = None) -> '{class_name}':",
        *python_docstring(
            f"Get an existing {class_name} resource's state with the given name and id (the IAM role name).\n\n"
            ":param str resource_name: The unique name of the resulting resource.\n"
            ":param pulumi.Input[str] id: The unique provider ID of the resource to lookup.\n"
            ":param pulumi.ResourceOptions opts: Options for the resource.",
            " " * 8,
        ),
        "        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id))",
        "",
        f"        __props__ = {args_name}.__new__({args_name})",
        "",
        *[f'        __props__.__dict__["{snake_case(p.name)}"] = None' for p in res.outputs],
        f"        return {class_name}(resource_name, opts=opts, __props__=__props__)",
    ]


# -- functions -----------------------------------------------------------------------


def _function_module(pkg: Package, fn: Function) -> str:
    py_name = snake_case(fn.name)
    result = f"{fn.name[:1].upper()}{fn.name[1:]}Result"
    imports = [header("#"), IMPORTS]
    if _uses_objects(fn.outputs):
        imports.append("from . import outputs")
    if _uses_objects(fn.inputs):
        imports.append("from ._inputs import *")
    out = imports + ["", f"__all__ = [", f"    '{result}',", f"    'Awaitable{result}',", f"    '{py_name}',",
                     f"    '{py_name}_output',", "]", "", ""]
    ordered = _ordered(fn.outputs)
    out += ["@pulumi.output_type", f"class {result}:"]
    out += python_docstring(f"A collection of values returned by {fn.name}.", "    ")
    params = [f"{snake_case(p.name)}=None" for p in ordered]
    out.append(f"    def __init__(__self__, {', '.join(params)}):")
    for p in ordered:
        out.append(f'        pulumi.set(__self__, "{snake_case(p.name)}", {snake_case(p.name)})')
    for p in ordered:
        out += [
            "",
            "    @_builtins.property",
            f"    {_getter(p)}",
            f"    def {snake_case(p.name)}(self) -> {_optional(_output_type(p.type), p.required)}:",
            *python_docstring(p.description, " " * 8),
            f'        return pulumi.get(self, "{snake_case(p.name)}")',
        ]
    copy_args = ", ".join(f"{snake_case(p.name)}=self.{snake_case(p.name)}" for p in ordered)
    out += [
        "",
        "",
        f"class Awaitable{result}({result}):",
        "    # pylint: disable=using-constant-test",
        "    def __await__(self):",
        "        if False:",
        "            yield self",
        f"        return {result}({copy_args})",
        "",
        "",
    ]
    inputs = _ordered(fn.inputs)
    from_response = ", ".join(f"{snake_case(p.name)}=pulumi.get(__ret__, '{snake_case(p.name)}')" for p in ordered)
    plain_doc = _with_params(fn.description, _param_docs(inputs, "plain"))
    output_doc = _with_params(fn.description, _param_docs(inputs, "args"))
    args_lines = [f"    __args__['{p.name}'] = {snake_case(p.name)}" for p in inputs]
    plain_params = [f"{snake_case(p.name)}: Optional[{_plain_type(p.type)}] = None," for p in inputs]
    out += [f"def {py_name}("] + [f"        {line}" for line in plain_params] + [
        f"        opts: Optional[pulumi.InvokeOptions] = None) -> Awaitable{result}:",
        *python_docstring(plain_doc, "    "),
        "    __args__: dict[str, Any] = dict()",
        *args_lines,
        "    opts = pulumi.InvokeOptions.merge(_utilities.get_invoke_opts_defaults(), opts)",
        f"    __ret__ = pulumi.runtime.invoke('{fn.token}', __args__, opts=opts, typ={result}).value",
        "",
        f"    return Awaitable{result}({from_response})",
        "",
        "",
    ]
    output_params = [f"{snake_case(p.name)}: Optional[{_input_type(p.type, 'args')}] = None," for p in inputs]
    out += [f"def {py_name}_output("] + [f"        {line}" for line in output_params] + [
        f"        opts: Optional[Union[pulumi.InvokeOptions, pulumi.InvokeOutputOptions]] = None) -> pulumi.Output[{result}]:",
        *python_docstring(output_doc, "    "),
        "    __args__: dict[str, Any] = dict()",
        *args_lines,
        "    opts = pulumi.InvokeOutputOptions.merge(_utilities.get_invoke_opts_defaults(), opts)",
        f"    __ret__ = pulumi.runtime.invoke_output('{fn.token}', __args__, opts=opts, typ={result})",
        f"    return __ret__.apply(lambda __response__: {result}({from_response.replace('__ret__', '__response__')}))",
    ]
    return "\n".join(out) + "\n"
