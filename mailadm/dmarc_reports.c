/*
 * dmarc_reports.c - mailadm dmarc import|summary: the DMARC aggregate
 * reports other receivers send about our domains.
 *
 * `mailadm dns` publishes rua=mailto:ADDRESS; mail to that address is
 * piped into `mailadm dmarc import` (see mailadm(8) for the Postfix
 * wiring), which finds the report in the message (mailauth's
 * dmarc_report_mail.c: MIME, gzip, zip, XML with entities and DTDs off),
 * checks that it is about one of our domains and stores it with its rows
 * in one transaction. A report is its reporter and id: one sent again is
 * a success that changes nothing. `mailadm dmarc summary DOMAIN` shows
 * who sent as the domain, from which addresses, how many messages, the
 * DKIM/SPF/DMARC results and what the receivers did.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "common/log.h"
#include "common/strbuf.h"
#include "mailadm/nouns.h"
#include "mailadm/output.h"
#include "mailadm/validate.h"
#include "mailauth/dmarc_report_mail.h"

#define ROW_COLUMNS 16
#define ROWS_PER_INSERT 50
#define EXIT_DUPLICATE 100	/* import_rows(): the report is there already (rolled back) */
#define EX_TEMPFAIL 75		/* sysexits.h: Postfix defers the message and tries again */

struct import {
	struct dmarc_report report;
	char domain[ADDR_DOMAIN_MAX + 1];	/* the report's, as A-labels */
	bool duplicate;
};

/* stdin, up to one byte over DMARC_REPORT_MESSAGE_MAX. */
static void read_all(FILE *in, struct strbuf *msg)
{
	char buf[65536];
	size_t n;

	while (msg->len <= DMARC_REPORT_MESSAGE_MAX && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		strbuf_append(msg, buf, n);
}

static struct db_param text_or_null(const char *s)
{
	return s[0] ? DB_STR(s) : DB_NULL;
}

static int insert_report(struct cli *cli, struct import *im, uint64_t *id_r)
{
	const struct dmarc_report *r = &im->report;
	struct db *db = cli_db(cli);
	int rc;

	rc = db_exec(db, "INSERT INTO dmarc_reports (org_name, report_id, email, domain, date_begin, "
		     "date_end, format, policy_p, policy_sp, policy_np, adkim, aspf, pct, testing, "
		     "discovery_method, records, messages) VALUES (?, ?, ?, ?, FROM_UNIXTIME(?), "
		     "FROM_UNIXTIME(?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		     (struct db_param[]){
			     DB_STR(r->org_name), DB_STR(r->report_id), DB_STR(r->email), DB_STR(im->domain),
			     DB_INT(r->begin), DB_INT(r->end),
			     DB_STR(r->format == DMARC_REPORT_RFC9990 ? "rfc9990" : "rfc7489"), DB_STR(r->p),
			     text_or_null(r->sp), text_or_null(r->np), text_or_null(r->adkim),
			     text_or_null(r->aspf), r->pct >= 0 ? DB_INT(r->pct) : DB_NULL,
			     text_or_null(r->testing), text_or_null(r->discovery_method),
			     DB_INT(r->row_count), DB_INT(r->messages) }, 17, NULL);
	if (rc == DB_REFUSED && db_errno(db) == DB_ER_DUP_ENTRY) {
		im->duplicate = true;
		return EXIT_DUPLICATE;
	}
	if (rc != DB_OK)
		return cli_db_fail(cli, rc, "storing the report");
	*id_r = db_last_insert_id(db);
	return EXIT_OK;
}

static void row_params(uint64_t id, const struct dmarc_report_row *row, struct db_param *p)
{
	struct db_param v[ROW_COLUMNS] = {
		DB_INT(id), DB_STR(row->source_ip), DB_INT(row->count), DB_STR(row->disposition),
		DB_STR(row->dkim), DB_STR(row->spf), DB_STR(row->reason), DB_STR(row->header_from),
		DB_STR(row->envelope_from), DB_STR(row->dkim_domain), DB_STR(row->dkim_selector),
		DB_STR(row->dkim_result), DB_INT(row->dkim_count > 65535 ? 65535 : row->dkim_count),
		DB_STR(row->spf_domain), DB_STR(row->spf_scope), DB_STR(row->spf_result),
	};

	memcpy(p, v, sizeof(v));
}

