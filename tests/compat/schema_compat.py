"""Does schema.json's version tell the truth about what changed since the last release?

Compares schema.json with the schema of the newest release kept under
`releases/v<version>/schema.json` (a committed copy: a fresh clone may have no
tags) and sorts every difference into one of three levels:

- breaking: a program that worked against the release may fail or deploy
  something else (a removed resource, function, type, input or output, a
  changed type or default, a newly required input, an output that may now be
  absent, a property that now replaces or became secret, a renamed package);
- feature: something new that no existing program notices (an added resource,
  function, type, optional input or output, a deprecation), or a raised
  requirement on what an SDK depends on;
- patch: anything else in the schema (descriptions, metadata).

Semver then says how far the version must have moved: at 0.x a breaking
change moves the minor and anything else at least the patch; from 1.0 a
breaking change moves the major, a feature the minor. CHANGELOG.md must have
a section for the version. Exit code 0 when the version is enough, 1 when not.

    python tests/compat/schema_compat.py [--schema schema.json] [--releases releases] [--changelog CHANGELOG.md]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from functools import total_ordering
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LEVELS = ("patch", "feature", "breaking")
# Language settings that name the package a program imports: changing one
# breaks every import of the SDK in that language.
IDENTITY_KEYS = {
    "nodejs": ("packageName",),
    "python": ("packageName",),
    "go": ("importBasePath", "rootPackageName", "modulePath"),
    "csharp": ("rootNamespace",),
    "java": ("basePackage",),
}
# Language settings that say what an SDK needs installed beside it.
DEPENDENCY_KEYS = ("dependencies", "requires", "pythonRequires", "pulumiSDKVersion", "typescriptVersion")
# How a property is used: programs write inputs and read outputs; function
# arguments are inputs the Go SDK takes as plain values, where an optional one
# is a pointer and a required one is not.
INPUT, OUTPUT, PLAIN = "input", "output", "plain"


@total_ordering
@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    pre: tuple = ()

    _RE = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")

    @classmethod
    def parse(cls, text: str) -> "Version":
        match = cls._RE.match(text.strip())
        if not match:
            raise ValueError(f"{text!r} is not a semantic version")
        pre = tuple(int(p) if p.isdigit() else p for p in match.group(4).split(".")) if match.group(4) else ()
        return cls(int(match.group(1)), int(match.group(2)), int(match.group(3)), pre)

    def _key(self):
        # A pre-release sorts before its release; numeric identifiers before words.
        pre = tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in self.pre)
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, pre)

    def __lt__(self, other: "Version") -> bool:
        return self._key() < other._key()

    def __str__(self) -> str:
        core = f"{self.major}.{self.minor}.{self.patch}"
        return core + ("-" + ".".join(str(p) for p in self.pre) if self.pre else "")

    def release(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)


def least_version(baseline: Version, level: str | None) -> Version:
    """The smallest version a release with changes of `level` since `baseline` may carry."""
    if level is None:
        return baseline
    major, minor, patch = baseline.release()
    if level == "breaking":
        return Version(major + 1, 0, 0) if major >= 1 else Version(0, minor + 1, 0)
    if level == "feature" and major >= 1:
        return Version(major, minor + 1, 0)
    return Version(major, minor, patch + 1)


def enough(version: Version, baseline: Version, level: str | None) -> bool:
    if version < baseline:
        return False
    # 0.2.0-rc.1 is enough for changes that need 0.2.0: the numbers carry the promise.
    return level is None or version.release() >= least_version(baseline, level).release()


@dataclass(frozen=True)
class Change:
    level: str
    rule: str
    where: str  # the property as a user spells it: XpanderConnectorRole.s3.readOnly
    location: str  # where it is in schema.json
    detail: str = ""


def short(token: str) -> str:
    return token.rsplit(":", 1)[-1]


def signature(prop: dict) -> str:
    """A property's type, without prose: `string`, `array<string>`, `map<S3>`."""
    if "$ref" in prop:
        ref = prop["$ref"]
        if ref == "pulumi.json#/Any":
            return "any"
        return short(ref.rsplit("/", 1)[-1]) if ref.startswith("#/types/") else ref
    if "oneOf" in prop:
        return "oneOf<" + ", ".join(signature(p) for p in prop["oneOf"]) + ">"
    kind = prop.get("type", "?")
    if kind == "array":
        return f"array<{signature(prop.get('items', {}))}>"
    if kind == "object" and "additionalProperties" in prop:
        return f"map<{signature(prop['additionalProperties'])}>"
    return kind


