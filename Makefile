# The two commands: `make dev` (run the whole API locally) and `make test` (every test).
# Everything they need is installed here: Python tools into .venv/ (pinned in
# infra/local/requirements.txt), Node tools into node_modules/ (package-lock.json).

SHELL := /bin/bash
VENV := .venv
VENV_STAMP := $(VENV)/.installed-$(shell cksum < infra/local/requirements.txt | cut -d' ' -f1)
# checkov pins its own boto3, at odds with requirements.txt's: it gets a venv of its own.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(shell cksum < infra/local/requirements-checkov.txt | cut -d' ' -f1)
NODE_STAMP := node_modules/.installed-$(shell cat package.json package-lock.json | cksum | cut -d' ' -f1)
# The benchmarks' Node.js peer (bench/node-peer) has its own pinned dependencies.
NODE_PEER := bench/node-peer
NODE_PEER_STAMP := $(NODE_PEER)/node_modules/.installed-$(shell cat $(NODE_PEER)/package.json $(NODE_PEER)/package-lock.json | cksum | cut -d' ' -f1)

.PHONY: dev test mail code build lint bench fmt clean help chromium
.DEFAULT_GOAL := help

help:
	@echo "make dev    run the API on http://127.0.0.1:3000 (moto + cargo lambda watch), with a demo token;"
	@echo "            other ports: API_PORT=.. WS_PORT=.. MANAGEMENT_PORT=.. MOTO_PORT=.. make dev (README, Ports)"
	@echo "make test   run every test against a private local stack, then lint template.yaml"
	@echo "make mail   print the emails the local SES (moto) received, with their codes"
	@echo "make code EMAIL=guest@example.com   print only the newest code sent to that address"
	@echo "make build  sam build: one arm64 bootstrap per function"
	@echo "make lint   cfn-lint, sam validate --lint and checkov on template.yaml"
	@echo "make bench  benchmarks (see BENCHMARKS.md)"

$(VENV_STAMP): infra/local/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r infra/local/requirements.txt
	rm -f $(VENV)/.installed-* && touch $@

$(CHECKOV_STAMP): infra/local/requirements-checkov.txt
	python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet -r infra/local/requirements-checkov.txt
	rm -f $(CHECKOV_VENV)/.installed-* && touch $@

venv: $(VENV_STAMP) $(CHECKOV_STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

$(NODE_PEER_STAMP): $(NODE_PEER)/package.json $(NODE_PEER)/package-lock.json
	npm ci --prefix $(NODE_PEER) --no-audit --no-fund
	touch $@

dev: $(VENV_STAMP)
	infra/local/dev.sh

test: $(VENV_STAMP) $(CHECKOV_STAMP) $(NODE_STAMP) chromium
	infra/local/test.sh

# The chat widget's browser tests drive Debian's chromium through playwright-core (a test
# tool's own browser download is not an option): installed with apt-get when missing, with
# a colour emoji font for the screenshots.
chromium:
	@command -v chromium >/dev/null || { \
	  echo "Installing Debian's chromium for the widget's browser tests (apt-get)"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; }

mail:
	@python3 infra/local/mail.py list

code:
	@python3 infra/local/mail.py code "$(EMAIL)"

lint: $(VENV_STAMP) $(CHECKOV_STAMP)
	$(VENV)/bin/cfn-lint template.yaml
	AWS_DEFAULT_REGION=us-east-1 $(VENV)/bin/sam validate --lint
	infra/local/checkov.sh

# sam build runs `cargo lambda build --release --arm64` once for the workspace (CodeUri: .)
# and copies each function's bootstrap into .aws-sam/build/<Function>/.
build: $(VENV_STAMP)
	rustup target add aarch64-unknown-linux-gnu
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/sam build
	@for f in .aws-sam/build/*/bootstrap; do \
	  printf '%-50s %10s bytes  %s MiB\n' "$$f" "$$(stat -c %s $$f)" "$$(awk "BEGIN{printf \"%.2f\", $$(stat -c %s $$f)/1048576}")"; \
	done

bench: $(VENV_STAMP) $(NODE_PEER_STAMP)
	bench/run.sh

fmt:
	cargo fmt --all

clean:
	rm -rf .aws-sam .local
