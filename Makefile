# Two commands do everything on a fresh Debian machine: `make run` and `make test`.
SWIFT := $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
CONFIG ?= config.ini

.PHONY: all deps build release run test clean

all: build

deps:
	@scripts/ensure-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# Builds in release mode and serves share/ on 127.0.0.1:8912 with the shipped config.ini (Ctrl-C stops).
run: release
	.build/release/ferryd --config $(CONFIG)

# Builds everything, tests included, then runs every test.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

clean:
	rm -rf .build
