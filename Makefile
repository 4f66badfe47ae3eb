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
PIP_PACKAGES := grpcio grpcio-tools

.PHONY: help deps peer-deps proto build release test check-dag check-docs check-readme example docs demo bench bench-peers bench-resp bench-tables micro-bench bench-wal bench-memtable bench-sstable bench-compaction crash-test fuzz asan tsan clean

help:
	@echo "make deps       install liblz4-dev libzstd-dev libxxhash-dev pkg-config redis-tools (apt) and grpcio grpcio-tools moto[server] redis (pip) when missing"
	@echo "make build      debug build of every target"
	@echo "make release    release build of every target"
	@echo "make test       DAG, docs and README checks, the example package, every test target (release build with internal checks), a 45 s crash test"
	@echo "make crash-test SIGKILL strata-stress at random moments, reopen, verify (DURATION=600 seconds)"
	@echo "make fuzz       every libFuzzer target for FUZZ_SECONDS (60) each, corpus in Tests/Fuzz/corpus"
	@echo "make asan       every test under the address sanitizer"
	@echo "make check-dag  verify the module dependency chain (and the checker's own tests)"
	@echo "make check-docs fail on a public declaration without a /// comment"
	@echo "make example    build and run Examples/QuickStart (the README's code) as a consumer package would"
	@echo "make proto      regenerate Modules/Server/Generated from Protos/ (protoc + plugins built from the resolved packages)"
	@echo "make docs       the DocC documentation of every library module (swift-docc-plugin), into .build-docs/Strata.doccarchive"
	@echo "make demo       the README's main job: load, read, scan and delete 1,000,000 records"
	@echo "make bench      the standard db_bench suite with strata-bench (release build, fresh database)"
	@echo "make bench-tables Tables against SQLite via GRDB.swift: inserts with 0/1/3 indexes, lookups, an index query (TABLES_NUM=1000000 users, REPS=3)"
	@echo "make bench-peers  the same suite interleaved with RocksDB's db_bench and LevelDB (REPS=3, SUITE=standard|matrix|transactions|all, LARGE_NUM=10000000 adds the 10M rows to matrix, DB_BENCH=release db_bench)"
	@echo "make bench-resp   redis-benchmark against strata-server's RESP front door and redis-server (AOF everysec), interleaved (REPS=3)"
	@echo "make micro-bench  every component micro-benchmark (encoding, WAL, memtable, SSTable, compaction)"
	@echo "make bench-wal  WAL append/sync/group-commit rates next to a raw sequential write"
	@echo "make bench-memtable  memtable insert/get rates next to Dictionary"
	@echo "make bench-sstable   table build/get/scan rates and file size per codec"
	@echo "make bench-compaction  leveled shape, write amplification, memory of a 500 MB compaction"
	@echo "make tsan       concurrency tests under the thread sanitizer (slow; not in CI)"
	@echo "make clean      remove build outputs and scratch data"

# Shell snippet: apt-get install $(1) (with sudo when not root), updating the index only if
# the first attempt fails.
apt_install = SUDO=""; if [ "$$(id -u)" -ne 0 ]; then SUDO="sudo"; fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$SUDO apt-get install -y --no-install-recommends $(1) \
		|| { $$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends $(1); }

deps:
	@if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists liblz4 libzstd libxxhash; then \
		echo "deps: liblz4 $$(pkg-config --modversion liblz4), libzstd $$(pkg-config --modversion libzstd), libxxhash $$(pkg-config --modversion libxxhash)"; \
	else \
		echo "deps: installing $(APT_PACKAGES)"; \
		$(call apt_install,$(APT_PACKAGES)); \
	fi
	@command -v python3 >/dev/null 2>&1 || { $(call apt_install,python3-minimal); }
	@command -v openssl >/dev/null 2>&1 || { $(call apt_install,openssl); }
	@# The server tests' independent client: Python grpcio + grpcio-tools (stubs generated at test time).
	@if python3 -c "import grpc, grpc_tools" >/dev/null 2>&1; then \
		echo "deps: python grpcio $$(python3 -c 'import grpc; print(grpc.__version__)')"; \
	else \
		echo "deps: installing grpcio grpcio-tools (pip)"; \
		python3 -m pip --version >/dev/null 2>&1 || { $(call apt_install,python3-pip); }; \
		python3 -m pip install --quiet $(PIP_PACKAGES) 2>/dev/null \
			|| python3 -m pip install --quiet --break-system-packages $(PIP_PACKAGES); \
	fi
	@# The RESP front door's independent clients: redis-cli and redis-benchmark (apt redis-tools),
	@# redis-py (pip redis).
	@if command -v redis-cli >/dev/null 2>&1 && command -v redis-benchmark >/dev/null 2>&1; then \
		echo "deps: $$(redis-cli --version)"; \
	else \
		echo "deps: installing redis-tools"; \
		$(call apt_install,redis-tools); \
	fi
	@if python3 -c "import redis" >/dev/null 2>&1; then \
		echo "deps: python redis $$(python3 -c 'import redis; print(redis.__version__)')"; \
	else \
		echo "deps: installing redis (pip)"; \
		python3 -m pip --version >/dev/null 2>&1 || { $(call apt_install,python3-pip); }; \
		python3 -m pip install --quiet redis 2>/dev/null \
			|| python3 -m pip install --quiet --break-system-packages redis; \
	fi
	@# The object-store tests' S3 server: moto (pip moto[server]), started by the tests on loopback.
	@if command -v moto_server >/dev/null 2>&1 && python3 -c "import moto, flask" >/dev/null 2>&1; then \
		echo "deps: python moto $$(python3 -c 'import moto; print(moto.__version__)')"; \
	else \
		echo "deps: installing moto[server] (pip)"; \
		python3 -m pip --version >/dev/null 2>&1 || { $(call apt_install,python3-pip); }; \
		python3 -m pip install --quiet "moto[server]" 2>/dev/null \
			|| python3 -m pip install --quiet --break-system-packages "moto[server]"; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build $(RELEASE_FLAGS)

