# The two commands (README.md): `make run` and `make test`. Everything else lives in
# scripts/. `make help` lists the targets.
.DEFAULT_GOAL := help
.PHONY: help run test check setup train benchmark clean

help:       ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
run:        ## set everything up and run the assistant: servers, web chat page, staff inbox
	bash scripts/run.sh
test:       ## set everything up and run every test (40-50 minutes from a clean clone: docs/testing.md)
	bash scripts/test.sh
check:      ## the fast inner loop: lint, types and unit tests (no training, no servers)
	bash scripts/test.sh check
setup:      ## set up only (virtualenv, packages, spaCy pipeline, web chat client)
	bash scripts/setup.sh test
train:      ## retrain even if nothing changed
	bash -c 'source scripts/env.sh && .venv/bin/python scripts/train_if_changed.py --force'
benchmark:  ## print latency, memory, understanding and safety figures (starts its own servers)
	bash -c 'source scripts/env.sh && .venv/bin/python benchmarks/bench_load.py && .venv/bin/python benchmarks/bench_rest.py && .venv/bin/python benchmarks/bench_safety.py && .venv/bin/python benchmarks/bench_entities.py'
clean:      ## remove everything set-up and training produced
	rm -rf .venv build models results var
