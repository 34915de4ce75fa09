# Every target bootstraps what it needs: a fresh machine needs only Python 3.11+, node and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: test demo lint synth bench serve clean browser lock openapi translations

# The dev environment comes from the lock (exact versions, hash-checked), then the project.
$(STAMP): pyproject.toml requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/pip install --quiet -e . --no-deps
	$(BIN)/python -m infra.translations
	touch $(STAMP)

# Compile the gettext catalogs (shared/i18n/locale/*/LC_MESSAGES/kbs.po -> kbs.mo); with
# EXTRACT=1, first re-extract kbs.pot from the code (babel.cfg) and merge it into every .po.
translations: $(STAMP)
	$(BIN)/python -m infra.translations $(if $(EXTRACT),extract)

# Regenerate requirements/layer.txt and requirements/dev.txt (uv, from the dev lock) after a
# change to pyproject.toml, requirements/layer.in or infra/runtime.py; then run `make`.
lock: $(STAMP)
	$(BIN)/python -m infra.lock

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: $(STAMP) node_modules/.installed browser
	$(BIN)/pytest -n 2 --dist loadgroup

# The browser test drives Debian's headless Chromium; install it if missing (root or sudo).
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo "sudo -n" ); \
	  ( $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null ) \
	  || echo "WARNING: could not install chromium; the browser test will fail and say why"; \
	fi

demo: $(STAMP)
	$(BIN)/python -m kbs.demo

serve: $(STAMP)
	$(BIN)/kbs serve --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

synth: $(STAMP) node_modules/.installed
	npx cdk synth --quiet

# The public API's OpenAPI document, merged from the HTTP functions' resolvers.
openapi: $(STAMP)
	$(BIN)/python -m kbs.openapi

# All sections, or some: make bench SECTIONS="local" (cold fan-out reports attendance local).
bench: $(STAMP)
	$(BIN)/python -m tests.bench $(SECTIONS)

clean:
	rm -rf $(VENV) node_modules cdk.out .kbs .cache .pytest_cache .mypy_cache .ruff_cache
