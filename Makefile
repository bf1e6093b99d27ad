# `make demo` sets everything up and ingests the bundled samples; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export GX_ANALYTICS_ENABLED ?= false

.PHONY: demo test install suites docs office server worker deploy accuracy bench

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) office

# LibreOffice reads .doc and .wps; installed where the machine allows (root with apt), else those
# documents come out unreadable with that reason and their tests skip. The CJK font lets it lay
# out the Chinese reports `make accuracy` scans.
office:
	@command -v soffice >/dev/null || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] \
	  && timeout 900 sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libreoffice-writer-nogui fonts-wqy-microhei >/dev/null' \
	  && echo "installed LibreOffice"; } \
	  || echo "LibreOffice is not installed: .doc and .wps documents will be unreadable"

# The samples hold an invalid and an unreadable report on purpose: exit code 1 is the expected outcome.
demo: $(STAMP) office
	$(BIN)/nianbao ingest data/samples --out data/warehouse || test $$? -eq 1

test: $(STAMP) office
	$(BIN)/python -m pytest

# Regenerate the Great Expectations suites in expectations/ from nianbao/template.toml.
suites: $(STAMP)
	$(BIN)/python -m nianbao.validate

# Regenerate docs/DATA_DICTIONARY.md from the schema and the template.
docs: $(STAMP)
	$(BIN)/python -m nianbao.dictionary

# Operating a year: a local Prefect server and UI (http://127.0.0.1:4200), a worker, the deployments.
POOL := nianbao-process
server: $(STAMP)
	$(BIN)/prefect server start --host 127.0.0.1 --port 4200

worker: $(STAMP) office
	$(BIN)/prefect worker start --pool $(POOL) --type process

deploy: $(STAMP)
	@test -n "$$PREFECT_API_URL" || { echo "set PREFECT_API_URL (e.g. http://127.0.0.1:4200/api)"; exit 2; }
	$(BIN)/prefect work-pool inspect $(POOL) >/dev/null 2>&1 || $(BIN)/prefect work-pool create $(POOL) --type process
	$(BIN)/prefect --no-prompt deploy --all

# Cell accuracy and report exactness per format over a generated corpus (exits 1 below 100%).
accuracy: $(STAMP) office
	$(BIN)/python tests/accuracy.py
	$(BIN)/python tests/accuracy_scans.py

# Benchmarks print figures and assert nothing: extraction alone, then the whole pipeline.
bench: $(STAMP)
	$(BIN)/python bench/extract_bench.py
	$(BIN)/python bench/ocr_bench.py
	$(BIN)/python bench/pipeline_bench.py --n $(or $(N),1000)
