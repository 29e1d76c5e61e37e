/*
 * writeback.h - writes to MariaDB that no request may wait for (policyd's
 * trap hits, held accounts and blocklist answers; the milter's reputation
 * counters and trusted replies), queued and executed in batches, in one
 * transaction each, by a thread of its own.
 *
 * While the database is down the queue keeps up to WRITEBACK_QUEUE_MAX
 * statements and retries; beyond that the oldest are dropped and counted.
 */
#ifndef LIMRISTEM_WRITEBACK_H
#define LIMRISTEM_WRITEBACK_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "settings.h"

#define WRITEBACK_QUEUE_MAX 10000
#define WRITEBACK_PARAMS_MAX 8

struct writeback;

/* Reads the database password now; NULL with err. name ("policyd") and
 * what ("trap hits, holds") say in the log whose writes are waiting. */
struct writeback *writeback_new(const char *name, const char *what, const struct db_settings *db,
				char *err, size_t errlen);
int writeback_start(struct writeback *wb);
/* Queues one statement; string parameters are copied. sql must be static. */
void writeback_push(struct writeback *wb, const char *sql, const struct db_param *params,
		    size_t nparams);
/* Statements dropped because the queue was full. */
uint64_t writeback_dropped(struct writeback *wb);
/* Tries to write what is queued (for at most a few seconds), then stops. */
void writeback_free(struct writeback **wb);

#endif
