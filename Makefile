# Two commands matter (see README): `make demo` and `make test`. Both create the
# virtual environment and install what they need on first use: `make demo` the base
# install (no PyTorch), `make test` everything (the EasyOCR extra and the dev tools).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
BASE_STAMP := $(VENV)/.installed-base
STAMP := $(VENV)/.installed
DEMO_OUT ?= demo-output
PYTEST_ARGS ?=

.PHONY: constraints demo test install install-base system-deps lint typecheck unit eval eval-quick bench bench-quick reliability-long fuzz clean help

help:
	@echo "make demo    redact the bundled sample images into $(DEMO_OUT)/ (no server needed)"
	@echo "make test    install everything, then lint, type-check and run the whole test suite"
	@echo "make eval    quality figures on the generated corpus (minutes)"
	@echo "make bench   speed figures and peers side by side (minutes); bench-quick: small"
	@echo "make reliability-long   the long fault-injection variants (400 jobs, 20 Redis kills; tens of minutes)"
	@echo "make fuzz    coverage-guided fuzzing of decode-and-sanitise (FUZZ_SECONDS, default 600)"
	@echo "make install-base   the base install only (no PyTorch); install: everything"
	@echo "make lint | typecheck | unit | constraints | clean"

$(BASE_STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	$(BIN)/python -m pip check
	$(BIN)/redactor models verify > /dev/null
	touch $(BASE_STAMP)

$(STAMP): $(BASE_STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[easyocr,dev]'
	$(BIN)/python -m pip check
	$(BIN)/redactor models verify > /dev/null
	touch $(STAMP)

install-base: $(BASE_STAMP)

install: $(STAMP)

system-deps:
	bash scripts/system-deps.sh

demo: $(BASE_STAMP)
	$(BIN)/redactor redact samples --out $(DEMO_OUT)
	@echo "Redacted copies and redactor-report.json are in $(DEMO_OUT)/"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q $(PYTEST_ARGS)

test: $(STAMP) system-deps lint typecheck
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(DEMO_OUT) .mypy_cache .ruff_cache .pytest_cache test-artifacts

constraints: $(STAMP)
	{ echo '# The full resolved dependency set, installed with `pip install -c constraints.txt`.'; \
	  echo '# Regenerate after changing pyproject.toml: `make constraints`.'; \
	  $(BIN)/pip freeze --exclude-editable | grep -v '^redactor'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

eval: $(STAMP)
	$(BIN)/python -m bench.eval

bench: $(STAMP)
	$(BIN)/python -m bench.speed
	$(BIN)/python -m bench.peers

eval-quick: $(STAMP)
	$(BIN)/python -m bench.eval --quick

bench-quick: $(STAMP)
	$(BIN)/python -m bench.speed --quick
	$(BIN)/python -m bench.peers --quick

reliability-long: $(STAMP) system-deps
	REDACTOR_LONG_RELIABILITY=1 $(BIN)/python -m pytest -q -m reliability tests/reliability

FUZZ_SECONDS ?= 600
fuzz: $(STAMP)
	$(BIN)/python -m bench.fuzz --seconds $(FUZZ_SECONDS)
