-- 0002_writeback_writers.sql - where the daemons' database writers
-- (common/writeback.c) record how far they got.
--
-- Each batch of write-back statements (trap hits, reputation counters, ...)
-- moves its writer's row in the same transaction. When the connection is
-- lost during COMMIT the writer cannot tell whether the server committed;
-- on its next attempt the row says so, and the batch is neither lost nor
-- written twice. One row per writer (a daemon's run); rows idle for a week
-- are deleted by the writers themselves.

CREATE TABLE IF NOT EXISTS writeback_writers (
	writer CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY
		COMMENT 'random (hex), chosen by the writer when its daemon starts',
	name VARCHAR(32) NOT NULL COMMENT 'whose writer: policyd, milter',
	seq BIGINT UNSIGNED NOT NULL COMMENT 'number of the last batch it committed',
	written_at DATETIME NOT NULL COMMENT 'when (UTC)',
	INDEX writeback_writers_written (written_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Progress of each write-back writer, so that a batch cut off at COMMIT is written once';
