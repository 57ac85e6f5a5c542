# The two commands of the README: `make run` opens the app, `make test` runs every layer.
# Both install what is missing first. CI runs `make test` (see .ci/run).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# One feature set and one profile for every cargo step, so the tree compiles once.
CARGO_SELECTION := --workspace --features slipway/custom-protocol
# A test run compiles each crate once: incremental caches would only take disk (gigabytes).
export CARGO_INCREMENTAL := 0
TESTENV_FILE := target/testenv.sh
WITH_TESTENV := set -a; source $(TESTENV_FILE); set +a;
# Every test that needs the test environment fails (instead of skipping) when it is missing.
REQUIRE_TESTENV := export SLIPWAY_TEST_REQUIRE_ENV=1;

.PHONY: run test deps-build deps-test ui testenv lint boundary test-rust test-ui test-down bench icons check-config bundle

run: deps-build node_modules/.installed ui
	cargo run -p slipway --features custom-protocol

test: deps-test node_modules/.installed ui testenv lint boundary bundle test-rust test-ui
	@echo "make test: every layer passed"

deps-build:
	tests/env/install-debian build

deps-test:
	tests/env/install-debian build test
	@command -v tauri-driver >/dev/null || cargo install tauri-driver --version '^2' --locked

node_modules/.installed: package.json package-lock.json
	npm install --no-audit --no-fund
	@touch $@

ui:
	npx vite build

testenv:
	@mkdir -p target
	tests/env/up > $(TESTENV_FILE)

lint: check-config
	cargo fmt --all --check
	npx svelte-check --tsconfig ./tsconfig.json --fail-on-warnings
	cargo clippy $(CARGO_SELECTION) --all-targets -- -D warnings

# The release workflow against GitHub's workflow schema and tauri.conf.json against the
# Tauri CLI's own schema, both offline (check-jsonschema bundles the GitHub schemas).
LINT_VENV := target/venv-lint
$(LINT_VENV)/bin/check-jsonschema:
	python3 -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/pip install -q check-jsonschema==0.39.0
check-config: $(LINT_VENV)/bin/check-jsonschema node_modules/.installed
	$(LINT_VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(LINT_VENV)/bin/check-jsonschema --regex-variant python --schemafile node_modules/@tauri-apps/cli/config.schema.json tauri.conf.json

# The engine crates and the application layer must not depend on Tauri, directly or
# through anything else, and each layer reaches only down: core <- docker <- aws <- app.
# (With those edges in place Cargo refuses the way back as a cycle; this says it plainly.)
ENGINE_LAYERS := slipway-core:slipway-docker slipway-docker:slipway-aws slipway-aws:slipway-app slipway-app:slipway-cli
boundary:
	@for crate in slipway-core slipway-docker slipway-aws slipway-app; do \
	  if cargo tree -p $$crate --edges normal,build,dev --prefix none | grep -E '^tauri'; then \
	    echo "$$crate depends on Tauri (above): move that code to the desktop crate"; exit 1; \
	  else echo "boundary: $$crate has no Tauri in its dependency tree"; fi; \
	done
	@for pair in $(ENGINE_LAYERS); do \
	  crate=$${pair%%:*}; above=$${pair#*:}; \
	  if cargo tree -p $$crate --edges normal,build --prefix none | grep -E "^$$above "; then \
	    echo "$$crate depends on $$above, the layer above it"; exit 1; \
	  else echo "boundary: $$crate does not reach up to $$above"; fi; \
	done

# Engine, CLI and desktop tests, the IPC contract, the bindings drift check and the
# WebDriver tests against the real window (under Xvfb).
test-rust:
	$(REQUIRE_TESTENV) $(WITH_TESTENV) xvfb-run -a --server-args="-screen 0 1280x860x24" cargo test $(CARGO_SELECTION) --no-fail-fast

# (No UI test skips: the flows need only dist/ and Chromium, and fail when either is missing.)
test-ui:
	npx vitest run
	node --test tests/ui/

test-down:
	tests/env/down

# The Linux installer (.deb) from the very binary the tests build: `cargo test --no-run`
# resolves features with the dev-dependencies as `cargo test` does (a plain `cargo build`, or
# `tauri build` of the one package, resolves them apart and compiles much of the tree a second
# time, gigabytes of disk). tests/e2e_bundle.rs unpacks it and opens the installed app.
# (AppImage needs linuxdeploy from GitHub, which this machine cannot reach; the release
# workflow builds it, and the Windows and macOS bundles, with `tauri build`.)
bundle: node_modules/.installed ui
	cargo test $(CARGO_SELECTION) --no-run
	npx tauri bundle --debug --bundles deb --ci

# Every platform's icon from one drawing: icons/make_icons.py draws app-icon.png (1024 px),
# and the Tauri CLI makes the .ico (Windows), .icns (macOS) and PNG sizes from it. The
# results are committed; tests/ui/bundle.test.mjs checks them.
DESKTOP_ICONS := 32x32.png 64x64.png 128x128.png 128x128@2x.png icon.png icon.ico icon.icns
icons: node_modules/.installed
	python3 icons/make_icons.py
	rm -rf target/icons && npx tauri icon icons/app-icon.png -o target/icons
	cd target/icons && cp $(DESKTOP_ICONS) ../../icons/

# Benchmarks (release build; not part of `make test`): prints tables of figures (build,
# deploy, and the Logs view with 100 000 lines in Chromium).
bench: testenv node_modules/.installed
	$(WITH_TESTENV) cargo bench -p slipway-docker --bench build
	$(WITH_TESTENV) cargo bench -p slipway-aws --bench deploy --bench faults --bench balancer
	$(WITH_TESTENV) cargo bench -p slipway-app --bench calls
	npm run bench:ui