/* INSERT ... VALUES (?, ...), (?, ...) for n rows: placeholders only. */
static void rows_statement(size_t n, struct strbuf *sql)
{
	strbuf_append_str(sql, "INSERT INTO dmarc_report_rows (report, source_ip, message_count, "
			  "disposition, dmarc_dkim, dmarc_spf, reason, header_from, envelope_from, "
			  "dkim_domain, dkim_selector, dkim_result, dkim_signatures, spf_domain, spf_scope, "
			  "spf_result) VALUES ");
	for (size_t i = 0; i < n; i++)
		strbuf_append_str(sql, i ? ", (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
					 : "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
}

/* cli_write()'s transaction: the report, then its rows in batches. */
static int import_rows(struct cli *cli, void *arg)
{
	struct import *im = arg;
	struct db_param params[ROWS_PER_INSERT * ROW_COLUMNS];
	struct strbuf sql = STRBUF_INIT;
	uint64_t id = 0;
	int rc;

	im->duplicate = false;
	if ((rc = insert_report(cli, im, &id)) != EXIT_OK)
		return rc;
	for (size_t done = 0; done < im->report.row_count;) {
		size_t n = im->report.row_count - done;

		if (n > ROWS_PER_INSERT)
			n = ROWS_PER_INSERT;
		for (size_t i = 0; i < n; i++)
			row_params(id, &im->report.rows[done + i], params + i * ROW_COLUMNS);
		strbuf_reset(&sql);
		rows_statement(n, &sql);
		rc = db_exec(cli_db(cli), strbuf_str(&sql), params, n * ROW_COLUMNS, NULL);
		if (rc != DB_OK) {
			strbuf_release(&sql);
			return cli_db_fail(cli, rc, "storing the report's records");
		}
		done += n;
	}
	strbuf_release(&sql);
	return EXIT_OK;
}

/* Whether the report is about one of our domains or a subdomain of one. */
static int check_ours(struct cli *cli, const char *domain)
{
	long long n = count_where(cli, "SELECT COUNT(*) FROM domains WHERE name = ? OR "
				  "RIGHT(?, CHAR_LENGTH(name) + 1) = CONCAT('.', name)",
				  (struct db_param[]){ DB_STR(domain), DB_STR(domain) }, 2);

	if (n < 0)
		return EXIT_UNAVAILABLE;
	if (n == 0)
		return cli_fail(cli, EXIT_NOT_FOUND, "the report is about %s, not a domain of this "
				"installation (mailadm domain list); nothing imported", domain);
	return EXIT_OK;
}

static int import(struct cli *cli, struct import *im)
{
	struct strbuf msg = STRBUF_INIT;
	char err[512];
	int rc;

	read_all(stdin, &msg);
	if (msg.len > DMARC_REPORT_MESSAGE_MAX) {
		strbuf_release(&msg);
		return cli_fail(cli, EXIT_BAD_INPUT, "the message is over %u MiB; nothing imported",
				DMARC_REPORT_MESSAGE_MAX >> 20);
	}
	rc = dmarc_report_from_message(msg.data != NULL ? msg.data : "", msg.len, &im->report, err,
				       sizeof(err));
	strbuf_release(&msg);
	if (rc < 0)
		return cli_fail(cli, EXIT_BAD_INPUT, "not a DMARC aggregate report: %s; nothing imported",
				err);
	if ((rc = valid_domain(cli, im->report.domain, im->domain)) != EXIT_OK)
		return rc;
	if (cli_db(cli) == NULL)
		return EXIT_UNAVAILABLE;
	if ((rc = check_ours(cli, im->domain)) != EXIT_OK)
		return rc;
	rc = cli_write(cli, import_rows, im);
	if (rc == EXIT_DUPLICATE && im->duplicate) {
		printf("report %s from %s was imported before; nothing changed\n", im->report.report_id,
		       im->report.org_name);
		return EXIT_OK;
	}
	if (rc == EXIT_OK)
		printf("imported report %s from %s about %s: %zu records, %llu messages\n",
		       im->report.report_id, im->report.org_name, im->domain, im->report.row_count,
		       im->report.messages);
	return rc;
}

/* --mta: for a Postfix pipe. A message that is no report of ours is
 * dropped with a line in the mail log (a bounce would go to a robot, or
 * to whoever forged the sender); a database out of reach defers it. */
static int dmarc_import(struct cli *cli, const struct cli_args *args)
{
	struct import im;
	bool mta = cli_flag(cli, args, "mta");
	int rc;

	memset(&im, 0, sizeof(im));
	if (mta) {
		log_open("mailadm", LOG_TO_STDERR | LOG_TO_SYSLOG, LOG_MAIL);
		log_set_level(LOG_LEVEL_INFO);
	}
	rc = import(cli, &im);
	if (mta) {
		if (rc == EXIT_OK)
			log_msg(LOG_LEVEL_INFO, "dmarc import: report %s from %s about %s: %s",
				im.report.report_id, im.report.org_name, im.domain,
				im.duplicate ? "imported before, nothing changed" : "imported");
		else if (rc == EXIT_BAD_INPUT || rc == EXIT_NOT_FOUND)
			log_msg(LOG_LEVEL_NOTICE, "dmarc import: message dropped (exit code %d, the reason "
				"is above)", rc);
		rc = rc == EXIT_OK || rc == EXIT_BAD_INPUT || rc == EXIT_NOT_FOUND ? EXIT_OK : EX_TEMPFAIL;
	}
	dmarc_report_release(&im.report);
	return rc;
}

/* --- summary ------------------------------------------------------------------- */

static const struct field summary_fields[] = {
	{ "source_ip", FIELD_TEXT }, { "header_from", FIELD_TEXT }, { "messages", FIELD_NUMBER },
	{ "dmarc", FIELD_TEXT }, { "dkim", FIELD_TEXT }, { "spf", FIELD_TEXT },
	{ "disposition", FIELD_TEXT }, { "dkim_domain", FIELD_TEXT }, { "spf_domain", FIELD_TEXT },
	{ "reporters", FIELD_NUMBER }, { "first_day", FIELD_TEXT }, { "last_day", FIELD_TEXT },
};

/* YYYY-MM-DD, a day that exists. */
static int valid_day(struct cli *cli, const char *s)
{
	struct tm tm = { 0 };
	int y, m, d;
	char end;
	time_t t;

	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &end) != 3 || s[4] != '-' ||
	    s[7] != '-' || strspn(s, "0123456789-") != 10)
		return cli_fail(cli, EXIT_BAD_INPUT, "--since: \"%s\" is not a day (YYYY-MM-DD)", s);
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	t = timegm(&tm);
	if (y < 1970 || m < 1 || m > 12 || d < 1 || gmtime_r(&t, &tm) == NULL ||
	    tm.tm_mday != d || tm.tm_mon != m - 1)
		return cli_fail(cli, EXIT_BAD_INPUT, "--since: \"%s\" is not a day (YYYY-MM-DD)", s);
	return EXIT_OK;
}