def refs(prop: dict):
    if not isinstance(prop, dict):
        return
    ref = prop.get("$ref", "")
    if ref.startswith("#/types/"):
        yield ref[len("#/types/"):]
    for key in ("items", "additionalProperties"):
        if key in prop:
            yield from refs(prop[key])
    for option in prop.get("oneOf", []):
        yield from refs(option)


class Usage:
    """Which types are read as inputs, which as outputs, and the first place a
    user meets each (so a change deep in a type is reported where it is felt)."""

    def __init__(self, *schemas: dict):
        self.contexts: dict[str, set[str]] = {}
        self.first: dict[str, str] = {}
        for schema in schemas:
            self._walk(schema)

    def _walk(self, schema: dict) -> None:
        types = schema.get("types", {})
        # Per schema: a type may refer to others in one version and not in the other.
        visited: set[tuple[str, str]] = set()

        def visit(prop: dict, ctx: str, label: str) -> None:
            for token in refs(prop):
                self.first.setdefault(token, label)
                self.contexts.setdefault(token, set()).add(ctx)
                if (token, ctx) in visited:
                    continue
                visited.add((token, ctx))
                for name, sub in types.get(token, {}).get("properties", {}).items():
                    visit(sub, ctx, f"{label}.{name}")

        for token, res in schema.get("resources", {}).items():
            for name, prop in res.get("inputProperties", {}).items():
                visit(prop, INPUT, f"{short(token)}.{name}")
            for name, prop in res.get("properties", {}).items():
                visit(prop, OUTPUT, f"{short(token)}.{name}")
        provider = schema.get("provider", {})
        for name, prop in provider.get("inputProperties", {}).items():
            visit(prop, INPUT, f"Provider.{name}")
        for name, prop in provider.get("properties", {}).items():
            visit(prop, OUTPUT, f"Provider.{name}")
        for token, fn in schema.get("functions", {}).items():
            for name, prop in fn.get("inputs", {}).get("properties", {}).items():
                visit(prop, PLAIN, f"{short(token)}().{name}")
            outputs = fn.get("outputs", {})
            for name, prop in outputs.get("properties", {}).items():
                visit(prop, OUTPUT, f"{short(token)}().{name}")
            if "properties" not in outputs:
                visit(outputs, OUTPUT, f"{short(token)}()")
        for name, prop in schema.get("config", {}).get("variables", {}).items():
            visit(prop, INPUT, f"config {schema.get('name', '')}:{name}")

    def of(self, token: str) -> set[str]:
        # A type nothing refers to is still public API in every SDK: judge it every way.
        return self.contexts.get(token) or {INPUT, OUTPUT, PLAIN}


def _show(value) -> str:
    return "none" if value is _ABSENT else json.dumps(value, sort_keys=True)


_ABSENT = object()


