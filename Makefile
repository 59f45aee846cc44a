# Two commands do everything on a fresh Debian machine: `make run` and `make test`.
SWIFT := $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
CONFIG ?= config.ini

.PHONY: all deps build release run test test-large clean

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

# Builds everything, tests included, then runs every test, then a 30-second soak (soak-short below).
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(SOAK_SHORT)

# The soak (bench/README.md): 200 clients and a trickle of `ferry` binaries against one release ferryd
# for SOAK_SECONDS (default 300); fails if a byte differs, a stored file is lost, or ferryd's memory,
# descriptors or threads grow. Builds into .build-soak; the samples go to .build-soak/soak-samples.csv.
.PHONY: soak soak-short
soak: deps
	$(SWIFT) build -c release --scratch-path .build-soak
	SOAK_CSV="$${SOAK_CSV:-.build-soak/soak-samples.csv}" bench/soak.sh .build-soak/release

# The short soak that ends make test: 60 clients for 30 s, with the debug binaries make test built.
SOAK_SHORT = SOAK_SECONDS=30 SOAK_CLIENTS=60 SOAK_SAMPLE_SECONDS=2 SOAK_CSV=.build/soak-short-samples.csv \
	bench/soak.sh .build/debug
soak-short: build
	$(SOAK_SHORT)

# Side-by-side benchmark against vsftpd/curl/lftp on 127.0.0.1 (see bench/README.md). Installs
# vsftpd, curl and lftp if missing; builds into .build-bench so it does not contend with .build.
.PHONY: bench
bench: deps
	$(SWIFT) build -c release --scratch-path .build-bench
	bench/run.sh .build-bench/release

# The TLS rows: ferry over protocol 2 against vsftpd FTPS + curl and OpenSSH sftp, and 1000 idle TLS
# sessions (see bench/README.md). Installs vsftpd, openssh-server and pyOpenSSL if missing.
.PHONY: bench-tls
bench-tls: deps
	$(SWIFT) build -c release --scratch-path .build-bench
	bench/run-tls.sh .build-bench/release

# The 5 GiB transfer test (writes 5 GiB to /tmp; about a minute).
test-large: deps
	$(SWIFT) build --build-tests
	FERRY_LARGE_TESTS=1 $(SWIFT) test --skip-build --filter LargeFileTests

# libFuzzer + ASan over FrameDecoder, MessageCoder and SharePath, then over the server end to end (see
# fuzz/README.md). Builds into .build-fuzz; FUZZ_SECONDS (default 300) sets how long each target runs.
.PHONY: fuzz
fuzz: deps
	fuzz/run.sh

clean:
	rm -rf .build
