# Two commands for a newcomer: `make run` and `make test` (see README).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-nodeps.txt dooragent/pyproject.toml | sha256sum | cut -c1-12)

.PHONY: run test fuzz slow-clients image-bombs prod-local topology-bench install browser nginx mosquitto promtool check-deploy clean lint

install: $(STAMP)

$(STAMP): requirements.txt requirements-nodeps.txt dooragent/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	# facenet-pytorch pins torch<2.3, numpy<2, pillow<10.3: install it without them.
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	# The door agent (dooragent/, its own package; its dependencies are pinned in requirements.txt).
	$(PY) -m pip install --quiet --no-deps -e ./dooragent
	rm -f $(VENV)/.installed-*
	touch $@

.env: | $(STAMP)
	$(PY) -m justface.envfile .env

run: $(STAMP) .env
	$(PY) manage.py install_face_model
	$(PY) manage.py migrate --noinput
	PORT=$(PORT) $(PY) manage.py seed_demo $(DEMO_ARGS)
	@# The background worker (door-photo purge) in its own process group, so Ctrl-C reaches only
	@# the web server; then the worker's main process alone is told to stop, whether the server
	@# ends by itself or by Ctrl-C (INT), a closed terminal (HUP) or kill (TERM).
	setsid $(PY) manage.py qcluster & QPID=$$!; \
	trap 'kill $$QPID 2>/dev/null; wait $$QPID 2>/dev/null' EXIT; trap 'exit 130' INT HUP TERM; \
	PORT=$(PORT) $(PY) manage.py runserver 127.0.0.1:$(PORT)

test: $(STAMP) browser nginx mosquitto promtool
	$(PY) manage.py install_face_model --settings=config.settings_test
	$(PY) -m pytest $(PYTEST_ARGS)

# Release check (README, Hardening): the schema fuzz with 300 cases per operation and both modes
# (~4,000 requests, ~1.5 min here) and the endpoint x role matrix; the suite runs a small fuzz.
fuzz: $(STAMP)
	$(PY) manage.py install_face_model --settings=config.settings_test
	JUSTFACE_FUZZ_EXAMPLES=$${JUSTFACE_FUZZ_EXAMPLES:-300} $(PY) -m pytest -s -p no:cacheprovider $(PYTEST_ARGS) \
		tests/justface/test_schema_fuzz.py tests/justface/test_endpoint_matrix.py

# The production recipe under slow clients (README, Hardening): gunicorn alone, then behind nginx
# with deploy/nginx/'s settings; needs PostgreSQL (DATABASE_URL's server) and the face photos.
slow-clients: $(STAMP) nginx
	$(PY) bench/slow_clients.py $(BENCH_ARGS)

# Worker memory under image bombs on every image endpoint (README, Hardening). Needs PostgreSQL.
image-bombs: $(STAMP)
	$(PY) bench/image_bombs.py $(BENCH_ARGS)

# The production topology on this machine (docs/operations.md): nginx with a self-signed certificate
# in front of two web nodes, two django-q2 clusters, PostgreSQL (DATABASE_URL) and Redis. Ctrl-C stops all.
prod-local: $(STAMP) nginx
	$(PY) deploy/prod_local.py $(PROD_LOCAL_ARGS)

# The same topology under faults (a node killed, a cluster killed mid-purge) and gallery sizes (README).
topology-bench: $(STAMP) nginx
	$(PY) bench/topology_bench.py $(BENCH_ARGS)

# Debian packages the tests and benches drive for real: `$(call debian,COMMAND,PACKAGE)` installs
# PACKAGE when COMMAND is missing (as root; otherwise it says what to install and fails).
debian = command -v $(1) >/dev/null || [ -x /usr/sbin/$(1) ] || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; } || { echo "Install Debian's $(2) (apt-get install $(2)): the tests need $(1)."; exit 1; }

# nginx (the production recipe's load balancer; run in the foreground on loopback ports by the tests
# and benches, never as a service) and systemd-analyze (verifies the systemd units).
nginx:
	@$(call debian,nginx,nginx-light)
	@$(call debian,systemd-analyze,systemd)

# The alert rules' unit tests (deploy/prometheus/tests/) run Prometheus's own promtool.
promtool:
	@$(call debian,promtool,prometheus)

# The door agent's MQTT tests start their own mosquitto in the foreground on a free loopback port
# (Debian's package also starts a service on 127.0.0.1:1883; the tests do not use it).
mosquitto:
	@$(call debian,mosquitto,mosquitto)

# Browser tests drive Debian's chromium (Playwright's own browser download is not used).
browser:
	@$(call debian,chromium,chromium)

# ruff's layout, pyflakes checks, line length and import order; the apps' layers and the plain face library as import contracts (pyproject.toml).
lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

check-deploy: $(STAMP)
	DJANGO_DEBUG=0 $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
