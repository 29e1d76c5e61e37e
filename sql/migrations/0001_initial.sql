-- 0001_initial.sql - the Limristem schema: domains, mailboxes, forwarding,
-- anti-spam state, DKIM keys, quota usage.
--
-- Applied by `mailadm db migrate` (common/migrate.c), which records it in
-- schema_version. Every statement is idempotent (IF NOT EXISTS), so a run
-- that stopped half-way can simply be repeated.
--
-- Conventions:
--   * InnoDB, utf8mb4; names that are DNS names or hashes are ASCII with a
--     binary collation and must be stored lowercase (the CHECKs say so), so
--     that lookups by Postfix, Dovecot and the daemons are exact and indexed.
--   * Times are DATETIME in UTC (the suite's sessions run with time_zone
--     '+00:00').
--   * Every constraint has a name, so that a refused row says which rule it
--     broke.

CREATE TABLE IF NOT EXISTS schema_version (
	version INT UNSIGNED NOT NULL PRIMARY KEY COMMENT 'NNNN of sql/migrations/NNNN_name.sql',
	name VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'name part of the file name',
	checksum CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'SHA-256 of the file as applied',
	applied_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP COMMENT 'when it was applied (UTC)'
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Migrations applied to this database, one row each';

CREATE TABLE IF NOT EXISTS change_counter (
	id TINYINT UNSIGNED NOT NULL PRIMARY KEY COMMENT 'always 1: a single row',
	generation BIGINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'incremented by mailadm after every change',
	changed_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP COMMENT 'time of the last change (UTC)',
	CONSTRAINT change_counter_single_row CHECK (id = 1)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Daemons reload their snapshot of the tables when generation moves';

INSERT IGNORE INTO change_counter (id, generation) VALUES (1, 0);

CREATE TABLE IF NOT EXISTS domains (
	id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	name VARCHAR(253) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
		COMMENT 'the domain, lowercase, IDNs as A-labels (xn--...)',
	active BOOLEAN NOT NULL DEFAULT TRUE COMMENT 'FALSE: Postfix no longer accepts mail for it',
	description VARCHAR(255) NOT NULL DEFAULT '' COMMENT 'free text for the operator',
	created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
	updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
	CONSTRAINT domains_name_unique UNIQUE (name),
	CONSTRAINT domains_name_syntax CHECK (
		name REGEXP '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Domains this installation receives mail for (Postfix virtual_mailbox_domains)';

CREATE TABLE IF NOT EXISTS accounts (
	id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	local_part VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
		COMMENT 'the part before @, lowercase dot-atom',
	domain VARCHAR(253) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'domains.name',
	email VARCHAR(318) CHARACTER SET ascii COLLATE ascii_bin
		AS (CONCAT(local_part, '@', domain)) STORED COMMENT 'local_part@domain, the login name',
	maildir VARCHAR(320) CHARACTER SET ascii COLLATE ascii_bin
		AS (CONCAT(domain, '/', local_part, '/')) VIRTUAL
		COMMENT 'mailbox path under the mail root, for Postfix and Dovecot',
	password VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '!'
		COMMENT 'Dovecot-style hash {SCHEME}hash; ! means no password (cannot log in)',
	display_name VARCHAR(255) NOT NULL DEFAULT '' COMMENT 'the person or role',
	quota_mb INT NOT NULL DEFAULT 0 COMMENT 'mailbox quota in MiB; 0 for no limit',
	active BOOLEAN NOT NULL DEFAULT TRUE COMMENT 'FALSE: no login, no delivery',
	send_limit_messages INT NULL
		COMMENT 'messages per sending window; NULL for the configured default',
	send_limit_recipients INT NULL
		COMMENT 'recipients per sending window; NULL for the configured default',
	sending_held_at DATETIME NULL
		COMMENT 'set when policyd held the account as compromised; cleared by the operator',
	sending_hold_reason VARCHAR(255) NULL COMMENT 'why the account was held',
	password_changed_at DATETIME NULL COMMENT 'last password change (UTC)',
	created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
	updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
	CONSTRAINT accounts_email_unique UNIQUE (email),
	INDEX accounts_domain (domain),
	CONSTRAINT accounts_domain_exists FOREIGN KEY (domain) REFERENCES domains (name)
		ON UPDATE RESTRICT ON DELETE RESTRICT,
	CONSTRAINT accounts_local_part_syntax CHECK (
		local_part REGEXP '^[a-z0-9!#$%&''*+/=?^_`{|}~-]+(\\.[a-z0-9!#$%&''*+/=?^_`{|}~-]+)*$'),
	CONSTRAINT accounts_password_format CHECK (
		password = '!' OR password REGEXP '^\\{[A-Z0-9.-]+\\}.'),
	CONSTRAINT accounts_quota_range CHECK (quota_mb BETWEEN 0 AND 16777216),
	CONSTRAINT accounts_send_limit_messages_range CHECK (
		send_limit_messages IS NULL OR send_limit_messages BETWEEN 0 AND 1000000),
	CONSTRAINT accounts_send_limit_recipients_range CHECK (
		send_limit_recipients IS NULL OR send_limit_recipients BETWEEN 0 AND 10000000)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Mailboxes: login, password hash, quota, sending limits';

CREATE TABLE IF NOT EXISTS aliases (
	id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	source_local VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
		COMMENT 'local part of the alias; empty for a catch-all of the domain',
	domain VARCHAR(253) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'domains.name',
	source VARCHAR(318) CHARACTER SET ascii COLLATE ascii_bin
		AS (CONCAT(source_local, '@', domain)) STORED COMMENT 'the alias address',
	destination VARCHAR(254) NOT NULL
		COMMENT 'where mail goes: a local account, another alias or an external address',
	active BOOLEAN NOT NULL DEFAULT TRUE,
	created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
	updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
	CONSTRAINT aliases_pair_unique UNIQUE (source, destination),
	INDEX aliases_domain (domain),
	INDEX aliases_destination (destination),
	CONSTRAINT aliases_domain_exists FOREIGN KEY (domain) REFERENCES domains (name)
		ON UPDATE RESTRICT ON DELETE RESTRICT,
	CONSTRAINT aliases_source_syntax CHECK (
		source_local = '' OR
		source_local REGEXP '^[a-z0-9!#$%&''*+/=?^_`{|}~-]+(\\.[a-z0-9!#$%&''*+/=?^_`{|}~-]+)*$'),
	CONSTRAINT aliases_destination_syntax CHECK (destination REGEXP '^[^@[:space:]]+@[^@[:space:]]+$')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Alias addresses (Postfix virtual_alias_maps); one row per destination';

CREATE TABLE IF NOT EXISTS redirects (
	id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	source_local VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
		COMMENT 'local part of the redirected address',
	domain VARCHAR(253) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'domains.name',
	source VARCHAR(318) CHARACTER SET ascii COLLATE ascii_bin
		AS (CONCAT(source_local, '@', domain)) STORED COMMENT 'the redirected address',
	destination VARCHAR(254) NOT NULL
		COMMENT 'external address the mail is forwarded to (ARC-sealed, SRS-rewritten)',
	keep_copy BOOLEAN NOT NULL DEFAULT FALSE COMMENT 'also deliver to the local mailbox',
	active BOOLEAN NOT NULL DEFAULT TRUE,
	created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
	updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
	CONSTRAINT redirects_pair_unique UNIQUE (source, destination),
	INDEX redirects_domain (domain),
	CONSTRAINT redirects_domain_exists FOREIGN KEY (domain) REFERENCES domains (name)
		ON UPDATE RESTRICT ON DELETE RESTRICT,
	CONSTRAINT redirects_source_syntax CHECK (
		source_local REGEXP '^[a-z0-9!#$%&''*+/=?^_`{|}~-]+(\\.[a-z0-9!#$%&''*+/=?^_`{|}~-]+)*$'),
	CONSTRAINT redirects_destination_syntax CHECK (destination REGEXP '^[^@[:space:]]+@[^@[:space:]]+$')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Forwarding of a local address to an external one';

CREATE TABLE IF NOT EXISTS reputations (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	entity_type ENUM('ip', 'network', 'spf_domain', 'dkim_domain') NOT NULL
		COMMENT 'what entity is: a client IP, a client network, a validated domain',
	entity VARCHAR(253) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
		COMMENT '192.0.2.1, 192.0.2.0/24, 2001:db8::/64 or a lowercase domain',
	good BIGINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'messages judged good (decayed counts flushed from Redis)',
	bad BIGINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'messages judged spam',
	rejected BIGINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'messages refused',
	trap_hits BIGINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'mail sent to spam traps',
	override ENUM('none', 'allow', 'block') NOT NULL DEFAULT 'none'
		COMMENT 'operator decision that wins over the score',
	override_expires_at DATETIME NULL COMMENT 'when the override lapses; NULL for never',
	override_reason VARCHAR(255) NOT NULL DEFAULT '' COMMENT 'why the operator set it',
	first_seen_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
	last_seen_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
	CONSTRAINT reputations_entity_unique UNIQUE (entity_type, entity),
	INDEX reputations_override (override, override_expires_at),
	CONSTRAINT reputations_entity_nonempty CHECK (entity <> ''),
	CONSTRAINT reputations_override_expiry CHECK (override <> 'none' OR override_expires_at IS NULL)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Durable reputation history and operator overrides';

CREATE TABLE IF NOT EXISTS greylist (
	id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	kind ENUM('client_network', 'sender_domain', 'recipient') NOT NULL
		COMMENT 'what value exempts from greylisting',
	value VARCHAR(254) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
		COMMENT '192.0.2.0/24, example.org or user@example.org, lowercase',
	comment VARCHAR(255) NOT NULL DEFAULT '' COMMENT 'why it is exempt',
	created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
	CONSTRAINT greylist_exemption_unique UNIQUE (kind, value),
	CONSTRAINT greylist_value_nonempty CHECK (value <> '' AND value = LOWER(value))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Greylisting exemptions; the triplets themselves live in Redis';

CREATE TABLE IF NOT EXISTS spam_traps (
	id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	local_part VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
		COMMENT 'local part of the trap address',
	domain VARCHAR(253) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'domains.name',
	address VARCHAR(318) CHARACTER SET ascii COLLATE ascii_bin
		AS (CONCAT(local_part, '@', domain)) STORED COMMENT 'the trap address',
	comment VARCHAR(255) NOT NULL DEFAULT '' COMMENT 'where the address was seeded',
	hits BIGINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'messages it caught',
	last_hit_at DATETIME NULL,
	created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
	CONSTRAINT spam_traps_address_unique UNIQUE (address),
	INDEX spam_traps_domain (domain),
	CONSTRAINT spam_traps_domain_exists FOREIGN KEY (domain) REFERENCES domains (name)
		ON UPDATE RESTRICT ON DELETE RESTRICT,
	CONSTRAINT spam_traps_local_part_syntax CHECK (
		local_part REGEXP '^[a-z0-9!#$%&''*+/=?^_`{|}~-]+(\\.[a-z0-9!#$%&''*+/=?^_`{|}~-]+)*$')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Addresses nobody legitimate writes to; mail to them penalizes the sender';

CREATE TABLE IF NOT EXISTS trusted_replies (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	local_address VARCHAR(318) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
		COMMENT 'our user who wrote out, lowercase',
	external_address VARCHAR(254) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
		COMMENT 'the outside address written to, whose replies are trusted',
	created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
	expires_at DATETIME NOT NULL COMMENT 'renewed by every new message out',
	CONSTRAINT trusted_replies_pair_unique UNIQUE (external_address, local_address),
	INDEX trusted_replies_expires (expires_at),
	CONSTRAINT trusted_replies_addresses CHECK (
		local_address LIKE '_%@_%' AND external_address LIKE '_%@_%' AND
		local_address = LOWER(local_address) AND external_address = LOWER(external_address)),
	CONSTRAINT trusted_replies_expiry CHECK (expires_at > created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Correspondents our users wrote to: their replies skip greylisting';

CREATE TABLE IF NOT EXISTS blocklists_cache (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	ip VARCHAR(45) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'client address looked up',
	zone VARCHAR(253) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'DNSBL zone asked',
	listed BOOLEAN NOT NULL COMMENT 'TRUE when the zone listed the address',
	answer VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT ''
		COMMENT 'the A records returned (127.0.0.x, comma-separated)',
	reason VARCHAR(512) NOT NULL DEFAULT '' COMMENT 'the TXT record of the listing, if any',
	checked_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
	expires_at DATETIME NOT NULL COMMENT 'checked_at plus the answer TTL',
	CONSTRAINT blocklists_cache_unique UNIQUE (ip, zone),
	INDEX blocklists_cache_expires (expires_at),
	CONSTRAINT blocklists_cache_ip CHECK (IS_IPV4(ip) OR IS_IPV6(ip)),
	CONSTRAINT blocklists_cache_zone CHECK (zone <> '' AND zone = LOWER(zone)),
	CONSTRAINT blocklists_cache_expiry CHECK (expires_at >= checked_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='DNS blocklist answers: the durable record the operator sees';

CREATE TABLE IF NOT EXISTS dkim_keys (
	id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	domain VARCHAR(253) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'domains.name (the d= tag)',
	selector VARCHAR(63) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'the s= tag',
	algorithm ENUM('rsa-sha256', 'ed25519-sha256') NOT NULL,
	bits SMALLINT UNSIGNED NULL COMMENT 'RSA modulus size; NULL for Ed25519',
	key_path VARCHAR(4095) NOT NULL COMMENT 'private key file (PEM), mode 0640 root:mailkeys',
	public_key TEXT CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'base64 for the p= tag',
	state ENUM('pending', 'active', 'retiring', 'retired') NOT NULL DEFAULT 'pending'
		COMMENT 'pending: published, not signing; active: signing; retiring: published only',
	active_algorithm VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin
		AS (IF(state = 'active', algorithm, NULL)) STORED
		COMMENT 'set while active: at most one active key per domain and algorithm',
	created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
	activated_at DATETIME NULL,
	retiring_at DATETIME NULL,
	retired_at DATETIME NULL,
	CONSTRAINT dkim_keys_selector_unique UNIQUE (domain, selector),
	CONSTRAINT dkim_keys_one_active UNIQUE (domain, active_algorithm),
	CONSTRAINT dkim_keys_domain_exists FOREIGN KEY (domain) REFERENCES domains (name)
		ON UPDATE RESTRICT ON DELETE RESTRICT,
	CONSTRAINT dkim_keys_selector_syntax CHECK (
		selector REGEXP '^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?)*$'),
	CONSTRAINT dkim_keys_bits CHECK (
		(algorithm = 'rsa-sha256' AND bits BETWEEN 1024 AND 8192) OR
		(algorithm = 'ed25519-sha256' AND bits IS NULL)),
	CONSTRAINT dkim_keys_public_key CHECK (public_key REGEXP '^[A-Za-z0-9+/]+=*$')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='DKIM signing keys per domain and their rotation state';

CREATE TABLE IF NOT EXISTS quota_usage (
	username VARCHAR(318) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY
		COMMENT 'accounts.email (Dovecot %u)',
	bytes BIGINT NOT NULL DEFAULT 0 COMMENT 'mailbox size in bytes, written by Dovecot''s quota dict',
	messages INT NOT NULL DEFAULT 0 COMMENT 'messages in the mailbox, written by Dovecot''s quota dict'
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Mailbox usage as Dovecot reports it (dict quota over SQL); policyd reads it';
