# The two commands a newcomer needs: `make serve` and `make test`. Both create .venv when it is
# missing, install the package and the default model pack (cached: a second run reuses them).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.openfrs-installed

HOST ?= 127.0.0.1
PORT ?= 8080
DATA ?= ./data

.PHONY: serve test install models system-packages bench bench-search eval lint clean

# Debian packages the tests run for real, by pinned version (apt checks each against the signed
# archive index): HAProxy in front of two replicas (docs/deploy/haproxy.cfg, tests/test_replicas.py);
# Chromium, its driver and a CJK font for the console tests (tests/console/).
DEBIAN_PACKAGES := haproxy=2.6.12-1+deb12u4 chromium=156.0.8078.114-1~deb12u1 chromium-driver=156.0.8078.114-1~deb12u1 fonts-wqy-microhei=0.2.0-beta-3.1
APT_INSTALL := DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "OpenFRS needs Python 3.11 (requirements.lock is for CPython 3.11 on linux x86_64); set PYTHON=")'
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
	$(BIN)/openfrs serve --host $(HOST) --port $(PORT) --data-dir $(DATA)

# The whole suite on the embedded default, then the API tests again in scale-out mode: PostgreSQL
# (127.0.0.1:5432 must be running, as on the CI machine) + a Milvus server the tests start.
# Installs only the packages not already there at exactly their pinned version.
system-packages:
	@missing=$$(for pin in $(DEBIAN_PACKAGES); do \
		[ "$$(dpkg-query -W -f='$${Version}' "$${pin%%=*}" 2>/dev/null)" = "$${pin#*=}" ] || echo "$$pin"; done); \
	if [ -n "$$missing" ]; then $(APT_INSTALL) $$missing || (apt-get update -q && $(APT_INSTALL) $$missing); fi

test: models system-packages
	$(BIN)/python -m pytest -q
	$(BIN)/python -m pytest -q tests/api --backend scaleout

lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools

# Peer library for side-by-side benchmarks: face_recognition on the dlib-bin wheel (no compiler).
bench: models
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r requirements-bench.lock
	mkdir -p bench/out
	$(BIN)/openfrs bench --json bench/out/bench.json
	$(BIN)/python bench/detection_eval.py --json bench/out/detection.json

# 1:N search at 100k and 1M synthetic faces, embedded (SQLite + faiss) and scale-out (PostgreSQL at
# 127.0.0.1:5432 + a Milvus it starts), plus LFW identification (docs/benchmarks.md: duration).
bench-search: models
	mkdir -p bench/out
	$(BIN)/openfrs bench search --backend both --json bench/out/search.json

eval: models
	mkdir -p bench/out
	$(BIN)/openfrs eval verification --json bench/out/verification.json
	$(BIN)/openfrs eval fairness --json bench/out/fairness.json
	$(BIN)/openfrs eval calibrate --json bench/out/calibrate.json
	$(BIN)/openfrs eval attributes --json bench/out/attributes.json
	$(BIN)/openfrs eval liveness --json bench/out/liveness.json

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
