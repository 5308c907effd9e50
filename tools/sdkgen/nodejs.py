"""The Node.js SDK (`@xpander-ai/pulumi-xpander`), shaped like the SDKs
`pulumi package gen-sdk --language nodejs` writes: a `pulumi.CustomResource`
class per resource with `__pulumiType`, `get`, `isInstance` and declared
outputs, `...Args` interfaces, `types/input.ts` / `types/output.ts`, one
module per function, and a `Provider`. TypeScript sources; `bin/` is their
compiled form (see `__main__.py`).
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
    lower_camel,
    object_refs,
)
from .text import header, ts_literal, tsdoc

PRIMITIVES = {"string": "string", "integer": "number", "number": "number", "boolean": "boolean"}

# Compiler and typings the SDK is built with; the lock file pins exact versions.
DEV_DEPENDENCIES = {"@types/node": "^20.0.0", "typescript": "~5.9.3"}


def generate(pkg: Package) -> dict[str, str]:
    resource_inputs = [p.type for r in (pkg.provider, *pkg.resources) for p in r.inputs]
    function_inputs = [p.type for f in pkg.functions for p in f.inputs]
    args_types = pkg.reachable(resource_inputs + function_inputs)
    plain_types = pkg.reachable(function_inputs)
    output_types = pkg.reachable([p.type for r in pkg.resources for p in r.outputs] + [p.type for f in pkg.functions for p in f.outputs])
    modules = ["provider"] + [lower_camel(r.name) for r in pkg.resources] + [lower_camel(f.name) for f in pkg.functions]
    files = {
        "package.json": _package_json(pkg),
        "tsconfig.json": _tsconfig(sorted(modules)),
        "README.md": f"# {pkg.nodejs.get('packageName', pkg.name)}\n\n{pkg.description}\n\nGenerated from `schema.json` by `make sdks`; see the repository README.\n",
        "index.ts": _index(sorted(modules)),
        "utilities.ts": _utilities(pkg),
        "provider.ts": _resource_module(pkg, pkg.provider, "Provider", provider=True),
        "types/index.ts": header("//") + '\nimport * as input from "./input";\nimport * as output from "./output";\n\nexport {\n    input,\n    output,\n};\n',
        "types/input.ts": _input_module(pkg, args_types, plain_types),
        "types/output.ts": _output_module(output_types),
    }
    for resource in pkg.resources:
        files[f"{lower_camel(resource.name)}.ts"] = _resource_module(pkg, resource, resource.name)
    for function in pkg.functions:
        files[f"{lower_camel(function.name)}.ts"] = _function_module(function)
    return files


# -- package files ------------------------------------------------------------------


def _package_json(pkg: Package) -> str:
    manifest = {
        "name": pkg.nodejs.get("packageName", f"@pulumi/{pkg.name}"),
        "version": pkg.version,
        "description": pkg.nodejs.get("packageDescription", pkg.description),
        "keywords": list(pkg.keywords),
        "repository": pkg.repository,
        "license": pkg.license,
        # The compiled SDK is committed, so installing the folder needs no build step.
        "main": "bin/index.js",
        "types": "bin/index.d.ts",
        "files": ["bin/", "README.md"],
        "scripts": {"build": "tsc"},
        "dependencies": dict(sorted(pkg.nodejs.get("dependencies", {"@pulumi/pulumi": "^3.0.0"}).items())),
        "devDependencies": DEV_DEPENDENCIES,
        "pulumi": {"resource": True, "name": pkg.name, "version": pkg.version},
    }
    return json.dumps(manifest, indent=4) + "\n"


def _tsconfig(modules: list[str]) -> str:
    config = {
        "compilerOptions": {
            "outDir": "bin",
            "target": "es2016",
            "module": "commonjs",
            "moduleResolution": "node",
            "declaration": True,
            "sourceMap": True,
            "stripInternal": True,
            "noFallthroughCasesInSwitch": True,
            "forceConsistentCasingInFileNames": True,
            "strict": True,
        },
        "files": ["index.ts", "utilities.ts", *[f"{m}.ts" for m in modules], "types/index.ts", "types/input.ts", "types/output.ts"],
    }
    return json.dumps(config, indent=4) + "\n"


def _index(modules: list[str]) -> str:
    out = [header("//"), "// Export members:"]
    out += [f'export * from "./{m}";' for m in modules]
    out += ["", "// Export sub-modules:", 'import * as types from "./types";', "", "export {", "    types,", "};"]
    return "\n".join(out) + "\n"


def _utilities(pkg: Package) -> str:
    return header("//") + f"""
