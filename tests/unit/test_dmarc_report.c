/*
 * test_dmarc_report.c - aggregate reports that other receivers send:
 * RFC 7489 and RFC 9990 XML into structs, inside messages (MIME,
 * base64, quoted-printable) and gzip or zip; malformed reports, hostile
 * XML (entity bombs, external entities, any DOCTYPE), bombs, oversize
 * input and too many records refused with a reason.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>

#define ZLIB_CONST
#include <zlib.h>

#include "common/strbuf.h"
#include "mailauth/dmarc_report.h"
#include "mailauth/dmarc_report_mail.h"
#include "mailauth/dmarc_report_unpack.h"
#include "unit.h"

/* In the style of RFC 7489 appendix C: no namespace, pct, one record
 * with a DKIM and an SPF result. */
static const char rfc7489[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n"
	"<feedback>\n"
	"  <report_metadata>\n"
	"    <org_name>acme.com</org_name>\n"
	"    <email>noreply-dmarc-support@acme.com</email>\n"
	"    <extra_contact_info>http://acme.com/dmarc/support</extra_contact_info>\n"
	"    <report_id>9391651994964116463</report_id>\n"
	"    <date_range><begin>1335571200</begin><end>1335657599</end></date_range>\n"
	"  </report_metadata>\n"
	"  <policy_published>\n"
	"    <domain>example.com</domain><adkim>r</adkim><aspf>r</aspf>\n"
	"    <p>none</p><sp>none</sp><pct>100</pct>\n"
	"  </policy_published>\n"
	"  <record>\n"
	"    <row>\n"
	"      <source_ip>72.150.241.94</source_ip>\n"
	"      <count>2</count>\n"
	"      <policy_evaluated><disposition>none</disposition><dkim>fail</dkim>"
	"<spf>pass</spf></policy_evaluated>\n"
	"    </row>\n"
	"    <identifiers><header_from>example.com</header_from></identifiers>\n"
	"    <auth_results>\n"
	"      <dkim><domain>example.com</domain><result>fail</result>"
	"<human_result></human_result></dkim>\n"
	"      <spf><domain>example.com</domain><result>pass</result></spf>\n"
	"    </auth_results>\n"
	"  </record>\n"
	"</feedback>\n";

/* RFC 9990: the namespace, version, generator, np, testing,
 * discovery_method, two DKIM results (the passing one is kept), a reason,
 * an extension in another namespace and an element we do not know. */
static const char rfc9990[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\" xmlns:x=\"urn:example:ext\">\n"
	"  <version>1.0</version>\n"
	"  <report_metadata>\n"
	"    <org_name>Receiver Example</org_name>\n"
	"    <email>dmarc-reports@receiver.example</email>\n"
	"    <report_id>abc-123@receiver.example</report_id>\n"
	"    <date_range><begin>1777420800</begin><end>1777507199</end></date_range>\n"
	"    <generator>Example MTA 4.2</generator>\n"
	"  </report_metadata>\n"
	"  <policy_published>\n"
	"    <domain>Example.ORG.</domain><p>reject</p><sp>quarantine</sp><np>reject</np>\n"
	"    <adkim>s</adkim><aspf>r</aspf><discovery_method>treewalk</discovery_method>\n"
	"    <testing>n</testing><fo>1</fo>\n"
	"  </policy_published>\n"
	"  <x:whatever><x:row>ignored</x:row></x:whatever>\n"
	"  <record>\n"
	"    <row><source_ip>2001:db8::25</source_ip><count>7</count>\n"
	"      <policy_evaluated><disposition>pass</disposition><dkim>pass</dkim><spf>fail</spf>\n"
	"        <reason><type>local_policy</type><comment>arc=pass</comment></reason>\n"
	"      </policy_evaluated></row>\n"
	"    <identifiers><envelope_to>receiver.example</envelope_to>"
	"<envelope_from>bounces.example.org</envelope_from>"
	"<header_from>example.org</header_from></identifiers>\n"
	"    <auth_results>\n"
	"      <dkim><domain>esp.example</domain><selector>s1</selector><result>fail</result></dkim>\n"
	"      <dkim><domain>example.org</domain><selector>2026a</selector><result>pass</result></dkim>\n"
	"      <spf><domain>bounces.example.org</domain><scope>mfrom</scope><result>softfail</result></spf>\n"
	"    </auth_results>\n"
	"    <extensions><x:note>ignored</x:note></extensions>\n"
	"  </record>\n"
	"  <record>\n"
	"    <row><source_ip>192.0.2.9</source_ip><count>1</count>\n"
	"      <policy_evaluated><disposition>reject</disposition><dkim>fail</dkim><spf>fail</spf>"
	"</policy_evaluated></row>\n"
	"    <identifiers><header_from>example.org</header_from></identifiers>\n"
	"    <auth_results><spf><domain>spoof.example</domain><scope>helo</scope><result>none</result>"
	"</spf></auth_results>\n"
	"    <unknown_element>ignored</unknown_element>\n"
	"  </record>\n"
	"</feedback>\n";

static void check_rfc7489(const struct dmarc_report *r)
{
	assert_int_equal(r->format, DMARC_REPORT_RFC7489);
	assert_string_equal(r->org_name, "acme.com");
	assert_string_equal(r->report_id, "9391651994964116463");
	assert_true(r->begin == 1335571200 && r->end == 1335657599);
	assert_string_equal(r->domain, "example.com");
	assert_string_equal(r->p, "none");
	assert_int_equal(r->pct, 100);
	assert_int_equal(r->row_count, 1);
	assert_true(r->messages == 2);
	assert_string_equal(r->rows[0].source_ip, "72.150.241.94");
	assert_string_equal(r->rows[0].disposition, "none");
	assert_string_equal(r->rows[0].dkim, "fail");
	assert_string_equal(r->rows[0].spf, "pass");
	assert_string_equal(r->rows[0].header_from, "example.com");
	assert_string_equal(r->rows[0].dkim_result, "fail");
	assert_string_equal(r->rows[0].spf_domain, "example.com");
	assert_string_equal(r->rows[0].spf_scope, "");
}

/* The draft's namespace, which RFC 7489-era reporters wrote: read as RFC
 * 7489. */
static void test_draft_namespace(void **state)
{
	static const char xml[] = "<feedback xmlns=\"http://dmarc.org/dmarc-xml/0.1\">"
		"<report_metadata><org_name>o</org_name><report_id>r</report_id><date_range>"
		"<begin>1</begin><end>2</end></date_range></report_metadata><policy_published>"
		"<domain>example.com</domain><p>none</p></policy_published><record><row><source_ip>"
		"192.0.2.1</source_ip><count>1</count><policy_evaluated><disposition>none</disposition>"
		"<dkim>pass</dkim><spf>pass</spf></policy_evaluated></row><identifiers><header_from>"
		"example.com</header_from></identifiers></record></feedback>";
	struct dmarc_report r;
	char err[256] = "";

	(void)state;
	if (dmarc_report_parse_xml(xml, strlen(xml), &r, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(r.format, DMARC_REPORT_RFC7489);
	assert_int_equal(r.row_count, 1);
	dmarc_report_release(&r);
}

static void test_rfc7489(void **state)
{
	struct dmarc_report r;
	char err[256] = "";

	(void)state;
	if (dmarc_report_parse_xml(rfc7489, strlen(rfc7489), &r, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	check_rfc7489(&r);
	dmarc_report_release(&r);
	assert_null(r.rows);
}

static void test_rfc9990(void **state)
{
	struct dmarc_report r;
	const struct dmarc_report_row *a, *b;
	char err[256] = "";

	(void)state;
	if (dmarc_report_parse_xml(rfc9990, strlen(rfc9990), &r, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(r.format, DMARC_REPORT_RFC9990);
	assert_string_equal(r.org_name, "Receiver Example");
	assert_string_equal(r.domain, "example.org");
	assert_string_equal(r.p, "reject");
	assert_string_equal(r.sp, "quarantine");
	assert_string_equal(r.np, "reject");
	assert_string_equal(r.adkim, "s");
	assert_string_equal(r.testing, "n");
	assert_string_equal(r.discovery_method, "treewalk");
	assert_int_equal(r.pct, -1);
	assert_int_equal(r.row_count, 2);
	assert_true(r.messages == 8);
	a = &r.rows[0];
	b = &r.rows[1];
	assert_string_equal(a->source_ip, "2001:db8::25");
	assert_int_equal(a->count, 7);
	assert_string_equal(a->disposition, "pass");
	assert_string_equal(a->reason, "local_policy");
	assert_string_equal(a->envelope_from, "bounces.example.org");
	assert_int_equal(a->dkim_count, 2);
	assert_string_equal(a->dkim_domain, "example.org");
	assert_string_equal(a->dkim_selector, "2026a");
	assert_string_equal(a->dkim_result, "pass");
	assert_string_equal(a->spf_scope, "mfrom");
	assert_string_equal(a->spf_result, "softfail");
	assert_string_equal(b->disposition, "reject");
	assert_int_equal(b->dkim_count, 0);
	assert_string_equal(b->dkim_domain, "");
	assert_string_equal(b->spf_domain, "spoof.example");
	assert_string_equal(b->spf_scope, "helo");
	dmarc_report_release(&r);
}

/* --- packing ------------------------------------------------------------------ */

static void gzip_of(const char *in, size_t len, struct strbuf *out)
{
	z_stream z;

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY), Z_OK);
	strbuf_reserve(out, deflateBound(&z, len));
	z.next_in = (const unsigned char *)in;
	z.avail_in = (uInt)len;
	z.next_out = (unsigned char *)out->data + out->len;
	z.avail_out = (uInt)deflateBound(&z, len);
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	out->len += z.total_out;
	deflateEnd(&z);
}

static void le16(struct strbuf *b, unsigned v)
{
	strbuf_append_char(b, (char)(v & 0xff));
	strbuf_append_char(b, (char)(v >> 8));
}

static void le32(struct strbuf *b, unsigned long v)
{
	le16(b, (unsigned)(v & 0xffff));
	le16(b, (unsigned)(v >> 16));
}

/* A zip of one member, deflated (method 8) or stored (0), with flags. */
static void zip_of(const char *in, size_t len, unsigned method, unsigned flags, struct strbuf *out)
{
	struct strbuf data = STRBUF_INIT;
	z_stream z;

	if (method == 8) {
		memset(&z, 0, sizeof(z));
		assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
		strbuf_reserve(&data, deflateBound(&z, len));
		z.next_in = (const unsigned char *)in;
		z.avail_in = (uInt)len;
		z.next_out = (unsigned char *)data.data;
		z.avail_out = (uInt)deflateBound(&z, len);
		assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
		data.len = z.total_out;
		deflateEnd(&z);
	} else {
		strbuf_append(&data, in, len);
	}
	strbuf_append(out, "PK\x03\x04", 4);
	le16(out, 20);
	le16(out, flags);
	le16(out, method);
	le32(out, 0);	/* time, date */
	le32(out, crc32(0L, (const unsigned char *)in, (uInt)len));
	le32(out, (flags & 8) ? 0 : data.len);
	le32(out, (flags & 8) ? 0 : len);
	le16(out, 10);	/* name length */
	le16(out, 0);
	strbuf_append(out, "report.xml", 10);
	strbuf_append(out, data.data, data.len);
	strbuf_release(&data);
}

static void base64_of(const unsigned char *in, size_t len, struct strbuf *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < len; i += 3) {
		unsigned long v = (unsigned long)in[i] << 16 | (i + 1 < len ? (unsigned long)in[i + 1] << 8 : 0) |
				  (i + 2 < len ? in[i + 2] : 0);

		strbuf_append_char(out, a[v >> 18 & 63]);
		strbuf_append_char(out, a[v >> 12 & 63]);
		strbuf_append_char(out, i + 1 < len ? a[v >> 6 & 63] : '=');
		strbuf_append_char(out, i + 2 < len ? a[v & 63] : '=');
		if ((i / 3 + 1) % 19 == 0)
			strbuf_append(out, "\r\n", 2);
	}
	strbuf_append(out, "\r\n", 2);
}

/* A report message as the big receivers send it: multipart/mixed with a
 * multipart/alternative text first, then the attachment in base64. */
static void message_with(const struct strbuf *attachment, const char *type, struct strbuf *msg)
{
	strbuf_appendf(msg,
		"From: noreply-dmarc-support@acme.com\r\n"
		"To: dmarc@example.com\r\n"
		"Subject: Report domain: example.com Submitter: acme.com Report-ID: <9391651994964116463>\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: multipart/mixed;\r\n\tboundary=\"outer\"\r\n"
		"\r\n"
		"This is a multi-part message in MIME format.\r\n"
		"--outer\r\n"
		"Content-Type: multipart/alternative; boundary=inner\r\n"
		"\r\n"
		"--inner\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n"
		"\r\n"
		"This is an aggregate report from acme.com.\r\n"
		"--inner--\r\n"
		"--outer\r\n"
		"Content-Type: %s;\r\n name=\"acme.com!example.com!1335571200!1335657599.xml.gz\"\r\n"
		"Content-Transfer-Encoding: base64\r\n"
		"Content-Disposition: attachment;\r\n"
		" filename=\"acme.com!example.com!1335571200!1335657599.xml.gz\"\r\n"
		"\r\n", type);
	base64_of((const unsigned char *)attachment->data, attachment->len, msg);
	strbuf_append_str(msg, "--outer--\r\n");
}

static void expect_message(const struct strbuf *msg)
{
	struct dmarc_report r;
	char err[256] = "";

	if (dmarc_report_from_message(msg->data, msg->len, &r, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	check_rfc7489(&r);
	dmarc_report_release(&r);
}

static void test_gzip_message(void **state)
{
	struct strbuf gz = STRBUF_INIT, msg = STRBUF_INIT;

	(void)state;
	gzip_of(rfc7489, strlen(rfc7489), &gz);
	message_with(&gz, "application/gzip", &msg);
	expect_message(&msg);
	expect_message(&gz);	/* a bare .xml.gz */
	strbuf_release(&gz);
	strbuf_release(&msg);
}

static void test_zip_message(void **state)
{
	struct strbuf zip = STRBUF_INIT, msg = STRBUF_INIT;

	(void)state;
	zip_of(rfc7489, strlen(rfc7489), 8, 0, &zip);
	message_with(&zip, "application/zip", &msg);
	expect_message(&msg);
	strbuf_reset(&zip);
	strbuf_reset(&msg);
	zip_of(rfc7489, strlen(rfc7489), 8, 8, &zip);	/* sizes in a data descriptor, as zip -  does */
	message_with(&zip, "application/octet-stream", &msg);
	expect_message(&msg);
	strbuf_reset(&zip);
	zip_of(rfc7489, strlen(rfc7489), 0, 0, &zip);	/* stored */
	expect_message(&zip);
	strbuf_release(&zip);
	strbuf_release(&msg);
}

static void test_plain_parts(void **state)
{
	struct strbuf msg = STRBUF_INIT;
	struct dmarc_report r;
	char err[256] = "";

	(void)state;
	/* not MIME at all: the body is the XML; and quoted-printable XML */
	strbuf_appendf(&msg, "From: a@b.example\nContent-Type: text/xml\n\n%s", rfc7489);
	expect_message(&msg);
	strbuf_reset(&msg);
	strbuf_append_str(&msg, "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
			  "Content-Type: text/xml\nContent-Transfer-Encoding: quoted-printable\n\n");
	for (const char *p = rfc7489; *p; p++)
		strbuf_appendf(&msg, *p == '=' ? "=3D" : *p == '\n' ? "=\n\n" : "%c", *p);
	strbuf_append_str(&msg, "\n--b--\n");
	expect_message(&msg);
	/* no report in it */
	strbuf_reset(&msg);
	strbuf_append_str(&msg, "From: a@b.example\nSubject: hello\n\njust text\n");
	assert_int_equal(dmarc_report_from_message(msg.data, msg.len, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no report in the message"));
	dmarc_report_release(&r);
	strbuf_release(&msg);
}

/* --- refused ------------------------------------------------------------------ */

#define RECORD "<record><row><source_ip>192.0.2.1</source_ip><count>1</count><policy_evaluated>" \
	"<disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row>" \
	"<identifiers><header_from>example.com</header_from></identifiers></record>"
#define META "<report_metadata><org_name>o</org_name><report_id>r</report_id><date_range>" \
	"<begin>1</begin><end>2</end></date_range></report_metadata>"
#define POLICY "<policy_published><domain>example.com</domain><p>none</p></policy_published>"
#define REPORT(meta, policy, record) "<feedback>" meta policy record "</feedback>"

static const struct {
	const char *xml;
	const char *why;	/* a part of the error */
} refused[] = {
	{ REPORT(META, POLICY, RECORD) "<", "not well-formed" },
	{ "<feedback>", "not well-formed" },
	{ "<other/>", "root is not <feedback>" },
	{ "<feedback xmlns=\"urn:other\">" META POLICY RECORD "</feedback>", "root is not <feedback>" },
	{ REPORT("", POLICY, RECORD), "no report_metadata" },
	{ REPORT("<report_metadata><org_name>o</org_name><date_range><begin>1</begin><end>2</end>"
		 "</date_range></report_metadata>", POLICY, RECORD), "report_id: missing" },
	{ REPORT("<report_metadata><org_name>o</org_name><report_id>r</report_id><date_range>"
		 "<begin>3</begin><end>2</end></date_range></report_metadata>", POLICY, RECORD),
	  "begin 3 is after end 2" },
	{ REPORT("<report_metadata><org_name>o</org_name><report_id>r</report_id><date_range>"
		 "<begin>-1</begin><end>2</end></date_range></report_metadata>", POLICY, RECORD),
	  "not a whole number" },
	{ REPORT("<report_metadata><org_name>o</org_name><report_id>r</report_id><date_range>"
		 "<begin>1</begin><end>99999999999999999999999</end></date_range></report_metadata>",
		 POLICY, RECORD), "is over" },
	{ REPORT(META, "", RECORD), "no policy_published" },
	{ REPORT(META, "<policy_published><domain>example.com</domain><p>maybe</p></policy_published>",
		 RECORD), "\"maybe\" is not one of" },
	{ REPORT(META, "<policy_published><domain>exa mple.com</domain><p>none</p></policy_published>",
		 RECORD), "is not a domain name" },
	{ REPORT(META, "<policy_published><domain>example.com</domain><p>none</p><pct>101</pct>"
		 "</policy_published>", RECORD), "pct: 101 is over 100" },
	{ REPORT(META, POLICY, ""), "no record" },
	{ REPORT(META, POLICY, "<record><row><source_ip>192.0.2.300</source_ip><count>1</count>"
		 "</row></record>"), "record 1 source_ip: \"192.0.2.300\" is not an IP address" },
	{ REPORT(META, POLICY, RECORD "<record><row><source_ip>192.0.2.1</source_ip>"
		 "<count>4294967296</count></row></record>"), "record 2 count: 4294967296 is over" },
	{ REPORT(META, POLICY, "<record><row><source_ip>192.0.2.1</source_ip><count>1</count>"
		 "<policy_evaluated><disposition>discard</disposition><dkim>pass</dkim><spf>pass</spf>"
		 "</policy_evaluated></row></record>"), "\"discard\" is not one of" },
	{ REPORT(META, POLICY, "<record><row><source_ip>192.0.2.1</source_ip><count>1</count>"
		 "<policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf>"
		 "</policy_evaluated></row><identifiers/></record>"), "header_from: missing" },
	{ REPORT(META, POLICY, "<record><row><source_ip>192.0.2.1</source_ip><count>1</count>"
		 "<policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf>"
		 "<reason><type>local policy\xc3\xa9</type></reason></policy_evaluated></row>"
		 "<identifiers><header_from>example.com</header_from></identifiers></record>"),
	  "reason type: \"local policy\xc3\xa9\" is not a word" },
	{ "<feedback xmlns=\"http://dmarc.org/dmarc-xml/0.1\">" META POLICY RECORD "</feedback><x>",
	  "not well-formed" },
	{ REPORT("<report_metadata><org_name>o&#1;</org_name><report_id>r</report_id><date_range>"
		 "<begin>1</begin><end>2</end></date_range></report_metadata>", POLICY, RECORD),
	  "not well-formed" },
	{ REPORT("<report_metadata><org_name>o&#127;</org_name><report_id>r</report_id><date_range>"
		 "<begin>1</begin><end>2</end></date_range></report_metadata>", POLICY, RECORD),
	  "org_name: a control character" },
	{ REPORT(META, POLICY, "<record><row><source_ip>192.0.2.1</source_ip><count>1</count>"
		 "<policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf>"
		 "</policy_evaluated></row><identifiers><header_from>exa&#x9b;31mple.com</header_from>"
		 "</identifiers></record>"), "record 1 header_from: a control character" },
	/* hostile: any DOCTYPE is refused before its subset is read */
	{ "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
	  " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	  " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
	  " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
	  " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
	  " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
	  " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
	  " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
	  " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
	  " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
	  "]>\n<feedback><report_metadata><org_name>&lol9;</org_name></report_metadata></feedback>",
	  "has a DOCTYPE" },
	{ "<?xml version=\"1.0\"?>\n<!DOCTYPE feedback [ <!ENTITY xxe SYSTEM \"file:///etc/passwd\"> ]>\n"
	  "<feedback>" META POLICY RECORD "<x>&xxe;</x></feedback>", "has a DOCTYPE" },
	{ "<?xml version=\"1.0\"?>\n<!DOCTYPE feedback SYSTEM \"http://192.0.2.1/evil.dtd\">\n"
	  "<feedback>" META POLICY RECORD "</feedback>", "has a DOCTYPE" },
	{ "<?xml version=\"1.0\"?>\n<!DOCTYPE feedback [ <!ENTITY % p SYSTEM \"file:///etc/hostname\"> %p; ]>"
	  "<feedback/>", "has a DOCTYPE" },
	/* without a DOCTYPE an entity is undeclared: an error, nothing read */
	{ "<feedback>" META POLICY RECORD "<x>&xxe;</x></feedback>", "not well-formed" },
};

static void test_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(refused); i++) {
		struct dmarc_report r;
		char err[256] = "";

		if (dmarc_report_parse_xml(refused[i].xml, strlen(refused[i].xml), &r, err, sizeof(err)) == 0)
			fail_msg("case %zu: accepted, want \"%s\"", i, refused[i].why);
		if (strstr(err, refused[i].why) == NULL)
			fail_msg("case %zu: error \"%s\", want \"%s\"", i, err, refused[i].why);
		dmarc_report_release(&r);
	}
}

static void expect_unpack_error(const struct strbuf *packed, const char *why)
{
	struct strbuf xml = STRBUF_INIT;
	char err[256] = "";

	assert_int_equal(dmarc_report_unpack((const unsigned char *)packed->data, packed->len, &xml,
					     err, sizeof(err)), -1);
	if (strstr(err, why) == NULL)
		fail_msg("error \"%s\", want \"%s\"", err, why);
	assert_true(xml.len <= DMARC_REPORT_XML_MAX + 1);
	strbuf_release(&xml);
}

static void test_bad_packing(void **state)
{
	struct strbuf b = STRBUF_INIT;
	size_t n;

	(void)state;
	zip_of(rfc7489, strlen(rfc7489), 0, 8, &b);
	expect_unpack_error(&b, "without its size");
	strbuf_reset(&b);
	zip_of(rfc7489, strlen(rfc7489), 8, 1, &b);
	expect_unpack_error(&b, "encrypted");
	strbuf_reset(&b);
	zip_of(rfc7489, strlen(rfc7489), 8, 0, &b);
	b.data[14] ^= 1;	/* the CRC */
	expect_unpack_error(&b, "CRC does not match");
	strbuf_reset(&b);
	gzip_of(rfc7489, strlen(rfc7489), &b);
	n = b.len;
	b.len = n / 2;
	expect_unpack_error(&b, "cut short");
	b.len = n;
	b.data[n / 2] ^= 0x55;
	expect_unpack_error(&b, "gzip");
	strbuf_reset(&b);
	strbuf_append_str(&b, "%PDF-1.4");
	expect_unpack_error(&b, "neither gzip, zip nor XML");
	strbuf_release(&b);
}

/* A gzip and a zip bomb: 1 MiB over the limit of zeros, a few KiB
 * compressed, refused without holding more than the limit. */
static void test_bombs(void **state)
{
	size_t big = DMARC_REPORT_XML_MAX + (1u << 20);
	char *zeros = calloc(1, big);
	struct strbuf b = STRBUF_INIT;

	(void)state;
	assert_non_null(zeros);
	memset(zeros, ' ', big);
	gzip_of(zeros, big, &b);
	assert_true(b.len < big / 100);
	expect_unpack_error(&b, "over 32 MiB uncompressed");
	strbuf_reset(&b);
	zip_of(zeros, big, 8, 0, &b);
	expect_unpack_error(&b, "over 32 MiB uncompressed");
	strbuf_release(&b);
	free(zeros);
}

static void test_oversize(void **state)
{
	size_t big = DMARC_REPORT_MESSAGE_MAX + 1;
	char *msg = malloc(big);
	struct dmarc_report r;
	char err[256] = "";

	(void)state;
	assert_non_null(msg);
	memset(msg, 'a', big);
	assert_int_equal(dmarc_report_from_message(msg, big, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "over 20 MiB"));
	msg[0] = '<';
	assert_int_equal(dmarc_report_parse_xml(msg, DMARC_REPORT_XML_MAX + 1, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "over 32 MiB"));
	dmarc_report_release(&r);
	free(msg);
}

static void records(size_t n, struct strbuf *xml)
{
	strbuf_append_str(xml, "<feedback>" META POLICY);
	for (size_t i = 0; i < n; i++)
		strbuf_append_str(xml, RECORD);
	strbuf_append_str(xml, "</feedback>");
}

static void test_record_limit(void **state)
{
	struct strbuf xml = STRBUF_INIT;
	struct dmarc_report r;
	char err[256] = "";

	(void)state;
	records(DMARC_REPORT_RECORDS_MAX, &xml);
	if (dmarc_report_parse_xml(xml.data, xml.len, &r, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(r.row_count, DMARC_REPORT_RECORDS_MAX);
	assert_true(r.messages == DMARC_REPORT_RECORDS_MAX);
	dmarc_report_release(&r);
	strbuf_reset(&xml);
	records(DMARC_REPORT_RECORDS_MAX + 1, &xml);
	assert_int_equal(dmarc_report_parse_xml(xml.data, xml.len, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than 10000 records"));
	assert_null(r.rows);
	dmarc_report_release(&r);
	strbuf_release(&xml);
}

static void test_mime_limits(void **state)
{
	struct strbuf msg = STRBUF_INIT;
	struct dmarc_report r;
	char err[256] = "";

	(void)state;
	for (int i = 0; i <= DMARC_REPORT_MIME_DEPTH + 1; i++)
		strbuf_appendf(&msg, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i);
	strbuf_appendf(&msg, "Content-Type: text/xml\n\n%s", rfc7489);
	assert_int_equal(dmarc_report_from_message(msg.data, msg.len, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "nested more than"));
	dmarc_report_release(&r);
	strbuf_reset(&msg);
	strbuf_append_str(&msg, "Content-Type: multipart/mixed; boundary=b\n\n");
	for (int i = 0; i <= DMARC_REPORT_MIME_PARTS_MAX; i++)
		strbuf_append_str(&msg, "--b\nContent-Type: text/plain\n\nhello\n");
	assert_int_equal(dmarc_report_from_message(msg.data, msg.len, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than 100 MIME parts"));
	dmarc_report_release(&r);
	strbuf_release(&msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7489),
		cmocka_unit_test(test_rfc9990),
		cmocka_unit_test(test_draft_namespace),
		cmocka_unit_test(test_gzip_message),
		cmocka_unit_test(test_zip_message),
		cmocka_unit_test(test_plain_parts),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_bad_packing),
		cmocka_unit_test(test_bombs),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_record_limit),
		cmocka_unit_test(test_mime_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
