# One way to build, one way to test (see README.md). tools/setup.sh finds or installs the
# toolchain and the sched_ext test kernels first; it is quick when everything is there.
SHELL := /bin/bash
MVN := JAVA_HOME=$$(. tools/lib.sh && find_jdk) ./mvnw -B -ntp

.PHONY: all setup build test demo bench clean

all: build

setup:
	@bash tools/setup.sh

build: setup
	$(MVN) -q package -DskipTests

# Unit tests, host BPF tests, then the VM integration tests (failsafe) on a real sched_ext kernel.
test: setup
	$(MVN) verify

demo: build
	@bash integration-tests/demo.sh $(DEMO_ARGS)

# Figures, not assertions: prints a table and writes target/bench/*.json. Runs natively (root).
bench: build
	@bash integration-tests/bench/event-path.sh
	@bash integration-tests/bench/policy-tick.sh
	@bash integration-tests/bench/event-path-vm.sh
	@bash integration-tests/bench/bpf-hotpath.sh
	@bash integration-tests/bench/general-workloads.sh

clean:
	$(MVN) -q clean
	$(MAKE) -C bpf clean
