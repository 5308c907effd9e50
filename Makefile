# The front door. Everything installs what it needs itself: crates through
# cargo, Python packages into .venv, npm packages into the folders that use them.

CARGO   ?= cargo
PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
BIN     := target/debug/pulumi-resource-xpander
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' provider/Cargo.toml | head -n 1)
PLUGIN_DIR := $(or $(PULUMI_HOME),$(HOME)/.pulumi)/plugins/resource-xpander-v$(VERSION)
# npm installs follow the committed lock files; the stamp is the file npm
# itself writes at the end of an install.
SDK_NPM     := sdk/nodejs/node_modules/.package-lock.json
EXAMPLE_NPM := sdk-examples/typescript/node_modules/.package-lock.json
# The Node.js SDK as npm publishes it: tsc's output in sdk/nodejs/bin with the
# package.json it reads its version from (copied last: it is the stamp).
SDK_JS      := sdk/nodejs/bin/package.json
# The Python SDK installed into .venv: its modules read their version from the
# installed distribution, so a folder on PYTHONPATH alone does not import.
SDK_PY      := $(VENV)/.sdk-python
CODEGEN     := go -C tools/codegen run . -schema $(CURDIR)/schema.json -out $(CURDIR)/sdk
export PYTHONPATH := $(CURDIR)/tests

# The release (`make dist`, below): what goes into dist/, named by version and platform.
RELEASE_BIN    := target/release/pulumi-resource-xpander
PLATFORM       := $(shell uname -s | tr A-Z a-z)-$(shell uname -m | sed 's/x86_64/amd64/;s/aarch64/arm64/')
# Python spells pre-releases its own way (0.2.0-rc.1 is 0.2.0rc1).
PY_VERSION     := $(shell echo '$(VERSION)' | sed -E 's/-(a)lpha\.?|-(b)eta\.?|-(rc)\.?/\1\2\3/')
PLUGIN_ARCHIVE := dist/pulumi-resource-xpander-v$(VERSION)-$(PLATFORM).tar.gz
WHEEL          := dist/pulumi_xpander-$(PY_VERSION)-py3-none-any.whl
SDIST          := dist/pulumi_xpander-$(PY_VERSION).tar.gz
NPM_TARBALL    := dist/xpander-ai-pulumi-xpander-$(VERSION).tgz
DIST_FILES     := $(PLUGIN_ARCHIVE) $(WHEEL) $(SDIST) $(NPM_TARBALL)
# Every time stamp inside the archives: the last commit's, so the same tree
# packs to the same bytes.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
STAGE          := target/dist
VERSIONS_OK    := $(STAGE)/versions-$(VERSION).ok
PY_SDK_FILES   := $(shell find sdk/python -type f -not -path '*/__pycache__/*' -not -path '*.egg-info/*' -not -path 'sdk/python/build/*')

.PHONY: all build release install schema sdks demo test test-rust test-python test-cli check-schema bench lint clean venv pulumi

all: build

venv: $(VENV)/.installed
$(VENV)/.installed: tests/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r tests/requirements.txt
	touch $@

build:
	$(CARGO) build --locked -p pulumi-resource-xpander

release: $(RELEASE_BIN)

# The release build, installed as a user installs it: `pulumi plugin install`
# from the archive when the CLI exists, else the plugin cache layout it creates.
install: $(PLUGIN_ARCHIVE)
	@if command -v pulumi >/dev/null 2>&1; then \
		pulumi plugin install resource xpander $(VERSION) --file $(PLUGIN_ARCHIVE) --reinstall; \
	else \
		rm -rf $(PLUGIN_DIR) && mkdir -p $(PLUGIN_DIR) && tar -xzf $(PLUGIN_ARCHIVE) -C $(PLUGIN_DIR) && \
		touch $(PLUGIN_DIR).lock && echo "installed $(PLUGIN_DIR)/pulumi-resource-xpander"; \
	fi

schema: build
	$(BIN) schema > schema.json

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

test-rust:
	$(CARGO) test --locked

# schema.json is generated from the provider's own types; a stale copy fails.
check-schema: build
	@$(BIN) schema | diff -u schema.json - >/dev/null || { echo "schema.json is stale: run 'make schema'"; exit 1; }

# The version must move as semver says for what changed in schema.json since
# the last release (releases/v<version>/schema.json), and CHANGELOG.md must say it.
.PHONY: check-compat
check-compat:
	@$(PYTHON) tests/compat/schema_compat.py

test-python: venv build
	$(PY) -m pytest tests -q -p no:cacheprovider --ignore=tests/sdk --ignore=tests/cli --ignore=tests/dist

# The Pulumi CLI and its Python and Node.js language hosts, built from their Go
# modules (tools/pulumi) into a cache outside the clone; the last line printed
# is the folder that holds them.
pulumi:
	@bash tools/pulumi/build.sh

# The example projects and the user paths through the real `pulumi` CLI.
test-cli: venv build pulumi $(SDK_PY) $(EXAMPLE_NPM)
	$(PY) -m pytest tests/cli -q -p no:cacheprovider

test: lint test-rust check-schema check-compat check-sdks test-sdks test-python test-cli test-dist

# SDKs: Pulumi's own generators (tools/codegen, pinned to the CLI's pkg/v3).
.PHONY: check-sdks test-sdks sdk-nodejs sdk-python

# sdk/python, sdk/nodejs and sdk/go from schema.json, as `pulumi package gen-sdk` writes them.
sdks:
	$(CODEGEN)

# The committed SDKs must be what `make sdks` writes from the committed schema.
check-sdks:
	$(CODEGEN) -check

$(SDK_NPM): sdk/nodejs/package-lock.json sdk/nodejs/package.json
	cd sdk/nodejs && npm ci --no-audit --no-fund --loglevel=error

