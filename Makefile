# Two commands matter on a fresh machine: `make demo` and `make test`.
# Both build .venv from the committed lock once and reuse it afterwards.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-lock

.PHONY: demo test lint bench bench-quick airflow lock clean chromium

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	# pip compiles what it installs, but not an editable project; with PYTHONDONTWRITEBYTECODE
	# set (as on CI) every process would compile exhub from source again (~0.15 s each).
	$(BIN)/python -m compileall -q exhub connectors shared_catalog dags > /dev/null
	touch $@

demo: $(STAMP)
	$(BIN)/exhub demo

# Browser tests drive Debian's Chromium (/usr/bin/chromium); Playwright downloads no browser.
chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

test: $(STAMP) chromium
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Benchmark suite (bench/): exhub against dlt and ADBC on a generated PostgreSQL register,
# each method its own process; writes docs/benchmarks.md and docs/benchmarks.json.
BENCH_ROWS ?= 5000000
BENCH_RUNS ?= 3
bench: $(STAMP)
	$(BIN)/python -m bench --rows $(BENCH_ROWS) --runs $(BENCH_RUNS)

# 200k rows, one run, its own database; reports but asserts no timing.
bench-quick: $(STAMP)
	BENCH_PG_DATABASE=exhub_bench_quick $(BIN)/python -m bench --quick \
		--out-md .exhub/bench-quick/benchmarks.md --out-json .exhub/bench-quick/benchmarks.json

# Airflow 3 on this machine (`airflow standalone`: scheduler, DAG processor, API server and
# triggerer, LocalExecutor) with the hub's DAGs from dags/ and the embedded SQLite catalog.
# DAGs come from sources/*.yaml, or else from the demo's legacy systems (generated once under
# .exhub/demo). Pools are synced from max_connections first. Log in at http://localhost:8080
# as admin; the password is in .exhub/airflow/simple_auth_manager_passwords.json.generated.
EXHUB_SOURCES ?= $(if $(wildcard sources/*.yaml),$(CURDIR)/sources,$(CURDIR)/.exhub/demo/sources)
AIRFLOW_ENV := PATH=$(CURDIR)/$(BIN):$$PATH EXHUB_HOME=$(CURDIR) EXHUB_SOURCES_DIR=$(EXHUB_SOURCES) \
	AIRFLOW_HOME=$(CURDIR)/.exhub/airflow AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags \
	AIRFLOW__CORE__LOAD_EXAMPLES=False
airflow: $(STAMP)
	@test -n "$(wildcard $(EXHUB_SOURCES)/*.yaml)" || $(BIN)/python -c \
		"from pathlib import Path; from exhub.demo.world import build_world; build_world(Path('.exhub/demo'))"
	$(AIRFLOW_ENV) $(BIN)/airflow db migrate
	$(AIRFLOW_ENV) $(BIN)/python -m exhub.airflow.pools
	$(AIRFLOW_ENV) $(BIN)/airflow standalone

# Regenerates the locks after a change to pyproject.toml (needs uv: `pip install uv`): the
# development lock, then the production image's, the same pins without the dev and bench extras.
lock:
	uv pip compile pyproject.toml --extra dev --extra bench --extra celery --python-version 3.11 --generate-hashes --no-header -o requirements.lock
	uv pip compile pyproject.toml deploy/image-build.in --extra celery --python-version 3.11 --generate-hashes --no-header -c requirements.lock -o requirements-image.lock

clean:
	rm -rf $(VENV) .exhub
