# gridwatch developer commands. The two that matter on a fresh machine:
#   make demo   generate demo media and a demo model, run the pipeline, print the alerts
#   make test   install what the tests need (Kafka jars, RTSP server, venv) and run them all
# Large artefacts (venv, Kafka jars, exported models) are cached in $(GRIDWATCH_CACHE).

GRIDWATCH_CACHE ?= $(HOME)/.cache/gridwatch
export GRIDWATCH_CACHE
PY = $(GRIDWATCH_CACHE)/venv/bin/python
RUN = PYTHONPATH=$(CURDIR) $(PY)

.PHONY: setup demo test test-fast lint typecheck check bench clean kafka-up kafka-down

setup:
	@deploy/dev/bootstrap.sh >/dev/null
	@deploy/kafka/kafka-dev.sh fetch

demo: setup
	$(RUN) -m gridwatch demo

test: setup
	$(RUN) -m pytest -q -m "not soak" --durations=15

test-fast: setup
	$(RUN) -m pytest -q -m "not soak and not integration and not slow"

lint: setup
	$(PY) -m ruff check .

typecheck: setup
	$(RUN) -m mypy

check: lint typecheck test

bench: setup
	$(RUN) -m gridwatch bench all --out var/bench

kafka-up: setup
	@deploy/kafka/kafka-dev.sh start var/kafka 9092

kafka-down:
	@deploy/kafka/kafka-dev.sh stop var/kafka

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
