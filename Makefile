# Hài Lòng: `make run` to serve the demo, `make test` to run the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
STAMP  := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)
AXE    := node_modules/axe-core/axe.min.js
MO     := $(patsubst %.po,%.mo,$(wildcard survey_app/translations/*/LC_MESSAGES/messages.po))

# Without SECRET_KEY the app keeps a development key in instance/secret_key (made once,
# mode 0600), so logins survive a restart; production (HAILONG_ENV=production) needs SECRET_KEY.

.PHONY: setup run test translations-extract clean

setup: $(STAMP) $(MO) $(AXE)

# axe-core for the accessibility checks in the browser tests (test-only; package-lock.json pins it).
$(AXE): package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile -i $< -o $@ -l $(word 3,$(subst /, ,$<)) --statistics

run: setup
	$(BIN)/flask --app wsgi db upgrade heads
	$(BIN)/flask --app wsgi instruments load
	$(BIN)/flask --app wsgi demo load --base-url http://127.0.0.1:$(PORT)
	@echo "Serving on http://127.0.0.1:$(PORT) (Ctrl-C to stop)"
	@# Rate limits in the local Redis if it answers (2 workers), else in memory (1 worker, 4
	@# threads): gunicorn.conf.py decides and logs which. RATELIMIT_TRY_REDIS= turns the try off.
	@# The job worker (alerts, e-mail, rollups: survey_app/jobs.py) beside gunicorn; stopping
	@# make run (Ctrl-C, or TERM) stops both.
	$(BIN)/flask --app wsgi jobs worker & worker=$$!; \
	  trap 'kill -TERM $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	  RATELIMIT_TRY_REDIS="$${RATELIMIT_TRY_REDIS-redis://127.0.0.1:6379/0}" \
	  $(BIN)/gunicorn --config gunicorn.conf.py --bind 127.0.0.1:$(PORT) wsgi:app

# Two processes (pytest-xdist, one per core) for the tests that are not timing-sensitive; then
# the fault tests (marked slow: their own PostgreSQL cluster, Redis, gunicorn) one at a time.
# Every test already works in its own schema, temporary folder, port and Redis key prefix.
test: setup
	$(BIN)/python -m pytest -n 2 -m "not slow" $(PYTEST_ARGS)
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

# After changing user-facing text: extract and merge into the catalogs, then translate.
translations-extract: setup
	$(BIN)/pybabel extract -F babel.cfg -k _l --no-wrap -o survey_app/translations/messages.pot .
	$(BIN)/pybabel update --no-wrap -i survey_app/translations/messages.pot -d survey_app/translations

clean:
	rm -rf $(VENV) instance .pytest_cache