check-dag: deps
	python3 .ci/test_check_dag.py
	python3 .ci/check_dag.py

# The generated gRPC/protobuf code is committed (Modules/Server/Generated); this regenerates it
# with Debian's protoc and the plugins built from the resolved swift-protobuf and
# grpc-swift-protobuf (never the SwiftPM build plugin, which compiles protoc on every clean build).
PROTO_OUT := Modules/Server/Generated
proto: deps
	@command -v protoc >/dev/null 2>&1 || { $(call apt_install,protobuf-compiler); }
	$(SWIFT) build -c release --product protoc-gen-swift
	$(SWIFT) build -c release --product protoc-gen-grpc-swift-2
	protoc --proto_path=Protos --plugin=protoc-gen-swift=.build/release/protoc-gen-swift \
		--swift_opt=Visibility=Public --swift_out=$(PROTO_OUT) \
		--plugin=protoc-gen-grpc-swift-2=.build/release/protoc-gen-grpc-swift-2 \
		--grpc-swift-2_opt=Visibility=Public --grpc-swift-2_out=$(PROTO_OUT) \
		strata/v1/strata.proto grpc/health/v1/health.proto
	@# One flat folder: the generator mirrors the proto paths.
	find $(PROTO_OUT) -mindepth 2 -name '*.swift' -exec mv {} $(PROTO_OUT)/ \;
	find $(PROTO_OUT) -mindepth 1 -type d -empty -delete
	@echo "proto: regenerated $(PROTO_OUT)"

check-docs:
	python3 .ci/check_docs.py

check-readme:
	python3 Examples/check_readme.py

# Examples/QuickStart depends on this package by path with `traits: []`, as a consumer would:
# it must build, run, and resolve nothing but the library's own dependencies.
example: deps check-readme
	@# A path dependency's new source files are missed by a cached build plan: plan anew.
	@rm -f .build-example/release/description.json
	$(SWIFT) build -c release --package-path Examples/QuickStart --scratch-path .build-example
	@scratch=$$(mktemp -d); .build-example/release/QuickStart $$scratch/db; status=$$?; rm -rf $$scratch; exit $$status
	python3 Examples/check_resolved.py Examples/QuickStart

# Every library module's DocC catalog, combined into one archive; warnings are errors. The
# plugin is added to the manifest only when STRATA_DOCS is set, so consumers never resolve it.
DOC_TARGETS := Strata Engine Tables Encoding VFS WAL Memtable SSTable Manifest Compaction
docs: deps
	STRATA_DOCS=1 $(SWIFT) package --scratch-path .build-docs --disable-sandbox generate-documentation \
		$(foreach target,$(DOC_TARGETS),--target $(target)) --enable-experimental-combined-documentation \
		--warnings-as-errors --output-path .build-docs/Strata.doccarchive
	@echo "docs: .build-docs/Strata.doccarchive"

test: deps check-dag check-docs example
	$(SWIFT) build $(TEST_FLAGS) --build-tests
	$(SWIFT) test $(TEST_FLAGS) --skip-build
	python3 Benchmarks/Stress/crash_test.py --binary .build-test/release/strata-stress \
		--duration 45 --keys 20000 --min-interval 1 --max-interval 4

# Kill strata-stress with SIGKILL at random moments for DURATION seconds, verifying every key
# after each restart (Docs/RELIABILITY.md).
DURATION ?= 600
crash-test: release
	python3 Benchmarks/Stress/crash_test.py --binary .build/release/strata-stress --duration $(DURATION)

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
		$(call apt_install,$(PEER_PACKAGES)); \
	fi

bench-results/bin/leveldb_bench: Benchmarks/LevelDBDriver/leveldb_bench.c
	@mkdir -p bench-results/bin
	cc -O2 -Wall -Wextra -o $@ $< -lleveldb

