# The two commands a user needs: `make demo` and `make test`. Both install what
# is missing first (apt packages via sudo, a virtualenv at .venv).
PY := .venv/bin/python
PYTEST_ARGS ?=

.PHONY: demo test bench lint bootstrap clean

bootstrap:
	@scripts/bootstrap.sh

demo: bootstrap
	$(PY) -m kiosk.demo

test: bootstrap
	$(PY) -m pytest $(PYTEST_ARGS)

bench: bootstrap
	$(PY) -m bench.run

lint: bootstrap
	.venv/bin/ruff check .

clean:
	rm -rf .venv .pytest_cache .ruff_cache *.egg-info
