# The two commands a user needs: `make demo` and `make test`. Both install what
# is missing first (apt packages via sudo, a virtualenv at .venv).
PY := .venv/bin/python
PYTEST_ARGS ?=

.PHONY: demo test bench lint bootstrap clean install uninstall

bootstrap:
	@scripts/bootstrap.sh

demo: bootstrap
	$(PY) -m simulation.demo

test: bootstrap
	$(PY) -m pytest $(PYTEST_ARGS)

bench: bootstrap
	$(PY) -m bench.run

# ruff, and the floor plan (import-linter contracts in setup.cfg; tests/test_floors.py runs them too).
lint: bootstrap
	.venv/bin/ruff check .
	.venv/bin/lint-imports

clean:
	rm -rf .venv .pytest_cache .ruff_cache *.egg-info

# The kiosk as a service (system user, /opt/kiosk/venv, /etc/kiosk, /var/lib/kiosk, unit, udev,
# modprobe; see docs/operations.md). `make uninstall` keeps config and outbox unless PURGE=1.
install:
	@scripts/install.sh

uninstall:
	@scripts/uninstall.sh
