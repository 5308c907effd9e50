# The front door. Everything installs what it needs itself: crates through
# cargo, Python packages into .venv, npm packages into the folders that use them.

CARGO   ?= cargo
PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
BIN     := target/debug/pulumi-resource-xpander
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' provider/Cargo.toml | head -n 1)
PLUGIN_DIR := $(HOME)/.pulumi/plugins/resource-xpander-v$(VERSION)
# npm installs follow the committed lock files; the stamp is the file npm
# itself writes at the end of an install.
SDK_NPM     := sdk/nodejs/node_modules/.package-lock.json
EXAMPLE_NPM := sdk-examples/typescript/node_modules/.package-lock.json
export PYTHONPATH := $(CURDIR)/tests

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

release:
	$(CARGO) build --locked --release -p pulumi-resource-xpander

# Where the Pulumi CLI finds plugins: `pulumi plugin install` when the CLI
# exists, else the plugin cache layout it would create.
install: build
	@if command -v pulumi >/dev/null 2>&1; then \
		pulumi plugin install resource xpander $(VERSION) --file $(BIN) --reinstall; \
	else \
		mkdir -p $(PLUGIN_DIR) && cp $(BIN) $(PLUGIN_DIR)/ && touch $(PLUGIN_DIR).lock && \
		echo "installed $(PLUGIN_DIR)/pulumi-resource-xpander"; \
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
test-cli: venv build pulumi $(EXAMPLE_NPM)
	$(PY) -m pytest tests/cli -q -p no:cacheprovider

test: lint test-rust check-schema check-compat check-sdks test-sdks test-python test-cli

# SDKs (tools/sdkgen).
.PHONY: check-sdks test-sdks

$(SDK_NPM): sdk/nodejs/package-lock.json
	cd sdk/nodejs && npm ci --no-audit --no-fund --loglevel=error

# The example installs a copy of the SDK (install-links): reinstall when it changes.
$(EXAMPLE_NPM): sdk-examples/typescript/package-lock.json sdk/nodejs/package.json $(wildcard sdk/nodejs/bin/*.js)
	cd sdk-examples/typescript && npm ci --no-audit --no-fund --loglevel=error

# sdk/python and sdk/nodejs (compiled bin/ included) from schema.json.
sdks: venv $(SDK_NPM)
	$(PY) -m tools.sdkgen

# The committed SDKs must be what `make sdks` writes from the committed schema.
check-sdks: venv $(SDK_NPM)
	$(PY) -m tools.sdkgen --check

# tsc and mypy on the SDKs and examples, the examples under Pulumi's mock
# runtime with every registration sent to the provider's Check.
test-sdks: venv build $(SDK_NPM) $(EXAMPLE_NPM)
	$(PY) -m pytest tests/sdk -q -p no:cacheprovider

demo: venv build pulumi
	$(PY) tests/demo.py

bench: venv
	$(CARGO) build --locked --release -p pulumi-resource-xpander
	$(PY) tests/bench/run.py

clean:
	$(CARGO) clean
	rm -rf $(VENV)
