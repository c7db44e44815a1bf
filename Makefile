# Two commands do everything on a fresh machine:
#   make demo   set up, then run the main job on the bundled demo mailbox
#   make test   set up, then run ruff, mypy and the tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 oder neuer nötig"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/jugendhaus-mail demo --dir demo

lint: $(STAMP)
	$(BIN)/ruff check jugendhaus_mail tests bench
	$(BIN)/ruff format --check jugendhaus_mail tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python bench/bench_workbook.py
	$(BIN)/python bench/bench_poll.py

clean:
	rm -rf $(VENV) demo build dist .pytest_cache .mypy_cache .ruff_cache
