# The bot's commands. On a fresh machine: `make serve` (install and run) or `make check`
# (install and run every check and test). Each target installs what it needs first.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The optional dependencies installed with the bot: the test tools, except in the image.
EXTRAS ?= [test]

.PHONY: install install-test catalogs serve chat test lint typecheck check extract benchmark audit lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools

# Every install takes the versions in constraints.txt (`make lock` refreshes them).
$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet --constraint constraints.txt -e '.$(EXTRAS)'
	touch $(STAMP)

install: $(STAMP) catalogs

catalogs: $(STAMP)
	$(BIN)/pybabel compile --domain messages --directory locales --statistics

serve: install
	$(BIN)/python -m bot serve

chat: install
	$(BIN)/python -m bot chat

test: install
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check bot tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

# Re-extract the message template and merge it into every catalog (then translate).
extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output \
		--project=xoobay-support-bot --msgid-bugs-address=help@xoobay.com \
		-o locales/messages.pot .
	$(BIN)/pybabel update -i locales/messages.pot -d locales --no-fuzzy-matching --ignore-obsolete

benchmark: install
	$(BIN)/python benchmarks/langid.py

# Known vulnerabilities of every installed package: pip-audit, in a venv of its own, asks
# PyPI's JSON API, through scripts/pip-audit-mirror (a mirror without release pages); it
# fails on a vulnerable package and lists the releases it could not audit.
AUDIT := $(VENV)-audit
audit: $(STAMP)
	test -x $(AUDIT)/bin/pip-audit || ($(PYTHON) -m venv $(AUDIT) && $(AUDIT)/bin/pip install --quiet pip-audit)
	$(AUDIT)/bin/python scripts/pip-audit-mirror --skip-editable \
		--path "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"

# constraints.txt anew: the newest releases pyproject.toml admits, in a venv of their own.
LOCK := $(VENV)-lock
lock:
	rm -rf $(LOCK) && $(PYTHON) -m venv $(LOCK)
	$(LOCK)/bin/pip install --quiet --upgrade pip && $(LOCK)/bin/pip install --quiet -e '.[test]'
	{ sed -n '/^#/p' constraints.txt; \
	  $(LOCK)/bin/pip freeze --exclude-editable --all | grep -v -E '^(pip|setuptools|wheel)=='; \
	} >constraints.txt.new && mv constraints.txt.new constraints.txt && rm -rf $(LOCK)

clean:
	rm -rf $(VENV) $(AUDIT) data .pytest_cache .mypy_cache .ruff_cache
	find locales -name '*.mo' -delete