# SUITE=standard|matrix|transactions|all (matrix: issue 17's table — both read modes, 1 KB values,
# threads, fillsync, lz4/zstd, p99 and peak RSS; LARGE_NUM=10000000 adds the 10M-key rows);
# DB_BENCH=path to a release db_bench built from RocksDB's
# sources (`make DEBUG_LEVEL=0 PORTABLE=1 db_bench` in a RocksDB checkout; see Docs/BENCHMARKS.md),
# else Debian's assertion-enabled one.
SUITE ?= standard
LARGE_NUM ?= 0
bench-peers: release peer-deps bench-results/bin/leveldb_bench
	LARGE_NUM=$(LARGE_NUM) python3 Benchmarks/Peers/bench_peers.py --reps $(REPS) --suite $(SUITE)

# redis-benchmark against strata-server's RESP front door and redis-server (AOF everysec),
# interleaved; needs Debian's redis-server (installed here when missing).
bench-resp: release deps
	@command -v redis-server >/dev/null 2>&1 || { $(call apt_install,redis-server); }
	python3 Benchmarks/Peers/bench_resp.py --reps $(REPS)

# Strata's Tables against SQLite through GRDB.swift (issue 21): a package of its own
# (Benchmarks/TablesBench), so the main package never resolves GRDB; needs libsqlite3-dev.
TABLES_NUM ?= 1000000
bench-tables:
	@[ -f /usr/include/sqlite3.h ] || { $(call apt_install,libsqlite3-dev); }
	@# A path dependency's new source files are missed by a cached build plan: plan anew.
	@rm -f .build-tablesbench/release/description.json
	$(SWIFT) build -c release --package-path Benchmarks/TablesBench --scratch-path .build-tablesbench
	.build-tablesbench/release/TablesBench --num $(TABLES_NUM) --reps $(REPS)

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

# libFuzzer over every decoder harness (Tests/Fuzz/Harness): each runs FUZZ_SECONDS from the
# kept corpus plus a scratch one; new inputs that add coverage are merged into the kept corpus
# (Tests/Fuzz/corpus/<harness>), and a crashing input lands in Tests/Fuzz/regressions/<harness>/,
# where FuzzRegressionTests replays it on every `make test`. lld links it (gold trips on the
# fuzzer runtime's symbols).
FUZZ_SECONDS ?= 60
FUZZ_HARNESSES := table wal version-edit encoding exec
FUZZ_FLAGS := -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -DSTRATA_FUZZING -Xswiftc -use-ld=lld --scratch-path .build-fuzz
fuzz: deps
	$(SWIFT) build $(FUZZ_FLAGS) --product strata-fuzz
	@for harness in $(FUZZ_HARNESSES); do \
		mkdir -p .build-fuzz/corpus/$$harness Tests/Fuzz/corpus/$$harness Tests/Fuzz/regressions/$$harness; \
		echo "== fuzz $$harness for $(FUZZ_SECONDS) s"; \
		.build-fuzz/release/strata-fuzz $$harness -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-timeout=10 -rss_limit_mb=4096 -artifact_prefix=Tests/Fuzz/regressions/$$harness/ \
			.build-fuzz/corpus/$$harness Tests/Fuzz/corpus/$$harness > .build-fuzz/$$harness.log 2>&1; \
		status=$$?; \
		grep -E "^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added|Done)" .build-fuzz/$$harness.log; \
		if [ $$status -ne 0 ]; then \
			tail -40 .build-fuzz/$$harness.log; \
			echo "fuzz $$harness: FAILED (the input is kept in Tests/Fuzz/regressions/$$harness/)"; exit 1; \
		fi; \
		.build-fuzz/release/strata-fuzz $$harness -merge=1 Tests/Fuzz/corpus/$$harness .build-fuzz/corpus/$$harness >/dev/null 2>&1; \
		echo "corpus $$harness: $$(ls Tests/Fuzz/corpus/$$harness | wc -l) inputs"; \
	done

# Every test under the address sanitizer (a release build: the suites push too much data for a
# debug one).
ASAN_FLAGS := -c release --sanitize=address --scratch-path .build-asan
asan: deps
	$(SWIFT) build $(ASAN_FLAGS) --build-tests
	LSAN_OPTIONS=suppressions=$(CURDIR)/.ci/lsan.supp ASAN_OPTIONS=detect_leaks=1 $(SWIFT) test $(ASAN_FLAGS) --skip-build

# The thread sanitizer cannot see inside the prebuilt Synchronization library, so STRATA_TSAN
# swaps `Locked` to a pthread mutex it intercepts (see Modules/Encoding/Locked.swift).
TSAN_FLAGS := --sanitize=thread -Xswiftc -DSTRATA_TSAN --scratch-path .build-tsan
TSAN_TESTS := MemtableConcurrency|LogWriterTests|EngineConcurrency|EngineAPITests
tsan: deps
	$(SWIFT) build $(TSAN_FLAGS) --build-tests
	TSAN_OPTIONS=halt_on_error=1 $(SWIFT) test $(TSAN_FLAGS) --skip-build --filter "$(TSAN_TESTS)"

clean:
	rm -rf .build .build-* strata-data bench-results
