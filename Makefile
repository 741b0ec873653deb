# The two commands (see README.md). Everything else lives in scripts/.
.PHONY: run test setup train benchmark clean
run:        ## set up and run the assistant
	bash scripts/run.sh
test:       ## set up and run every test
	bash scripts/test.sh
setup:      ## set up only (virtualenv, packages, spaCy pipeline)
	bash scripts/setup.sh test
train:      ## retrain even if nothing changed
	bash -c 'source scripts/env.sh && .venv/bin/python scripts/train_if_changed.py --force'
benchmark:  ## print latency, memory and safety figures (servers started by the scripts)
	bash -c 'source scripts/env.sh && .venv/bin/python benchmarks/bench_load.py && .venv/bin/python benchmarks/bench_rest.py && .venv/bin/python benchmarks/bench_safety.py && .venv/bin/python benchmarks/bench_entities.py'
clean:      ## remove everything set-up and training produced
	rm -rf .venv build models results var
