# NEXUS developer entry points. `make up` runs the platform, `make test` runs the suite;
# both install what they need first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Swagger UI and ReDoc, which the API serves at /docs and /redoc (package.json).
NPM_STAMP := node_modules/.installed
# Debian packages the platform runs on: PostgreSQL server binaries, ffmpeg/ffprobe for media,
# espeak-ng for the speech in generated test media, util-linux's prlimit and setpriv for
# capping tools, a C++ compiler with Python headers for pdqhash (published as source only),
# Tesseract with its English data for text shown on screen, chromium for the portal's
# browser tests, Node.js with npm to install the API docs' Swagger UI and ReDoc, and Redis
# for the rate limits' counters.
APT_PACKAGES := postgresql ffmpeg espeak-ng util-linux g++ python3-dev tesseract-ocr \
	tesseract-ocr-eng chromium nodejs npm redis-server

# The gateway in front of the API and portal (nexus/gateway.py): nginx, ModSecurity v3 and the
# OWASP Core Rule Set.
APT_PACKAGES += nginx libnginx-mod-http-modsecurity modsecurity-crs

.PHONY: up check-stack test lint typecheck check mutation install system-deps clean

up: install
	@$(BIN)/nexus up

check-stack: install
	@$(BIN)/nexus up --check

# The suite runs on TEST_PROCESSES processes (pytest-xdist), each with its own PostgreSQL,
# Temporal, Redis and gateway; `--dist loadgroup` keeps the machine-loading journeys on one.
TEST_PROCESSES ?= 2

test: install
	@$(BIN)/pytest -n $(TEST_PROCESSES) --dist loadgroup

lint: install
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/lint-imports

typecheck: install
	@$(BIN)/mypy .

check: lint typecheck test

# Mutation testing of the pure rules in domain/ against tests/domain/, by hand (not in CI; about
# 10 minutes on 2 cores): one module at a time, then each module's score, (killed + timed out) /
# mutants run, and the survivors by name (`.venv/bin/mutmut show NAME` prints one).
DOMAIN_MODULES := calendar disclosure ledger license_terms rights_ledger
define MUTATION_SCORES
import json, pathlib
for meta in sorted(pathlib.Path("mutants/domain").glob("*.py.meta")):
    codes = [c for c in json.loads(meta.read_text())["exit_code_by_key"].values() if c not in (34, None)]
    if codes:
        killed = sum(c in (1, 3, 24, -24, 36, 152, 255) for c in codes)
        print(f"domain/{meta.name[:-5]}: {100 * killed / len(codes):.1f} % ({killed}/{len(codes)} killed)")
endef
export MUTATION_SCORES

mutation: install
	@rm -rf mutants
	@for m in $(DOMAIN_MODULES); do \
		echo "mutating domain/$$m.py"; \
		$(BIN)/mutmut run --max-children 2 "domain.$$m.*" >/dev/null || exit 1; \
	done
	@$(BIN)/python -c "$$MUTATION_SCORES"
	@$(BIN)/mutmut results

install: system-deps $(STAMP) $(NPM_STAMP)

system-deps:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || missing="$$missing ffmpeg"; \
	command -v espeak-ng >/dev/null 2>&1 || missing="$$missing espeak-ng"; \
	command -v tesseract >/dev/null 2>&1 && test -n "$$(ls /usr/share/tesseract-ocr/*/tessdata/eng.traineddata 2>/dev/null)" || missing="$$missing tesseract-ocr tesseract-ocr-eng"; \
	command -v prlimit >/dev/null 2>&1 && command -v setpriv >/dev/null 2>&1 || missing="$$missing util-linux"; \
	command -v g++ >/dev/null 2>&1 || missing="$$missing g++"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	test -x /usr/sbin/nginx || missing="$$missing nginx"; \
	test -f /usr/lib/nginx/modules/ngx_http_modsecurity_module.so || missing="$$missing libnginx-mod-http-modsecurity"; \
	test -f /usr/share/modsecurity-crs/rules/REQUEST-949-BLOCKING-EVALUATION.conf || missing="$$missing modsecurity-crs"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	$(PYTHON) -c 'import os, sysconfig; raise SystemExit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' || missing="$$missing python3-dev"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = "0" ]; then \
		echo "Installing Debian packages:$$missing (this takes a few minutes the first time) ..."; \
		DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	else \
		echo "Missing Debian packages:$$missing. Run: sudo apt-get install -y$$missing" >&2; exit 1; \
	fi

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
		{ echo "NEXUS needs Python 3.11 (set PYTHON=/path/to/python3.11)" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing Python packages into $(VENV) (this takes a few minutes the first time) ..."
	@$(BIN)/pip install --progress-bar on -e '.[dev]'
	@touch $(STAMP)

$(NPM_STAMP): package.json package-lock.json
	@echo "Installing Swagger UI and ReDoc into node_modules (npm ci) ..."
	@npm ci --ignore-scripts --no-audit --no-fund
	@touch $(NPM_STAMP)

clean:
	rm -rf $(VENV) node_modules .nexus .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
