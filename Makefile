# Strata — build, test and benchmark entry points. `make help` lists them.
#
# Every target that compiles Swift code runs `deps` first, which installs the C libraries with
# apt-get only when pkg-config cannot find them.

SHELL := /bin/bash
SWIFT ?= swift
# Tests run on an optimised build (debug builds are 50-175x slower, and the acceptance suites
# push hundreds of thousands of operations) with the internal invariant checks compiled in.
TEST_FLAGS := -c release -Xswiftc -DSTRATA_INTERNAL_CHECKS --scratch-path .build-test
RELEASE_FLAGS := -c release
APT_PACKAGES := liblz4-dev libzstd-dev libxxhash-dev pkg-config

.PHONY: help deps peer-deps build release test check-dag demo bench bench-peers micro-bench bench-wal bench-memtable bench-sstable bench-compaction tsan clean

help:
	@echo "make deps       install liblz4-dev libzstd-dev libxxhash-dev pkg-config when missing"
	@echo "make build      debug build of every target"
	@echo "make release    release build of every target"
	@echo "make test       DAG check + every test target (release build with internal checks)"
	@echo "make check-dag  verify the module dependency chain (and the checker's own tests)"
	@echo "make demo       the README's main job: load, read, scan and delete 1,000,000 records"
	@echo "make bench      the standard db_bench suite with strata-bench (release build, fresh database)"
	@echo "make bench-peers  the same suite interleaved with RocksDB's db_bench and LevelDB (REPS=3)"
	@echo "make micro-bench  every component micro-benchmark (encoding, WAL, memtable, SSTable, compaction)"
	@echo "make bench-wal  WAL append/sync/group-commit rates next to a raw sequential write"
	@echo "make bench-memtable  memtable insert/get rates next to Dictionary"
	@echo "make bench-sstable   table build/get/scan rates and file size per codec"
	@echo "make bench-compaction  leveled shape, write amplification, memory of a 500 MB compaction"
	@echo "make tsan       concurrency tests under the thread sanitizer (slow; not in CI)"
	@echo "make clean      remove build outputs and scratch data"

deps:
	@if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists liblz4 libzstd libxxhash; then \
		echo "deps: liblz4 $$(pkg-config --modversion liblz4), libzstd $$(pkg-config --modversion libzstd), libxxhash $$(pkg-config --modversion libxxhash)"; \
	else \
		echo "deps: installing $(APT_PACKAGES)"; \
		SUDO=""; if [ "$$(id -u)" -ne 0 ]; then SUDO="sudo"; fi; \
		export DEBIAN_FRONTEND=noninteractive; \
		$$SUDO apt-get install -y --no-install-recommends $(APT_PACKAGES) \
			|| { $$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends $(APT_PACKAGES); }; \
	fi
	@command -v python3 >/dev/null 2>&1 || { \
		SUDO=""; if [ "$$(id -u)" -ne 0 ]; then SUDO="sudo"; fi; \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends python3-minimal \
			|| { $$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends python3-minimal; }; }

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build $(RELEASE_FLAGS)

check-dag: deps
	python3 .ci/test_check_dag.py
	python3 .ci/check_dag.py

test: deps check-dag
	$(SWIFT) build $(TEST_FLAGS) --build-tests
	$(SWIFT) test $(TEST_FLAGS) --skip-build

demo: release
	$(SWIFT) run $(RELEASE_FLAGS) strata demo

# The standard suite (db_bench's flags), on a fresh database in a temporary directory.
BENCH_SUITE := --benchmarks=fillseq,fillrandom,overwrite,readrandom,readseq,seekrandom --num=1000000 \
	--value_size=100 --key_size=16 --compression_type=none --cache_size=8388608 \
	--write_buffer_size=4194304 --bloom_bits=10
bench: release
	@scratch=$$(mktemp -d); \
	$(SWIFT) run $(RELEASE_FLAGS) strata-bench $(BENCH_SUITE) --db=$$scratch/db; status=$$?; \
	rm -rf $$scratch; exit $$status

# Peers: RocksDB's db_bench (Debian rocksdb-tools, built with assertions) and LevelDB 1.23
# through the project's own C driver. Installed with apt-get when missing.
PEER_PACKAGES := rocksdb-tools libleveldb-dev
REPS ?= 3
peer-deps:
	@if command -v db_bench >/dev/null 2>&1 && [ -f /usr/include/leveldb/c.h ]; then \
		echo "peer-deps: db_bench and libleveldb-dev present"; \
	else \
		echo "peer-deps: installing $(PEER_PACKAGES)"; \
		SUDO=""; if [ "$$(id -u)" -ne 0 ]; then SUDO="sudo"; fi; \
		export DEBIAN_FRONTEND=noninteractive; \
		$$SUDO apt-get install -y --no-install-recommends $(PEER_PACKAGES) \
			|| { $$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends $(PEER_PACKAGES); }; \
	fi

bench-results/bin/leveldb_bench: Benchmarks/LevelDBDriver/leveldb_bench.c
	@mkdir -p bench-results/bin
	cc -O2 -Wall -Wextra -o $@ $< -lleveldb

bench-peers: release peer-deps bench-results/bin/leveldb_bench
	python3 Benchmarks/Peers/bench_peers.py --reps $(REPS)

micro-bench: release
	$(SWIFT) run $(RELEASE_FLAGS) strata-microbench encoding wal memtable sstable compaction

bench-wal: release
	$(SWIFT) run $(RELEASE_FLAGS) strata-microbench wal

bench-memtable: release
	$(SWIFT) run $(RELEASE_FLAGS) strata-microbench memtable

bench-sstable: release
	$(SWIFT) run $(RELEASE_FLAGS) strata-microbench sstable

bench-compaction: release
	$(SWIFT) run $(RELEASE_FLAGS) strata-microbench compaction

# The thread sanitizer cannot see inside the prebuilt Synchronization library, so STRATA_TSAN
# swaps `Locked` to a pthread mutex it intercepts (see Modules/Encoding/Locked.swift).
TSAN_FLAGS := --sanitize=thread -Xswiftc -DSTRATA_TSAN --scratch-path .build-tsan
TSAN_TESTS := MemtableConcurrency|LogWriterTests
tsan: deps
	$(SWIFT) build $(TSAN_FLAGS) --build-tests
	TSAN_OPTIONS=halt_on_error=1 $(SWIFT) test $(TSAN_FLAGS) --skip-build --filter "$(TSAN_TESTS)"

clean:
	rm -rf .build .build-* strata-data bench-results
