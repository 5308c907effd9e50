# The front door. Everything installs what it needs itself: crates through
# cargo, Python packages into .venv, npm packages into the folders that use them.

CARGO   ?= cargo
PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
BIN     := target/debug/pulumi-resource-xpander
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' provider/Cargo.toml | head -n 1)
PLUGIN_DIR := $(HOME)/.pulumi/plugins/resource-xpander-v$(VERSION)
export PYTHONPATH := $(CURDIR)/tests

.PHONY: all build release install schema sdks demo test test-rust test-python check-schema bench lint clean venv

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

test-python: venv build
	$(PY) -m pytest tests -q -p no:cacheprovider

test: lint test-rust check-schema test-python

demo: venv build
	$(PY) tests/demo.py

bench: venv
	$(CARGO) build --locked --release -p pulumi-resource-xpander
	$(PY) tests/bench/run.py

clean:
	$(CARGO) clean
	rm -rf $(VENV)
