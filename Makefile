# The front door. A fresh machine needs python3 (3.10+) with venv, and a Rust toolchain.
#   make setup   virtual environment in .venv, dependencies (torch too, for the depth tests),
#                the Rust extension (release)
#   make demo    render the bundled example photo into out/
#   make test    cargo test, type checks, pytest
#   make bench   benchmarks (pytest-benchmark; `cargo bench` for the Rust core)

VENV ?= .venv
PYTHON := $(VENV)/bin/python
PIP := $(PYTHON) -m pip

.PHONY: setup build demo test bench example clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip 'maturin>=1.16,<2'
	$(PIP) install --quiet --no-build-isolation -e '.[test,depth]'
	touch $@

# Rebuilds the Rust extension when its sources changed (cargo decides what to redo).
build: setup
	$(PIP) install --quiet --no-deps --no-build-isolation -e .

demo: build
	$(PYTHON) examples/demo.py

test: build
	cargo test -p dofcore-core -- --skip fuzz
	cargo test -p dofcore-core fuzz -- --show-output
	$(PYTHON) -m mypy
	$(PYTHON) -m mypy.stubtest dofcore._dofcore
	$(PYTHON) -m pytest

bench: build
	$(PYTHON) -m pytest benches -o python_files='bench_*.py' --benchmark-only \
		--benchmark-columns=min,median,max,rounds --benchmark-sort=name

# Re-make examples/ with the path tracer (the dev extra: Mitsuba 3); minutes on two cores.
example: setup
	$(PIP) install --quiet -e '.[dev]'
	cd examples && ../$(PYTHON) make_example.py

clean:
	rm -rf $(VENV) target out .pytest_cache .hypothesis .benchmarks .mypy_cache
