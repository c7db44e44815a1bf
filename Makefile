# Two commands do everything on a fresh machine:
#   make demo   set up, then run the main job on the bundled demo mailbox
#   make test   set up, then run ruff, mypy and the tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SUM    := $(shell cksum pyproject.toml | cut -d' ' -f1)
# Two stamps: `make demo` installs only what the program needs, `make test` adds the test
# tools. Each stamp names the pyproject.toml it was made from, so a changed file reinstalls.
STAMP      := $(VENV)/.installed-app-$(SUM)
TEST_STAMP := $(VENV)/.installed-test-$(SUM)

.PHONY: demo test lint bench clean

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 oder neuer nötig"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install -q -e .
	rm -f $(VENV)/.installed-app-*
	touch $(STAMP)

$(TEST_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-app-* $(VENV)/.installed-test-*
	touch $(STAMP) $(TEST_STAMP)

demo: $(STAMP)
	$(BIN)/jugendhaus-mail demo --dir demo

lint: $(TEST_STAMP)
	$(BIN)/ruff check jugendhaus_mail tests bench
	$(BIN)/ruff format --check jugendhaus_mail tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

bench: $(TEST_STAMP)
	$(BIN)/python bench/bench_workbook.py
	$(BIN)/python bench/bench_poll.py
	$(BIN)/python bench/bench_intake.py

clean:
	rm -rf $(VENV) demo build dist .pytest_cache .mypy_cache .ruff_cache
