# VoxFlow — every target installs what it needs first, so each works on a fresh Debian machine
# and is safe to run again.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
VOXFLOW := $(VENV)/bin/voxflow
APT_PACKAGES := postgresql-15 postgresql-15-pgtap postgresql-15-cron postgresql-contrib \
	libtap-parser-sourcehandler-pgtap-perl nginx chromium fonts-dejavu-core
WEB_SOURCES := $(shell find web/src web/index.html web/vite.config.ts web/tsconfig.json \
	web/package.json web/package-lock.json -type f 2>/dev/null)
SIZE ?= S

.PHONY: run test setup system-deps python-deps node-deps web-deps web lint test-only bench clean

run: setup web
	$(VOXFLOW) up

test: setup web lint test-only

setup: system-deps python-deps node-deps web-deps

# apt only runs when a package is missing: `apt-get update` is slow and needs the network.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi

python-deps: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

node-deps: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

# The web app (web/): its own npm project, built to web/dist when its sources changed.
web-deps: web/node_modules/.package-lock.json

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund

web: web/dist/index.html

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npx vite build --logLevel warn

# bench's extras too: the bench is type-checked with the product.
lint: python-deps web-deps $(VENV)/.bench-installed
	$(VENV)/bin/ruff check backend tests bench
	$(VENV)/bin/ruff format --check backend tests bench
	$(VENV)/bin/mypy backend bench
	$(VENV)/bin/sqlfluff lint supabase sql seed
	cd web && npx tsc --noEmit && npx eslint . && npx vitest run

test-only:
	$(VENV)/bin/pytest

# SIZE=S (default, a few minutes), M or L; results in bench/results/.
bench: setup $(VENV)/.bench-installed
	$(PY) -m bench.run --size $(SIZE)

$(VENV)/.bench-installed: pyproject.toml
	$(PY) -m pip install -q -e '.[bench]'
	touch $@

clean:
	-$(VOXFLOW) down
	rm -rf .voxflow
