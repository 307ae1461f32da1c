# The two commands a newcomer needs: `make demo` and `make test`.
# Both set up everything themselves (virtualenv, packages, system tools).

VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint venv clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	scripts/bootstrap.sh $(VENV)
	touch $@

demo: venv
	$(VENV)/bin/edgemesh demo

test: venv
	scripts/test.sh $(VENV)

lint: venv
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
