-- 0003_dmarc_reports.sql - DMARC aggregate reports that other receivers
-- sent about our domains (RFC 7489 appendix C, RFC 9990), as
-- `mailadm dmarc import` reads them from the rua mailbox.
--
-- A report is identified by its reporter and report id: the same report
-- sent twice is stored once (dmarc_reports_origin_unique), so its messages
-- are counted once. `mailadm dmarc summary` reads the rows back grouped by
-- source and result.

CREATE TABLE IF NOT EXISTS dmarc_reports (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	org_name VARCHAR(255) NOT NULL COMMENT 'the reporting organization (report_metadata org_name)',
	report_id VARCHAR(255) NOT NULL COMMENT 'its id for the report, unique per org_name',
	email VARCHAR(255) NOT NULL DEFAULT '' COMMENT 'the reporter''s contact address',
	domain VARCHAR(253) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
		COMMENT 'policy_published domain: the domain the report is about',
	date_begin DATETIME NOT NULL COMMENT 'the period covered (UTC)',
	date_end DATETIME NOT NULL,
	format VARCHAR(8) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
		COMMENT 'rfc7489 (no namespace) or rfc9990',
	policy_p VARCHAR(10) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
		COMMENT 'the policy the reporter found published: none, quarantine, reject',
	policy_sp VARCHAR(10) CHARACTER SET ascii COLLATE ascii_bin NULL,
	policy_np VARCHAR(10) CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'RFC 9990',
	adkim CHAR(1) CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'r or s',
	aspf CHAR(1) CHARACTER SET ascii COLLATE ascii_bin NULL,
	pct TINYINT UNSIGNED NULL COMMENT 'RFC 7489 only',
	testing CHAR(1) CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'RFC 9990 t=: y or n',
	discovery_method VARCHAR(10) CHARACTER SET ascii COLLATE ascii_bin NULL
		COMMENT 'RFC 9990: psl or treewalk',
	records INT UNSIGNED NOT NULL COMMENT 'how many rows it has',
	messages BIGINT UNSIGNED NOT NULL COMMENT 'the sum of their counts',
	imported_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
	CONSTRAINT dmarc_reports_origin_unique UNIQUE (org_name, report_id),
	CONSTRAINT dmarc_reports_period CHECK (date_begin <= date_end),
	CONSTRAINT dmarc_reports_policy CHECK (policy_p IN ('none', 'quarantine', 'reject')),
	CONSTRAINT dmarc_reports_pct CHECK (pct IS NULL OR pct <= 100),
	INDEX dmarc_reports_domain (domain, date_end)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='DMARC aggregate reports received about our domains, one row per report';

CREATE TABLE IF NOT EXISTS dmarc_report_rows (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	report BIGINT UNSIGNED NOT NULL COMMENT 'dmarc_reports.id',
	source_ip VARCHAR(45) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
		COMMENT 'the address the messages came from',
	message_count INT UNSIGNED NOT NULL COMMENT 'how many messages',
	disposition VARCHAR(10) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
		COMMENT 'what the receiver did: none, quarantine, reject (pass: RFC 9990)',
	dmarc_dkim CHAR(4) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
		COMMENT 'policy_evaluated: aligned DKIM pass or fail',
	dmarc_spf CHAR(4) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
		COMMENT 'policy_evaluated: aligned SPF pass or fail',
	reason VARCHAR(24) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT ''
		COMMENT 'the first policy override reason (forwarded, local_policy, ...) or empty',
	header_from VARCHAR(253) NOT NULL COMMENT 'the RFC 5322.From domain',
	envelope_from VARCHAR(253) NOT NULL DEFAULT '' COMMENT 'the RFC 5321.MailFrom domain, if given',
	dkim_domain VARCHAR(253) NOT NULL DEFAULT ''
		COMMENT 'the d= of the first passing DKIM signature, else of the first one',
	dkim_selector VARCHAR(63) NOT NULL DEFAULT '',
	dkim_result VARCHAR(15) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
	dkim_signatures SMALLINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'how many DKIM results the record had',
	spf_domain VARCHAR(253) NOT NULL DEFAULT '' COMMENT 'the domain SPF checked',
	spf_scope VARCHAR(5) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '' COMMENT 'mfrom or helo',
	spf_result VARCHAR(15) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
	CONSTRAINT dmarc_report_rows_report_exists FOREIGN KEY (report) REFERENCES dmarc_reports (id)
		ON DELETE CASCADE,
	CONSTRAINT dmarc_report_rows_results CHECK (dmarc_dkim IN ('pass', 'fail') AND
		dmarc_spf IN ('pass', 'fail')),
	INDEX dmarc_report_rows_source (source_ip)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='The records of each DMARC aggregate report: a source, a count and its results';
