/*
 * fuzz_dmarc_report.c - libFuzzer target for dmarc_report_from_message(),
 * the whole path from a message sent to a rua address to a struct
 * dmarc_report: the MIME walk, base64 and quoted-printable, gzip and zip
 * (dmarc_report_unpack()) and the XML (dmarc_report_parse_xml(), which
 * also gets the raw input on its own).
 *
 * Invariants: a report that parses has 1..DMARC_REPORT_RECORDS_MAX rows
 * whose counts add up to messages, begin <= end <= DMARC_REPORT_TIME_MAX,
 * pct -1 or 0..100, every string terminated inside its array and the
 * required ones non-empty; a failure says why; unpacking never yields
 * more than DMARC_REPORT_XML_MAX bytes.
 */
#include "autoconfig.h"

#include <assert.h>
#include <string.h>

#include "common/strbuf.h"
#include "mailauth/dmarc_report.h"
#include "mailauth/dmarc_report_mail.h"
#include "mailauth/dmarc_report_unpack.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#define TERMINATED(a) assert(memchr((a), '\0', sizeof(a)) != NULL)

static void check(const struct dmarc_report *r)
{
	unsigned long long sum = 0;

	assert(r->row_count >= 1 && r->row_count <= DMARC_REPORT_RECORDS_MAX);
	assert(r->begin <= r->end && r->end <= DMARC_REPORT_TIME_MAX);
	assert(r->pct >= -1 && r->pct <= 100);
	TERMINATED(r->org_name);
	TERMINATED(r->report_id);
	TERMINATED(r->domain);
	assert(r->org_name[0] && r->report_id[0] && r->domain[0] && r->p[0]);
	for (size_t i = 0; i < r->row_count; i++) {
		const struct dmarc_report_row *row = &r->rows[i];

		TERMINATED(row->source_ip);
		TERMINATED(row->header_from);
		TERMINATED(row->dkim_selector);
		TERMINATED(row->spf_result);
		assert(row->source_ip[0] && row->header_from[0] && row->disposition[0]);
		assert(strcmp(row->dkim, "pass") == 0 || strcmp(row->dkim, "fail") == 0);
		sum += row->count;
	}
	assert(sum == r->messages);
}

static void run(int rc, struct dmarc_report *r, const char *err)
{
	if (rc == 0)
		check(r);
	else
		assert(err[0] != '\0');
	dmarc_report_release(r);
	assert(r->rows == NULL && r->row_count == 0);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct strbuf xml = STRBUF_INIT;
	struct dmarc_report r;
	char err[256];

	err[0] = '\0';
	run(dmarc_report_from_message((const char *)data, size, &r, err, sizeof(err)), &r, err);
	err[0] = '\0';
	run(dmarc_report_parse_xml((const char *)data, size, &r, err, sizeof(err)), &r, err);
	if (dmarc_report_unpack(data, size, &xml, err, sizeof(err)) == 0)
		assert(xml.len <= DMARC_REPORT_XML_MAX);
	strbuf_release(&xml);
	return 0;
}
