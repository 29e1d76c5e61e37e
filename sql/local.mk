# sql/local.mk - the schema migrations and the Postfix/Dovecot lookup files.

nobase_dist_pkgdata_DATA = \
	sql/migrations/0001_initial.sql \
	sql/migrations/0002_writeback_writers.sql \
	sql/migrations/0003_dmarc_reports.sql \
	sql/postfix/virtual_domains.cf \
	sql/postfix/virtual_mailboxes.cf \
	sql/postfix/virtual_aliases.cf \
	sql/postfix/sender_login.cf \
	sql/dovecot/dovecot-sql.conf.ext \
	sql/dovecot/dovecot-dict-quota.conf.ext
