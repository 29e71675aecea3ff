# OpenCPMS: `make run` starts the whole system on this machine, `make test` runs every test.
# Both install what is missing into .venv first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
WEB    := services/admin/web
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml $(WEB)/package-lock.json | sha1sum | cut -c1-12)
PACKAGES := opencpms_contracts opencpms_messaging opencpms_db opencpms_launcher opencpms_simulator \
            opencpms_gateway opencpms_authorization opencpms_transactions opencpms_billing \
            opencpms_admin

.PHONY: run test bench install lint typecheck format asyncapi check-compose clean

run: $(STAMP)
	$(BIN)/python -m opencpms_launcher run

# Lint and type checks first: CI runs exactly this target.
test: lint typecheck
	$(BIN)/python -m pytest

# The scenarios of docs/performance.md against the whole system started here; prints a table.
bench: $(STAMP)
	$(BIN)/python -m opencpms_simulator.bench $(BENCH_ARGS)

install: $(STAMP)

# Python packages into .venv; the web UI's front-end libraries (Chart.js), exactly as locked,
# from the npm registry into $(WEB)/node_modules.
$(STAMP): pyproject.toml $(WEB)/package-lock.json
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
	@rm -f $(VENV)/.installed-*
	@touch $@

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	@mkdir -p .run/mypy-path
	@for p in contracts messaging db launcher simulator; do ln -sfn ../../libs/$$p .run/mypy-path/opencpms_$$p; done
	@for p in gateway authorization transactions billing admin; do ln -sfn ../../services/$$p .run/mypy-path/opencpms_$$p; done
	MYPYPATH=.run/mypy-path $(BIN)/mypy $(addprefix -p ,$(PACKAGES))

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

asyncapi: $(STAMP)
	$(BIN)/python -m opencpms_contracts asyncapi > docs/asyncapi.json

# The compose file against the Compose specification (also part of make test).
check-compose: $(STAMP)
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml

clean:
	rm -rf $(VENV) .run .pytest_cache .mypy_cache .ruff_cache test-artifacts
