# tests/local.mk - unit tests (make check), integration tests and fuzz targets.
#
# Unit tests run in milliseconds and need nothing running. Integration
# tests start real services through tests/integration/harness.py; run them
# with "make check-integration". Fuzz targets build with --enable-fuzzing.

UNIT_TESTS = \
	tests/unit/test_addr \
	tests/unit/test_cidr \
	tests/unit/test_config \
	tests/unit/test_dns_rdata \
	tests/unit/test_endpoint \
	tests/unit/test_metrics \
	tests/unit/test_misc \
	tests/unit/test_netstring \
	tests/unit/test_sql \
	tests/unit/test_strbuf

if HAVE_CMOCKA
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
endif

# Unit tests are built from tests/unit/NAME.c (automake's default source)
# and link the common library and cmocka; programs set their own LDADD.
LDADD = $(COMMON_LIBS) $(CMOCKA_LIBS)
EXTRA_DIST += tests/unit/unit.h