/** The schema's version: resources and invokes ask the engine for exactly this plugin. */
const version = {json.dumps(pkg.version)};

export function getVersion(): string {{
    return version;
}}

/** @internal */
export function resourceOptsDefaults(): any {{
    return {{ version: getVersion() }};
}}
"""


# -- types ---------------------------------------------------------------------------


def _input(t: TypeRef) -> str:
    if isinstance(t, Primitive):
        return f"pulumi.Input<{PRIMITIVES[t.name]}>"
    if isinstance(t, AnyType):
        return "any"
    if isinstance(t, ArrayType):
        return f"pulumi.Input<{_input(t.items)}[]>"
    if isinstance(t, MapType):
        return f"pulumi.Input<{{[key: string]: {_input(t.values)}}}>"
    assert isinstance(t, ObjectRef)
    return f"pulumi.Input<inputs.{t.name}Args>"


def _plain(t: TypeRef, namespace: str) -> str:
    """A plain (already known) value; objects from `namespace` (`inputs` or `outputs`)."""
    if isinstance(t, Primitive):
        return PRIMITIVES[t.name]
    if isinstance(t, AnyType):
        return "any"
    if isinstance(t, ArrayType):
        return f"{_plain(t.items, namespace)}[]"
    if isinstance(t, MapType):
        return f"{{[key: string]: {_plain(t.values, namespace)}}}"
    assert isinstance(t, ObjectRef)
    return f"{namespace}.{t.name}"


def _member(p: Property, type_text: str, indent: str, readonly: bool = False) -> list[str]:
    optional = "" if p.required else "?"
    return [*tsdoc(p.description, indent), f"{indent}{'readonly ' if readonly else ''}{p.name}{optional}: {type_text};"]


def _has_defaults(pkg: Package, obj: ObjectType, seen: frozenset[str] = frozenset()) -> bool:
    """Whether filling defaults changes a value of this type (here or nested)."""
    if obj.token in seen:
        return False
    return any(
        p.default is not None or any(_has_defaults(pkg, pkg.object_type(r), seen | {obj.token}) for r in object_refs(p.type))
        for p in obj.properties
    )


def _defaults_fn(obj: ObjectType) -> str:
    return f"{lower_camel(obj.name)}ArgsProvideDefaults"


def _input_module(pkg: Package, args_types: list[ObjectType], plain_types: list[ObjectType]) -> str:
    out = [header("//"), 'import * as pulumi from "@pulumi/pulumi";', 'import * as inputs from "../types/input";', ""]
    for obj in plain_types:
        out += [*tsdoc(obj.description, ""), f"export interface {obj.name} {{"]
        for p in obj.properties:
            out += _member(p, _plain(p.type, "inputs"), "    ")
        out += ["}", ""]
    for obj in args_types:
        out += [*tsdoc(obj.description, ""), f"export interface {obj.name}Args {{"]
        for p in obj.properties:
            out += _member(p, _input(p.type), "    ")
        out += ["}", ""]
        if _has_defaults(pkg, obj):
            out += _defaults_function(pkg, obj) + [""]
    return "\n".join(out).rstrip("\n") + "\n"


def _defaults_function(pkg: Package, obj: ObjectType) -> list[str]:
    """Fill the schema's defaults on the SDK side, as Pulumi's SDKs do, so a
    program's inputs read the same as the provider's checked inputs."""
    name = f"{obj.name}Args"
    out = [f"/**", f" * {_defaults_fn(obj)} sets the appropriate defaults for {name}", " */",
           f"export function {_defaults_fn(obj)}(val: {name}): {name} {{", "    return {", "        ...val,"]
    for p in obj.properties:
        nested = [r for r in object_refs(p.type) if _has_defaults(pkg, pkg.object_type(r))]
        if p.default is not None:
            out.append(f"        {p.name}: (val.{p.name}) ?? {ts_literal(p.default)},")
        elif nested and isinstance(p.type, ObjectRef):
            fn = _defaults_fn(pkg.object_type(p.type))
            out.append(f"        {p.name}: (val.{p.name} ? pulumi.output(val.{p.name}).apply(inputs.{fn}) : undefined),")
    return out + ["    };", "}"]


def _output_module(types: list[ObjectType]) -> str:
    out = [header("//"), 'import * as outputs from "../types/output";', ""]
    for obj in types:
        out += [*tsdoc(obj.description, ""), f"export interface {obj.name} {{"]
        for p in obj.properties:
            out += _member(p, _plain(p.type, "outputs"), "    ")
        out += ["}", ""]
    return "\n".join(out).rstrip("\n") + "\n"


# -- resources -----------------------------------------------------------------------


def _resource_module(pkg: Package, res: Resource, class_name: str, provider: bool = False) -> str:
    out = [header("//"), 'import * as pulumi from "@pulumi/pulumi";']
    if any(object_refs(p.type) for p in res.inputs):
        out.append('import * as inputs from "./types/input";')
    if not provider and any(object_refs(p.type) for p in res.outputs):
        out.append('import * as outputs from "./types/output";')
    out += ['import * as utilities from "./utilities";', ""]
    out += _resource_class(pkg, res, class_name, provider)
    out += ["", *tsdoc(f"The set of arguments for constructing a {class_name} resource.", ""), f"export interface {class_name}Args {{"]
    for p in res.inputs:
        out += _member(p, _input(p.type), "    ")
    out.append("}")
    return "\n".join(out) + "\n"


def _resource_class(pkg: Package, res: Resource, class_name: str, provider: bool) -> list[str]:
    base = "pulumi.ProviderResource" if provider else "pulumi.CustomResource"
    token = res.token.rsplit(":", 1)[-1] if provider else res.token
    type_check = f'"pulumi:providers:" + {class_name}.__pulumiType' if provider else f"{class_name}.__pulumiType"
    out = [*tsdoc(res.description, ""), f"export class {class_name} extends {base} {{"]
    if not provider:
        out += [
            *tsdoc(f"Get an existing {class_name} resource's state with the given name and ID (the IAM role name).\n\n"
                   "@param name The _unique_ name of the resulting resource.\n"
                   "@param id The _unique_ provider ID of the resource to lookup.\n"
                   "@param opts Optional settings to control the behavior of the CustomResource.", "    "),
            f"    public static get(name: string, id: pulumi.Input<pulumi.ID>, opts?: pulumi.CustomResourceOptions): {class_name} {{",
            f"        return new {class_name}(name, undefined as any, {{ ...opts, id: id }});",
            "    }",
            "",
        ]
    out += [
        "    /** @internal */",
        f"    public static readonly __pulumiType = '{token}';",
        "",
        *tsdoc(f"Returns true if the given object is an instance of {class_name}.  This is designed to work even\n"
               "when multiple copies of the Pulumi SDK have been loaded into the same process.", "    "),
        f"    public static isInstance(obj: any): obj is {class_name} {{",
        "        if (obj === undefined || obj === null) {",
        "            return false;",
        "        }",
        f"        return obj['__pulumiType'] === {type_check};",
        "    }",
        "",
    ]
    for p in res.outputs:
        type_text = _plain(p.type, "outputs") + ("" if p.required else " | undefined")
        out += [*tsdoc(p.description, "    "), f"    declare public readonly {p.name}: pulumi.Output<{type_text}>;"]
    required = [p for p in res.inputs if p.required]
    args_param = f"args: {class_name}Args" if required else f"args?: {class_name}Args"
    opts_type = "pulumi.ResourceOptions" if provider else "pulumi.CustomResourceOptions"
    out += [
        "",
        *tsdoc(f"Create a {class_name} resource with the given unique name, arguments, and options.\n\n"
               "@param name The _unique_ name of the resource.\n"
               "@param args The arguments to use to populate this resource's properties.\n"
               "@param opts A bag of options that control this resource's behavior.", "    "),
        f"    constructor(name: string, {args_param}, opts?: {opts_type}) {{",
        "        let resourceInputs: pulumi.Inputs = {};",
        "        opts = opts || {};",
    ]
    input_names = {p.name for p in res.inputs}
    if provider:
        out.append("        {")
        out += [_provider_input(p) for p in res.inputs]
        out.append("        }")
    else:
        out.append("        if (!opts.id) {")
        for p in required:
            out += [
                f"            if ((!args || args.{p.name} === undefined) && !opts.urn) {{",
                f"                throw new Error(\"Missing required property '{p.name}'\");",
                "            }",
            ]
        out += [_resource_input(pkg, p) for p in res.inputs]
        out += [f'            resourceInputs["{p.name}"] = undefined /*out*/;' for p in res.outputs if p.name not in input_names]
        out.append("        } else {")
        out += [f'            resourceInputs["{p.name}"] = undefined /*out*/;' for p in res.outputs]
        out.append("        }")
    out.append("        opts = pulumi.mergeOptions(utilities.resourceOptsDefaults(), opts);")
    if res.secret_outputs:
        out += [
            # The engine stores these as secrets whatever the provider returns.
            f"        const secretOpts = {{ additionalSecretOutputs: {json.dumps(res.secret_outputs)} }};",
            "        opts = pulumi.mergeOptions(opts, secretOpts);",
        ]
    out += [f"        super({class_name}.__pulumiType, name, resourceInputs, opts);", "    }", "}"]
    return out


def _resource_input(pkg: Package, p: Property) -> str:
    target = f'            resourceInputs["{p.name}"]'
    if p.secret:
        return f"{target} = args?.{p.name} ? pulumi.secret(args.{p.name}) : undefined;"
    if p.default is not None:
        return f"{target} = (args ? args.{p.name} : undefined) ?? {ts_literal(p.default)};"
    if isinstance(p.type, ObjectRef) and _has_defaults(pkg, pkg.object_type(p.type)):
        fn = _defaults_fn(pkg.object_type(p.type))
        return f"{target} = args ? (args.{p.name} ? pulumi.output(args.{p.name}).apply(inputs.{fn}) : undefined) : undefined;"
    return f"{target} = args ? args.{p.name} : undefined;"


def _provider_input(p: Property) -> str:
    target = f'            resourceInputs["{p.name}"]'
    if isinstance(p.type, Primitive) and p.type.name == "string":
        return f"{target} = args ? args.{p.name} : undefined;"
    # The engine hands provider configuration to the plugin as strings, so
    # Pulumi's SDKs send every non-string provider input as JSON.
    return f"{target} = pulumi.output(args ? args.{p.name} : undefined).apply(JSON.stringify);"


# -- functions -----------------------------------------------------------------------


def _function_module(fn: Function) -> str:
    name = lower_camel(fn.name)
    title = fn.name[:1].upper() + fn.name[1:]
    out = [header("//"), 'import * as pulumi from "@pulumi/pulumi";']
    if any(object_refs(p.type) for p in fn.inputs):
        out.append('import * as inputs from "./types/input";')
    if any(object_refs(p.type) for p in fn.outputs):
        out.append('import * as outputs from "./types/output";')
    out += ['import * as utilities from "./utilities";', ""]
    call_args = ["        " + f'"{p.name}": args.{p.name},' for p in fn.inputs]
    args_optional = "" if any(p.required for p in fn.inputs) else "?"
    args_ref = "args" if args_optional == "" else "args = args || {}"
    out += [
        *tsdoc(fn.description, ""),
        f"export function {name}(args{args_optional}: {title}Args, opts?: pulumi.InvokeOptions): Promise<{title}Result> {{",
        *([f"    {args_ref};"] if args_optional else []),
        "    opts = pulumi.mergeOptions(utilities.resourceOptsDefaults(), opts || {});",
        f'    return pulumi.runtime.invoke("{fn.token}", {{',
        *call_args,
        "    }, opts);",
        "}",
        "",
        f"export interface {title}Args {{",
    ]
    for p in fn.inputs:
        out += _member(p, _plain(p.type, "inputs"), "    ")
    out += ["}", "", *tsdoc(f"A collection of values returned by {name}.", ""), f"export interface {title}Result {{"]
    for p in fn.outputs:
        out += _member(p, _plain(p.type, "outputs"), "    ", readonly=True)
    out += [
        "}",
        "",
        *tsdoc(fn.description, ""),
        f"export function {name}Output(args{args_optional}: {title}OutputArgs, opts?: pulumi.InvokeOutputOptions): pulumi.Output<{title}Result> {{",
        *([f"    {args_ref};"] if args_optional else []),
        "    opts = pulumi.mergeOptions(utilities.resourceOptsDefaults(), opts || {});",
        f'    return pulumi.runtime.invokeOutput("{fn.token}", {{',
        *call_args,
        "    }, opts);",
        "}",
        "",
        f"export interface {title}OutputArgs {{",
    ]
    for p in fn.inputs:
        out += _member(p, _input(p.type), "    ")
    out.append("}")
    return "\n".join(out) + "\n"
