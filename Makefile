# One entry point for people and CI. `make run` and `make test` are the two commands the README opens with.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: install run test lint unit e2e-deps bench bench-deps soak fuzz clean

# the virtualenv is rebuilt when the dependencies change; torch's CPU build goes first, or sentence-transformers
# pulls a multi-GB CUDA build (where no local CPU wheel is found: TORCH_PIP='--index-url https://download.pytorch.org/whl/cpu')
TORCH ?= torch==2.13.0
TORCH_PIP ?=

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH_PIP) '$(TORCH)'
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/ccr start --foreground

lint: install
	$(BIN)/ruff check router classifier tests notebooks data
	$(BIN)/mypy

e2e-deps: install
	$(BIN)/python -m tests.e2e.claude

unit: install
	$(BIN)/pytest -m "not e2e"

test: lint e2e-deps
	$(BIN)/pytest

# the benchmark's load generator and upstream/forwarding proxy come from Debian's packages
bench-deps:
	@{ command -v wrk && { command -v nginx || test -x /usr/sbin/nginx; }; } >/dev/null || \
		{ echo "installing wrk and nginx (Debian packages) for the benchmark"; apt-get install -y -q wrk nginx-light; }

bench: install bench-deps
	$(BIN)/python -m tests.bench

# 1,000 concurrent streams for 10 minutes (SOAK_S=60 for a short run); figures in bench-results/soak.md
SOAK_S ?= 600
soak: install
	$(BIN)/python -m tests.bench.soak --seconds $(SOAK_S)

# coverage-guided fuzzing of the SSE reader, the translators and the passthrough (tests/fuzz/atheris_targets.py);
# not part of `test` or `bench`: it runs for FUZZ_SECONDS, keeps its corpus and any crash input under .fuzz/
FUZZ_SECONDS ?= 300
fuzz: install
	$(BIN)/pip install --quiet atheris
	$(BIN)/python -m tests.fuzz.atheris_targets -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .fuzz
