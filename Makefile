# Two commands for a newcomer: `make demo` and `make test`. Each bootstraps .venv from pyproject.toml.
PYTHON ?= python3
# The ETSI NGSI-LD conformance suite and its runner live beside the project (docs/CONFORMANCE.md).
CONFORMANCE_RUN ?= ../shared/conformance/run
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench conformance clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/cic demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

# Every area of the ETSI suite against fresh in-memory brokers (~10 min), then the ratchet:
# fails when an area passes fewer tests than conformance/passed.json records.
conformance: $(STAMP)
	CIC_TEMPORAL_INSTANCE_LIMIT=19 $(CONFORMANCE_RUN)  # the suite's paging tests need 20 instances paged, 5 not
	$(BIN)/python -m tests.conformance_ratchet

bench: $(STAMP)
	$(BIN)/python -m bench.broker
	$(BIN)/python -m bench.stall
	$(BIN)/python -m bench.scale
	$(BIN)/python -m bench.ocpi
	$(BIN)/python -m bench.parking
	$(BIN)/python -m bench.forecast
	$(BIN)/python -m bench.forecast_real
	$(BIN)/python -m bench.growth
	$(BIN)/python -m bench.planning

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
