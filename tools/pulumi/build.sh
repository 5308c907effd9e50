#!/usr/bin/env bash
# Builds the Pulumi CLI and its Python, Node.js and YAML language hosts from
# their Go modules (pinned by the go.mod/go.sum files beside this script) into a cache
# folder outside the clone, so every clone on this machine shares one build.
# The folder that holds the binaries is the last line printed.
#
# Why three modules: the CLI is built at the pinned release. The language hosts
# became Go modules of their own (sdk/python/cmd/pulumi-language-python/v3 from
# 3.80, the Node.js one from 3.69) that carry no release tags, and the Go module
# proxy serves none of their pseudo-versions here; the newest releases that still
# ship each host inside github.com/pulumi/pulumi/sdk/v3 are 3.79.0 (Python) and
# 3.68.0 (Node.js). The CLI speaks to older hosts by design (it falls back when a
# host answers Unimplemented). The YAML host is a tagged module of its own
# (github.com/pulumi/pulumi-yaml), built at its newest release, with its converter
# (pulumi-converter-yaml, what `pulumi convert --from yaml` loads).
#
# The old Python and Node.js hosts cannot generate code and take a project's runtime
# options as command-line flags, which this CLI no longer passes. So they go to
# bin/legacy, and bin/pulumi-language-python and bin/pulumi-language-nodejs are our
# langhost (Go sources beside this script, built in the CLI's module): it answers the
# code generation calls with pkg/v3's generators and forwards the rest to an old host
# that it starts with the flags each program needs.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cli_version="$(sed -n 's/^\tgithub.com\/pulumi\/pulumi\/pkg\/v3 \(v[0-9.]*\).*/\1/p' "$here/go.mod")"
python_version="$(sed -n 's/^\tgithub.com\/pulumi\/pulumi\/sdk\/v3 \(v[0-9.]*\).*/\1/p' "$here/python-host/go.mod")"
nodejs_version="$(sed -n 's/^\tgithub.com\/pulumi\/pulumi\/sdk\/v3 \(v[0-9.]*\).*/\1/p' "$here/nodejs-host/go.mod")"
yaml_version="$(sed -n 's/^\tgithub.com\/pulumi\/pulumi-yaml \(v[0-9.]*\).*/\1/p' "$here/yaml-host/go.mod")"
[ -n "$cli_version" ] && [ -n "$python_version" ] && [ -n "$nodejs_version" ] && [ -n "$yaml_version" ] || {
    echo "tools/pulumi: cannot read the pinned versions from the go.mod files" >&2
    exit 1
}

# The folder name changes whenever a pin, a checksum, a source of ours or a shim changes.
key="$(cat "$here"/go.mod "$here"/go.sum "$here"/*-host/go.mod "$here"/*-host/go.sum "$here"/langhost/*.go \
    "$here/pulumi-language-python-exec" "$here/pulumi-resource-pulumi-python" | sha256sum | cut -c1-12)"
cache="${PULUMI_XPANDER_TOOLCHAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-xpander/toolchain}"
bin="$cache/pulumi-$cli_version-$key/bin"
binaries=(pulumi pulumi-language-python pulumi-language-nodejs pulumi-language-yaml pulumi-converter-yaml
    pulumi-resource-pulumi-python legacy/pulumi-language-python legacy/pulumi-language-python-exec
    legacy/pulumi-language-nodejs)

complete() {
    local b
    for b in "${binaries[@]}"; do [ -x "$bin/$b" ] || return 1; done
}

if complete; then
    echo "Pulumi $cli_version toolchain already built"
    echo "$bin"
    exit 0
fi

command -v go >/dev/null || { echo "tools/pulumi: 'go' is not on PATH; the Pulumi toolchain is built from Go modules" >&2; exit 1; }

# Go keeps modules and compiled packages under $HOME (GOMODCACHE, GOCACHE), so
# only the first build on a machine compiles everything.
export GOFLAGS="-mod=readonly"
export CGO_ENABLED=0
mkdir -p "$cache"
staging="$(mktemp -d "$cache/.staging.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
mkdir "$staging/legacy"

# `go build -v` names each package as it compiles: print a running count.
progress() {
    local what="$1"
    awk -v what="$what" '{ n++; if (n % 100 == 0) { printf "  %s: %d packages compiled\n", what, n; fflush() } }
        END { printf "  %s: %d packages compiled\n", what, n }'
}

build() {
    local name="$1" dir="$2" version="$3" main="$4" version_var="${5:-github.com/pulumi/pulumi/sdk/v3/go/common/version.Version}"
    echo "building $name $version (first build on a machine: several minutes)"
    if ! (cd "$dir" && go build -v -o "$staging/$name" \
        -ldflags "-s -w -X $version_var=$version" \
        "$main" 2>&1 >/dev/null) | tee "$staging/$name.log" | progress "$name"; then
        tail -n 30 "$staging/$name.log" >&2
        echo "tools/pulumi: building $name failed (log above)" >&2
        exit 1
    fi
    rm -f "$staging/$name.log"
}

echo "building the Pulumi toolchain into $bin"
build pulumi "$here" "$cli_version" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
build pulumi-language-python "$here" "$cli_version" ./langhost
# One program serves both languages: it reads which from its own name.
ln "$staging/pulumi-language-python" "$staging/pulumi-language-nodejs"
build legacy/pulumi-language-python "$here/python-host" "$python_version" \
    github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python
build legacy/pulumi-language-nodejs "$here/nodejs-host" "$nodejs_version" \
    github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs
build pulumi-language-yaml "$here/yaml-host" "$yaml_version" \
    github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml github.com/pulumi/pulumi-yaml/pkg/version.Version
build pulumi-converter-yaml "$here/yaml-host" "$yaml_version" \
    github.com/pulumi/pulumi-yaml/cmd/pulumi-converter-yaml github.com/pulumi/pulumi-yaml/pkg/version.Version
install -m 0755 "$here/pulumi-resource-pulumi-python" "$staging/"
# The old Python host runs programs through the exec shim it finds beside itself.
install -m 0755 "$here/pulumi-language-python-exec" "$staging/legacy/"

mkdir -p "$(dirname "$bin")"
rm -rf "$bin"
chmod 0755 "$staging" "$staging/legacy"
mv "$staging" "$bin"
trap - EXIT
"$bin/pulumi" version
echo "$bin"