sdk-nodejs: $(SDK_JS)
$(SDK_JS): $(SDK_NPM) $(wildcard sdk/nodejs/*.ts sdk/nodejs/*/*.ts) sdk/nodejs/tsconfig.json sdk/nodejs/README.md
	rm -rf sdk/nodejs/bin
	cd sdk/nodejs && node_modules/.bin/tsc
	cp sdk/nodejs/README.md sdk/nodejs/bin/
	cp sdk/nodejs/package.json $@

# A copy is installed (pip builds in the source folder otherwise), without
# its dependencies (the pinned pulumi of tests/requirements.txt brings them)
# and with the venv's setuptools.
sdk-python: $(SDK_PY)
$(SDK_PY): $(VENV)/.installed $(shell find sdk/python -type f -not -path '*/__pycache__/*' 2>/dev/null)
	@rm -rf $(VENV)/sdk-python && cp -R sdk/python $(VENV)/sdk-python
	@$(VENV)/bin/pip install --no-deps --no-build-isolation --force-reinstall $(VENV)/sdk-python \
		>$(VENV)/sdk-python.log 2>&1 || { cat $(VENV)/sdk-python.log; exit 1; }
	@rm -rf $(VENV)/sdk-python $(VENV)/sdk-python.log
	touch $@

# The example installs a copy of the built SDK (install-links): reinstall when it changes.
# No install scripts: @pulumi/kubernetes's would download its plugin, which
# nothing here runs (the example's Kubernetes patch is tested under mocks).
$(EXAMPLE_NPM): sdk-examples/typescript/package-lock.json $(SDK_JS)
	cd sdk-examples/typescript && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

# tsc and mypy on the SDKs and examples, the examples under Pulumi's mock
# runtime with every registration sent to the provider's Check.
test-sdks: venv build $(SDK_PY) $(SDK_NPM) $(EXAMPLE_NPM)
	$(PY) -m pytest tests/sdk -q -p no:cacheprovider

# --- a release, in dist/ -----------------------------------------------------------
# What a user installs without this repository, all at provider/Cargo.toml's
# version: tools/release/versions.py refuses a tree whose binary, schema or
# SDKs say another, before anything is packed
# (the file names are set at the top).
.PHONY: dist test-dist FORCE
FORCE:

dist: $(DIST_FILES) dist/SHA256SUMS

# cargo knows whether anything changed; when nothing did, the binary keeps its
# time stamp and nothing below is packed again.
$(RELEASE_BIN): FORCE
	$(CARGO) build --locked --release -p pulumi-resource-xpander

$(VERSIONS_OK): $(RELEASE_BIN) provider/Cargo.toml Cargo.lock schema.json CHANGELOG.md sdk/python/pyproject.toml \
		sdk/nodejs/package.json $(shell find sdk -name pulumi-plugin.json -not -path '*/node_modules/*')
	@mkdir -p $(STAGE)
	@$(PYTHON) tools/release/versions.py $(RELEASE_BIN) >/dev/null
	@touch $@

$(PLUGIN_ARCHIVE): $(RELEASE_BIN) README.md LICENSE tools/release/pack.py | $(VERSIONS_OK)
	@mkdir -p dist
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(PYTHON) tools/release/pack.py plugin $@ $(RELEASE_BIN) README.md LICENSE

# Built from a copy, so setuptools' build/ and egg-info stay out of sdk/python.
$(WHEEL) $(SDIST) &: $(PY_SDK_FILES) LICENSE tools/release/pack.py | $(VERSIONS_OK) $(VENV)/.installed
	@rm -rf $(STAGE)/python && mkdir -p $(STAGE) dist
	@cp -R sdk/python $(STAGE)/python && cp LICENSE $(STAGE)/python/
	@rm -rf $(STAGE)/python/build $(STAGE)/python/*.egg-info && find $(STAGE)/python -name __pycache__ -prune -exec rm -rf {} +
	@find $(STAGE)/python -exec touch -h -d @$(SOURCE_DATE_EPOCH) {} +
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(PY) -m build --no-isolation --outdir dist $(STAGE)/python \
		>$(STAGE)/python-build.log 2>&1 || { cat $(STAGE)/python-build.log; exit 1; }
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(PYTHON) tools/release/pack.py normalize $(SDIST)

# The package is tsc's output with its package.json (sdk/nodejs/bin), plus LICENSE.
$(NPM_TARBALL): $(SDK_JS) LICENSE | $(VERSIONS_OK)
	@rm -rf $(STAGE)/nodejs && mkdir -p $(STAGE)/nodejs dist
	@cp -R sdk/nodejs/bin/. $(STAGE)/nodejs/ && cp LICENSE $(STAGE)/nodejs/
	cd $(STAGE)/nodejs && npm pack --silent --pack-destination $(CURDIR)/dist >/dev/null

# Only this version's files stay in dist/.
dist/SHA256SUMS: $(DIST_FILES)
	@cd dist && find . -maxdepth 1 -type f $(foreach f,$(notdir $(DIST_FILES)) SHA256SUMS,! -name '$(f)') -delete
	cd dist && sha256sum $(notdir $(DIST_FILES)) > SHA256SUMS

# The release installed as a user would, in an empty folder outside the
# checkout, then a Python and a TypeScript program deployed with it.
test-dist: dist venv pulumi
	$(PY) -m pytest tests/dist -q -p no:cacheprovider

demo: venv build pulumi $(SDK_PY)
	$(PY) tests/demo.py

bench: venv
	$(CARGO) build --locked --release -p pulumi-resource-xpander
	$(PY) tests/bench/run.py

clean:
	$(CARGO) clean
	rm -rf $(VENV)