class Comparison:
    def __init__(self, old: dict, new: dict):
        self.old, self.new = old, new
        self.usage = Usage(old, new)
        self.changes: list[Change] = []

    def add(self, level: str, rule: str, where: str, location: str, detail: str = "") -> None:
        self.changes.append(Change(level, rule, where, location, detail))

    # --- one property ------------------------------------------------------------

    def property(self, old: dict, new: dict, where: str, location: str) -> None:
        same_shape = signature(old) == signature(new)
        if not same_shape:
            self.add("breaking", "type-changed", where, location, f"{signature(old)} -> {signature(new)}")
        for key in ("default", "defaultInfo"):
            before, after = old.get(key, _ABSENT), new.get(key, _ABSENT)
            if before != after:
                self.add("breaking", "default-changed", where, location, f"{key} {_show(before)} -> {_show(after)}")
        for key, on, off in (
            ("willReplaceOnChanges", ("breaking", "now-replaces"), ("feature", "no-longer-replaces")),
            ("secret", ("breaking", "now-secret"), ("breaking", "no-longer-secret")),
        ):
            before, after = bool(old.get(key)), bool(new.get(key))
            if before != after:
                self.add(*(on if after else off), where, location)
        for key in ("const", "plain"):
            before, after = old.get(key, _ABSENT), new.get(key, _ABSENT)
            if before != after:
                self.add("breaking", f"{key}-changed", where, location, f"{_show(before)} -> {_show(after)}")
        if "deprecationMessage" in new and "deprecationMessage" not in old:
            self.add("feature", "deprecated", where, location)
        judged = {"type", "$ref", "default", "defaultInfo", "willReplaceOnChanges", "secret", "const", "plain"}
        if not same_shape:
            judged |= {"items", "additionalProperties", "oneOf"}
        if "deprecationMessage" not in old:
            judged.add("deprecationMessage")
        for key in sorted((set(old) | set(new)) - judged):
            if old.get(key, _ABSENT) != new.get(key, _ABSENT):
                # Same shape, so a nested difference (items, map values) is prose too.
                self.add("patch", f"{key}-changed", where, location)

    # --- a set of properties and its required list --------------------------------

    def properties(self, old: dict, new: dict, old_req, new_req, ctxs: set[str], where: str, location: str) -> None:
        noun = "output" if ctxs == {OUTPUT} else "input" if OUTPUT not in ctxs else "property"
        old, new = old or {}, new or {}
        old_req, new_req = set(old_req or ()), set(new_req or ())
        for name in sorted(set(old) | set(new)):
            w, loc = where + name if where.endswith(":") else f"{where}.{name}", f"{location}.{name}"
            if name not in new:
                self.add("breaking", f"{noun}-removed", w, loc)
            elif name not in old:
                self.add("feature", f"{noun}-added", w, loc, signature(new[name]))
            else:
                self.property(old[name], new[name], w, loc)
            if name not in new:
                continue
            was, now = name in old_req and name in old, name in new_req
            if now and not was:
                if name in old:
                    self.add("breaking", "now-required", w, loc,
                             "callers must set it" if ctxs & {INPUT, PLAIN} else "the Go SDK's type loses its pointer")
                elif ctxs & {INPUT, PLAIN}:
                    self.add("breaking", "required-input-added", w, loc, "every caller must set it")
            elif was and not now:
                if ctxs <= {INPUT}:
                    self.add("feature", "now-optional", w, loc)
                elif OUTPUT in ctxs:
                    self.add("breaking", "now-optional", w, loc, "readers may get nothing")
                else:
                    self.add("breaking", "now-optional", w, loc, "the Go SDK's plain argument becomes a pointer")

    def leftovers(self, old: dict, new: dict, judged: set[str], where: str, location: str) -> None:
        for key in sorted((set(old) | set(new)) - judged):
            if old.get(key, _ABSENT) != new.get(key, _ABSENT):
                level = "breaking" if key in ("isComponent", "isOverlay", "methods") else "patch"
                self.add(level, f"{key}-changed", where, f"{location}.{key}")

    # --- the schema's sections ---------------------------------------------------

    def run(self) -> list[Change]:
        old, new = self.old, self.new
        if old.get("name") != new.get("name"):
            self.add("breaking", "name-changed", "name", "name", f"{_show(old.get('name'))} -> {_show(new.get('name'))}")
        self.meta()
        self.config()
        self.provider()
        self.resources()
        self.functions()
        self.types()
        self.language()
        sections = {"name", "meta", "version", "config", "provider", "resources", "functions", "types", "language"}
        for key in sorted((set(old) | set(new)) - sections):
            if old.get(key, _ABSENT) != new.get(key, _ABSENT):
                self.add("patch", "metadata-changed", key, key)
        order = {level: i for i, level in enumerate(reversed(LEVELS))}
        return sorted(self.changes, key=lambda c: (order[c.level], c.where, c.rule))

    def meta(self) -> None:
        old, new = self.old.get("meta", {}), self.new.get("meta", {})
        for key in sorted(set(old) | set(new)):
            before, after = old.get(key, _ABSENT), new.get(key, _ABSENT)
            if before == after:
                continue
            # The module format maps tokens to SDK modules: another one moves every import.
            if key == "moduleFormat":
                self.add("breaking", "module-format-changed", f"meta {key}", f"meta.{key}",
                         f"{_show(before)} -> {_show(after)}")
            else:
                self.add("patch", "sdk-setting-changed", f"meta {key}", f"meta.{key}")

    def config(self) -> None:
        old, new = self.old.get("config", {}), self.new.get("config", {})
        self.properties(old.get("variables"), new.get("variables"), old.get("defaults"), new.get("defaults"),
                        {INPUT}, f"config {self.new.get('name', '')}:", "config.variables")

    def provider(self) -> None:
        old, new = self.old.get("provider", {}), self.new.get("provider", {})
        self.properties(old.get("inputProperties"), new.get("inputProperties"), old.get("requiredInputs"),
                        new.get("requiredInputs"), {INPUT}, "Provider", "provider.inputProperties")
        self.properties(old.get("properties"), new.get("properties"), old.get("required"), new.get("required"),
                        {OUTPUT}, "Provider", "provider.properties")
        self.leftovers(old, new, {"inputProperties", "requiredInputs", "properties", "required"}, "Provider", "provider")

    def resources(self) -> None:
        old, new = self.old.get("resources", {}), self.new.get("resources", {})
        for token in sorted(set(old) | set(new)):
            loc = f'resources["{token}"]'
            if token not in new:
                self.add("breaking", "resource-removed", short(token), loc)
                continue
            if token not in old:
                self.add("feature", "resource-added", short(token), loc)
                continue
            a, b = old[token], new[token]
            self.properties(a.get("inputProperties"), b.get("inputProperties"), a.get("requiredInputs"),
                            b.get("requiredInputs"), {INPUT}, short(token), f"{loc}.inputProperties")
            self.properties(a.get("properties"), b.get("properties"), a.get("required"), b.get("required"),
                            {OUTPUT}, short(token), f"{loc}.properties")
            self.leftovers(a, b, {"inputProperties", "requiredInputs", "properties", "required"}, short(token), loc)

    def functions(self) -> None:
        old, new = self.old.get("functions", {}), self.new.get("functions", {})
        for token in sorted(set(old) | set(new)):
            loc, where = f'functions["{token}"]', f"{short(token)}()"
            if token not in new:
                self.add("breaking", "function-removed", where, loc)
                continue
            if token not in old:
                self.add("feature", "function-added", where, loc)
                continue
            a, b = old[token], new[token]
            ai, bi = a.get("inputs", {}), b.get("inputs", {})
            self.properties(ai.get("properties"), bi.get("properties"), ai.get("required"), bi.get("required"),
                            {PLAIN}, where, f"{loc}.inputs.properties")
            self.leftovers(ai, bi, {"properties", "required"}, where, f"{loc}.inputs")
            ao, bo = a.get("outputs", {}), b.get("outputs", {})
            if "properties" in ao and "properties" in bo:
                self.properties(ao.get("properties"), bo.get("properties"), ao.get("required"), bo.get("required"),
                                {OUTPUT}, where, f"{loc}.outputs.properties")
                self.leftovers(ao, bo, {"properties", "required"}, where, f"{loc}.outputs")
            elif ao != bo:
                self.property(ao, bo, where, f"{loc}.outputs")
            self.leftovers(a, b, {"inputs", "outputs"}, where, loc)

    def types(self) -> None:
        old, new = self.old.get("types", {}), self.new.get("types", {})
        for token in sorted(set(old) | set(new)):
            loc = f'types["{token}"]'
            where = self.usage.first.get(token, short(token))
            if token not in new:
                self.add("breaking", "type-removed", short(token), loc)
                continue
            if token not in old:
                self.add("feature", "type-added", short(token), loc)
                continue
            a, b = old[token], new[token]
            ctxs = self.usage.of(token)
            if a.get("type") != b.get("type"):
                self.add("breaking", "type-changed", where, loc, f"{a.get('type')} -> {b.get('type')}")
            if "enum" in a or "enum" in b:
                before = {json.dumps(e.get("value"), sort_keys=True) for e in a.get("enum", [])}
                after = {json.dumps(e.get("value"), sort_keys=True) for e in b.get("enum", [])}
                for value in sorted(before - after):
                    self.add("breaking", "enum-value-removed", where, f"{loc}.enum", value)
                for value in sorted(after - before):
                    self.add("feature", "enum-value-added", where, f"{loc}.enum", value)
                if a.get("enum") != b.get("enum") and before == after:
                    self.add("patch", "enum-changed", where, f"{loc}.enum")
            self.properties(a.get("properties"), b.get("properties"), a.get("required"), b.get("required"),
                            ctxs, where, f"{loc}.properties")
            self.leftovers(a, b, {"type", "enum", "properties", "required"}, where, loc)

    def language(self) -> None:
        old, new = self.old.get("language", {}), self.new.get("language", {})
        for lang in sorted(set(old) | set(new)):
            loc = f"language.{lang}"
            if lang not in new:
                self.add("breaking", "sdk-removed", lang, loc)
                continue
            if lang not in old:
                self.add("feature", "sdk-added", lang, loc)
                continue
            a, b = old[lang], new[lang]
            for key in sorted(set(a) | set(b)):
                if a.get(key, _ABSENT) == b.get(key, _ABSENT):
                    continue
                if key in IDENTITY_KEYS.get(lang, ()) and key in a:
                    self.add("breaking", "package-renamed", f"{lang} {key}", f"{loc}.{key}",
                             f"{_show(a.get(key, _ABSENT))} -> {_show(b.get(key, _ABSENT))}")
                elif key in DEPENDENCY_KEYS:
                    # Users may have to upgrade what the SDK depends on.
                    self.add("feature", "dependency-changed", f"{lang} {key}", f"{loc}.{key}",
                             f"{_show(a.get(key, _ABSENT))} -> {_show(b.get(key, _ABSENT))}")
                else:
                    self.add("patch", "sdk-setting-changed", f"{lang} {key}", f"{loc}.{key}")


