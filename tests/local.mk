# tests/local.mk - unit tests (make check), integration tests and fuzz targets.
#
# Unit tests run in milliseconds and need nothing running. Integration
# tests start real services through tests/integration/harness.py; run them
# with "make check-integration". Fuzz targets build with --enable-fuzzing.

UNIT_TESTS = \
	tests/unit/test_addr \
	tests/unit/test_alias_loop \
	tests/unit/test_cidr \
	tests/unit/test_config \
	tests/unit/test_daemon_main \
	tests/unit/test_dns \
	tests/unit/test_dns_rdata \
	tests/unit/test_dnsbl \
	tests/unit/test_endpoint \
	tests/unit/test_hash \
	tests/unit/test_metrics \
	tests/unit/test_misc \
	tests/unit/test_netstring \
	tests/unit/test_number \
	tests/unit/test_policy \
	tests/unit/test_sql \
	tests/unit/test_srs \
	tests/unit/test_srsd \
	tests/unit/test_strbuf

if HAVE_CMOCKA
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
endif

# Unit tests are built from tests/unit/NAME.c (automake's default source)
# and link the common library and cmocka; programs set their own LDADD.
LDADD = $(COMMON_LIBS) $(CMOCKA_LIBS)
EXTRA_DIST += tests/unit/unit.h tests/unit/yaml_map.h
tests_unit_test_alias_loop_SOURCES = tests/unit/test_alias_loop.c mailadm/alias_loop.c
tests_unit_test_srs_LDADD = srs/libsrs.a $(LDADD)
tests_unit_test_policy_LDADD = policyd/libpolicy.a $(LDADD)
tests_unit_test_srsd_LDADD = srs/libsrs.a $(LDADD)

# Integration tests: real redis-server, mariadbd, nsd and Postfix started by
# tests/integration/harness.py on loopback, driven through lr-probe and the
# programs themselves.
check_PROGRAMS += tests/integration/lr-probe
EXTRA_DIST += tests/integration

check-integration: $(check_PROGRAMS) $(sbin_PROGRAMS)
	$(PYTHON3) $(top_srcdir)/tests/integration/run.py \
		--srcdir=$(abs_top_srcdir) --builddir=$(abs_top_builddir) $(INTEGRATION_ARGS)

.PHONY: check-integration

# Fuzz targets (configure CC=clang --enable-fuzzing). "make fuzz" runs each
# for FUZZ_SECONDS; "make fuzz-regress" replays the seed corpora only (CI).
FUZZ_TARGETS = \
	tests/fuzz/fuzz_addr \
	tests/fuzz/fuzz_cidr \
	tests/fuzz/fuzz_dns_rdata \
	tests/fuzz/fuzz_netstring \
	tests/fuzz/fuzz_policy_request \
	tests/fuzz/fuzz_rep_trace \
	tests/fuzz/fuzz_socketmap \
	tests/fuzz/fuzz_srs
EXTRA_DIST += tests/fuzz
CLEANFILES += -r fuzz-scratch
FUZZ_SECONDS = 60

if ENABLE_FUZZING
noinst_PROGRAMS += $(FUZZ_TARGETS)
tests_fuzz_fuzz_addr_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_cidr_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_dns_rdata_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_netstring_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_policy_request_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_policy_request_LDADD = policyd/libpolicy.a $(LDADD)
tests_fuzz_fuzz_rep_trace_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_socketmap_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_socketmap_LDADD = srs/libsrs.a $(LDADD)
tests_fuzz_fuzz_srs_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_srs_LDADD = srs/libsrs.a $(LDADD)
endif