struct totals {
	char text[256];
};

static int take_totals(const struct db_row *row, void *arg)
{
	struct totals *t = arg;
	const char *v[5];

	for (size_t i = 0; i < 5; i++)
		v[i] = row->values[i] != NULL ? row->values[i] : "0";
	if (snprintf(t->text, sizeof(t->text), "%s reports from %s reporters, %s messages: DMARC "
		     "pass %s, fail %s", v[0], v[1], v[2], v[3], v[4]) >= (int)sizeof(t->text))
		t->text[0] = '\0';
	return 1;
}

static int dmarc_summary(struct cli *cli, const struct cli_args *args)
{
	const char *since = cli_value(cli, args, "since");
	char domain[ADDR_DOMAIN_MAX + 1];
	struct totals t = { "" };
	struct db_param p[2];
	int rc;

	if ((rc = valid_domain(cli, args->positional[0], domain)) != EXIT_OK)
		return rc;
	if (since != NULL && (rc = valid_day(cli, since)) != EXIT_OK)
		return rc;
	p[0] = DB_STR(domain);
	p[1] = DB_STR(since != NULL ? since : "1970-01-01");
	if (cli_db(cli) == NULL)
		return EXIT_UNAVAILABLE;
	if (!cli->json) {
		rc = db_query(cli_db(cli), "SELECT COUNT(DISTINCT p.id), COUNT(DISTINCT p.org_name), "
			      "COALESCE(SUM(r.message_count), 0), COALESCE(SUM(IF(r.dmarc_dkim = 'pass' OR "
			      "r.dmarc_spf = 'pass', r.message_count, 0)), 0), COALESCE(SUM(IF(r.dmarc_dkim = "
			      "'fail' AND r.dmarc_spf = 'fail', r.message_count, 0)), 0) FROM dmarc_reports p "
			      "JOIN dmarc_report_rows r ON r.report = p.id WHERE p.domain = ? AND "
			      "p.date_end >= ?", p, 2, take_totals, &t);
		if (rc != DB_OK)
			return cli_db_fail(cli, rc, "reading the reports");
		printf("%s since %s: %s\n", domain, since != NULL ? since : "the first report", t.text);
	}
	return list_rows(cli, summary_fields, N_FIELDS(summary_fields),
			 "SELECT r.source_ip, r.header_from, SUM(r.message_count), IF(r.dmarc_dkim = 'pass' "
			 "OR r.dmarc_spf = 'pass', 'pass', 'fail'), r.dmarc_dkim, r.dmarc_spf, r.disposition, "
			 "r.dkim_domain, r.spf_domain, COUNT(DISTINCT p.org_name), "
			 "DATE_FORMAT(MIN(p.date_begin), '%Y-%m-%d'), DATE_FORMAT(MAX(p.date_end), '%Y-%m-%d') "
			 "FROM dmarc_reports p JOIN dmarc_report_rows r ON r.report = p.id "
			 "WHERE p.domain = ? AND p.date_end >= ? "
			 "GROUP BY r.source_ip, r.header_from, r.dmarc_dkim, r.dmarc_spf, r.disposition, "
			 "r.dkim_domain, r.spf_domain ORDER BY 3 DESC, 1, 2", p, 2, "dmarc summary");
}

static const struct cli_option import_options[] = {
	{ "mta", NULL },
	{ NULL, NULL },
};

static const struct cli_option summary_options[] = {
	{ "since", "YYYY-MM-DD" },
	{ NULL, NULL },
};

const struct cli_command dmarc_report_commands[] = {
	{ "dmarc", "import", "[--mta] < MESSAGE",
	  "store the DMARC aggregate report in a message sent to the rua address", 0, 0,
	  import_options, dmarc_import },
	{ "dmarc", "summary", "DOMAIN [--since YYYY-MM-DD]",
	  "who sends as DOMAIN, from where, passing or failing, by the reports received", 1, 1,
	  summary_options, dmarc_summary },
	{ NULL, NULL, NULL, NULL, 0, 0, NULL, NULL },
};