def compare(old: dict, new: dict) -> list[Change]:
    return Comparison(old, new).run()


def highest(changes: list[Change]) -> str | None:
    levels = {c.level for c in changes}
    return next((level for level in reversed(LEVELS) if level in levels), None)


def releases(folder: Path) -> list[tuple[Version, Path]]:
    found = []
    for path in folder.glob("v*/schema.json"):
        try:
            found.append((Version.parse(path.parent.name), path))
        except ValueError:
            continue
    return sorted(found)


def changelog_has(changelog: Path, version: Version) -> bool:
    if not changelog.exists():
        return False
    heading = re.compile(rf"^##\s+\[?v?{re.escape(str(version))}\]?(\s|$)")
    return any(heading.match(line) for line in changelog.read_text().splitlines())


WHY = {
    "breaking": "a breaking change moves the {part}",
    "feature": "an addition moves at least the {part}",
    "patch": "any other schema change moves at least the patch",
}


def check(schema_path: Path, releases_dir: Path, changelog: Path, out=sys.stdout) -> bool:
    new = json.loads(schema_path.read_text())
    version = Version.parse(new["version"])
    known = releases(releases_dir)
    if not known:
        print(f"FAIL: no release schema under {releases_dir} (expected v<version>/schema.json)", file=out)
        return False
    baseline, baseline_path = known[-1]
    old = json.loads(baseline_path.read_text())
    if Version.parse(old["version"]) != baseline:
        print(f"FAIL: {baseline_path} says version {old['version']}, its folder says {baseline}", file=out)
        return False
    changes = compare(old, new)
    level = highest(changes)
    shown = baseline_path.relative_to(REPO) if baseline_path.is_relative_to(REPO) else baseline_path
    print(f"{schema_path.name} {version} against the last release {baseline} ({shown}): "
          f"{len(changes)} change(s)", file=out)
    width = max((len(c.where) for c in changes), default=0)
    for c in changes:
        detail = f"  {c.detail}" if c.detail else ""
        print(f"  {c.level:<8}  {c.where:<{width}}  {c.rule}{detail}  [{c.location}]", file=out)
    ok = True
    need = least_version(baseline, level)
    if version < baseline:
        print(f"FAIL: version {version} is older than the last release {baseline}", file=out)
        ok = False
    elif not enough(version, baseline, level):
        part = ("major" if baseline.major >= 1 else "minor") if level == "breaking" else (
            "minor" if baseline.major >= 1 else "patch")
        print(f"FAIL: version {version} does not tell the truth: the changes since {baseline} need {need} or later "
              f"({WHY[level].format(part=part)}{' in 0.x' if baseline.major == 0 else ''}). Set the version in "
              "provider/Cargo.toml, run `make build schema sdks`, and say what changed in CHANGELOG.md.", file=out)
        ok = False
    if not changelog_has(changelog, version):
        print(f"FAIL: {changelog.name} has no section for {version} (a heading `## [{version}]`)", file=out)
        ok = False
    if ok:
        verdict = "no change" if level is None else f"{level} changes need {need} or later"
        print(f"ok: {verdict}; the version is {version}", file=out)
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schema", type=Path, default=REPO / "schema.json")
    parser.add_argument("--releases", type=Path, default=REPO / "releases")
    parser.add_argument("--changelog", type=Path, default=REPO / "CHANGELOG.md")
    args = parser.parse_args(argv)
    return 0 if check(args.schema, args.releases, args.changelog) else 1


if __name__ == "__main__":
    sys.exit(main())