fuzz: $(FUZZ_TARGETS)
	@for t in $(FUZZ_TARGETS); do \
		name=$${t##*/fuzz_}; work=fuzz-corpus/$$name; mkdir -p $$work; \
		echo "fuzzing $$name for $(FUZZ_SECONDS) s"; \
		./$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $$work \
			$(abs_top_srcdir)/tests/fuzz/corpus/$$name || exit 1; \
	done

# Replays the seeds, then 20000 mutations of them; new inputs go to a
# scratch directory (libFuzzer writes into the first corpus it is given).
fuzz-regress: $(FUZZ_TARGETS)
	@for t in $(FUZZ_TARGETS); do \
		name=$${t##*/fuzz_}; scratch=fuzz-scratch/$$name; \
		rm -rf $$scratch; mkdir -p $$scratch; \
		./$$t -runs=20000 -seed=1 $$scratch $(abs_top_srcdir)/tests/fuzz/corpus/$$name \
			> fuzz-scratch/$$name.log 2>&1 || \
			{ cat fuzz-scratch/$$name.log; echo "fuzz-regress: $$name failed"; exit 1; }; \
		echo "fuzz-regress: $$name ok ($$(ls $(abs_top_srcdir)/tests/fuzz/corpus/$$name | wc -l) seeds)"; \
	done

.PHONY: fuzz fuzz-regress

# Benchmarks ("make bench"): our daemons side by side with the Debian tools
# they replace, on the same machine and run. Not part of "make check".
EXTRA_PROGRAMS = tests/bench/lookup-bench tests/bench/milter-bench tests/bench/noop-milter
tests_bench_lookup_bench_SOURCES = tests/bench/lookup-bench.c \
	tests/bench/bench_util.c tests/bench/bench_util.h
tests_bench_lookup_bench_LDADD = $(PTHREAD_LIBS)
tests_bench_milter_bench_SOURCES = tests/bench/milter-bench.c \
	tests/bench/bench_util.c tests/bench/bench_util.h
tests_bench_milter_bench_LDADD = $(PTHREAD_LIBS)
# the floor of a libmilter-based filter (milter_bench.py runs it)
tests_bench_noop_milter_SOURCES = tests/bench/noop-milter.c
tests_bench_noop_milter_LDADD = $(MILTER_LIBS) $(PTHREAD_LIBS)
EXTRA_DIST += tests/bench
BENCH_SECONDS = 5
BENCH_ROUNDS = 3

bench: tests/bench/lookup-bench tests/bench/milter-bench tests/bench/noop-milter srs/limristem-srsd \
		policyd/limristem-policyd milter/limristem-milter mailadm/mailadm
	$(PYTHON3) $(top_srcdir)/tests/bench/srsd_bench.py --srcdir=$(abs_top_srcdir) \
		--builddir=$(abs_top_builddir) --seconds=$(BENCH_SECONDS) --rounds=$(BENCH_ROUNDS)
	$(PYTHON3) $(top_srcdir)/tests/bench/policyd_bench.py --srcdir=$(abs_top_srcdir) \
		--builddir=$(abs_top_builddir) --seconds=$(BENCH_SECONDS) --rounds=$(BENCH_ROUNDS)
	$(PYTHON3) $(top_srcdir)/tests/bench/hostile_bench.py --srcdir=$(abs_top_srcdir) \
		--builddir=$(abs_top_builddir) --seconds=$(BENCH_SECONDS) --rounds=$(BENCH_ROUNDS)
	$(PYTHON3) $(top_srcdir)/tests/bench/milter_bench.py --srcdir=$(abs_top_srcdir) \
		--builddir=$(abs_top_builddir) --seconds=$(BENCH_SECONDS) --rounds=$(BENCH_ROUNDS)
	$(PYTHON3) $(top_srcdir)/tests/bench/milter_concurrency.py --srcdir=$(abs_top_srcdir) \
		--builddir=$(abs_top_builddir) --seconds=20 --rounds=1
	$(MAKE) $(AM_MAKEFLAGS) tests/bench/sign-bench
	$(PYTHON3) $(top_srcdir)/tests/bench/sign_bench.py --srcdir=$(abs_top_srcdir) \
		--builddir=$(abs_top_builddir) --seconds=$(BENCH_SECONDS) --rounds=$(BENCH_ROUNDS)

CLEANFILES += $(EXTRA_PROGRAMS)
.PHONY: bench
