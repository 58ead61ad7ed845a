# Everything needs only python3 (and npm for buf); the venv is made on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BUF := .tools/node_modules/.bin/buf
NODE_CLIENT := clients/node/node_modules/.package-lock.json
# The released API: `buf breaking` holds protos/ to it. Replace it only on purpose
# (make api-baseline), with a new major version when a change must break.
API_BASELINE := api-baseline/graphrestore-v1.binpb
# make run installs what running needs (RUN_STAMP); make test and the rest add the dev
# toolchain on top (STAMP), in the same venv.
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed
# The kustomize base and every overlay, each validated as kustomize renders it.
K8S_BUILDS := deploy/kubernetes/base $(wildcard deploy/kubernetes/overlays/*)
K8S_VERSION := 1.30.0

.PHONY: install proto run test test-floors lint bench bench-day bench-sdk chaos image image-test lock clean api-baseline

install: $(STAMP)

$(RUN_STAMP): pyproject.toml clients/python/pyproject.toml emulator/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e 'clients/python[cli]' -e emulator -e '.[try]'
	touch $@

$(STAMP): $(RUN_STAMP)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(BUF):
	npm install --silent --no-audit --no-fund --prefix .tools @bufbuild/buf@1

# The Node client's dependencies; npm ci also builds its dist/ (its prepare script).
$(NODE_CLIENT): clients/node/package.json clients/node/package-lock.json
	npm ci --silent --no-audit --no-fund --prefix clients/node

proto: $(STAMP) $(NODE_CLIENT)
	$(BIN)/python tools/gen_stubs.py clients/python
	rm -rf clients/node/src/generated
	$(BIN)/python tools/gen_stubs.py --node clients/node/src/generated

run: $(RUN_STAMP)
	$(BIN)/python tools/run_dev.py

# Six workers on two cores: a system test mostly waits on its processes (load about 1 in a
# serial run). worksteal: an idle worker takes tests queued behind a long one.
TEST_WORKERS ?= 6

test: $(STAMP) $(BUF) $(NODE_CLIENT)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal

# The client installed at its dependency floors in a throwaway venv (a minute of pip).
test-floors: $(STAMP)
	$(BIN)/python -m pytest tests/floors

lint: $(STAMP) $(BUF) $(NODE_CLIENT)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	npm run --silent --prefix clients/node typecheck
	$(BUF) lint
	$(BUF) breaking --against $(API_BASELINE)
	$(BIN)/hadolint Dockerfile
	@rendered=$$(mktemp) && trap 'rm -f "$$rendered"' EXIT && for build in $(K8S_BUILDS); do \
	  echo "kubectl kustomize $$build | kubernetes-validate" && \
	  $(BIN)/kubectl kustomize "$$build" > "$$rendered" && \
	  $(BIN)/kubernetes-validate --strict --quiet -k $(K8S_VERSION) "$$rendered" || exit 1; \
	done

bench: $(STAMP)
	$(BIN)/python tests/bench/bench_create.py
	$(BIN)/python tests/bench/bench_flood.py

# The bad day at tenant scale on the realistic emulator: time over the floor, calls over
# the minimum (minutes of wall time; both cores busy).
bench-day: $(STAMP)
	$(BIN)/python tests/bench/bench_day.py

# msgraph-sdk is large: it lives in a throwaway venv, made and removed by each run.
bench-sdk: $(STAMP)
	@sdk_venv=$$(mktemp -d) && trap 'rm -rf "$$sdk_venv"' EXIT && \
	$(PYTHON) -m venv "$$sdk_venv" && \
	"$$sdk_venv/bin/pip" install --quiet 'msgraph-sdk>=1.65,<2' && \
	$(BIN)/python tests/bench/bench_sdk.py "$$sdk_venv/bin/python"

chaos: $(STAMP)
	$(BIN)/python tests/bench/chaos_run.py

# podman as root; the Dockerfile's base is made from Debian packages when missing.
image: lint
	tools/build_image.sh

# Builds the image and runs it: uid 10001, read-only, mTLS, records kept across a restart.
image-test: $(STAMP)
	$(BIN)/python -m pytest tests/system/test_image.py

# The image's dependencies (requirements.in) pinned with hashes; pins already in
# requirements.lock are kept unless pyproject.toml's ranges exclude them.
lock: $(STAMP)
	$(BIN)/uv pip compile requirements.in --quiet --generate-hashes \
		--python-version 3.11 --python-platform linux \
		--no-emit-package graphrestore-client --no-emit-package graphrestore-gateway \
		--custom-compile-command "make lock" --output-file requirements.lock

api-baseline: $(BUF)
	$(BUF) build -o $(API_BASELINE)

clean:
	rm -rf $(VENV) .tools .state clients/node/node_modules clients/node/dist
