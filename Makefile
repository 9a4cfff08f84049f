# The README's commands. Each sets up what it needs on a fresh machine (Rust + python3).
.PHONY: setup demo test build bench fuzz

setup:  ## make the Python venv (moto server, cargo-lambda, zig; pinned)
	scripts/bootstrap.sh

demo:   ## seed a local AWS emulator with a demo account and run the scheduled Lambda on it
	scripts/demo.sh

test:   ## fmt, clippy -D warnings, every unit and integration test
	scripts/test.sh

build:  ## the deployable arm64 zips (cargo lambda + zig), with their sizes
	scripts/build.sh

bench:  ## criterion on the pure core, then side by side with Cloud Custodian -> BENCHMARKS.md
	scripts/bench.sh

fuzz:   ## coverage-guided fuzzing (AFL++) of the report and event parsers; FUZZ_SECONDS per target
	scripts/fuzz.sh $(FUZZ_SECONDS)
