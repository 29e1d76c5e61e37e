/*
 * writeback.h - writes to MariaDB that no request may wait for (policyd's
 * trap hits, held accounts and blocklist answers; the milter's reputation
 * counters and trusted replies), queued and executed in batches, in one
 * transaction each, by a thread of its own.
 *
 * A batch stays with the writer until it is committed:
 *   - the database unreachable (or the connection lost, even during
 *     COMMIT): tried again, with a backoff, for as long as it takes; each
 *     batch also moves this writer's row in writeback_writers in the same
 *     transaction, so after a connection lost during COMMIT the next
 *     attempt knows whether the server had committed it and never writes
 *     it twice;
 *   - rolled back by the server (deadlock, lock wait timeout, Galera's
 *     certification failure, a read-only server): run again whole, with a
 *     backoff, at most WRITEBACK_ATTEMPTS_MAX times; then given up, each
 *     statement logged;
 *   - one statement refused for good (a constraint): that statement is
 *     logged with its SQL and parameters and given up, the rest of the
 *     batch is run again without it.
 * While the database is down the queue keeps up to WRITEBACK_QUEUE_MAX
 * statements; beyond that the oldest are dropped. Every drop, retry and
 * give-up is counted (writeback_* metrics, label writer="NAME") and
 * logged (rate-limited). Parameters are logged, so never queue a secret.
 */
#ifndef LIMRISTEM_WRITEBACK_H
#define LIMRISTEM_WRITEBACK_H

#include <stddef.h>
#include <stdint.h>

#include "common/db.h"
#include "common/settings.h"

#define WRITEBACK_QUEUE_MAX 10000
#define WRITEBACK_PARAMS_MAX 8
#define WRITEBACK_BATCH_MAX 200
#define WRITEBACK_ATTEMPTS_MAX 10	/* of a batch the server keeps rolling back */

struct metrics;
struct writeback;

/* Reads the database password now; NULL with err. name ("policyd") and
 * what ("trap hits, holds") say in the log and the metrics whose writes
 * these are. metrics: where to register the writeback_* series, or NULL. */
struct writeback *writeback_new(const char *name, const char *what, const struct db_settings *db,
				struct metrics *metrics, char *err, size_t errlen);
int writeback_start(struct writeback *wb);
/* Queues one statement; string parameters are copied. sql must be static. */
void writeback_push(struct writeback *wb, const char *sql, const struct db_param *params,
		    size_t nparams);
/* Statements dropped because the queue was full. */
uint64_t writeback_dropped(struct writeback *wb);
/* Tries to write what is queued (for at most a few seconds), then stops;
 * what is left is logged and counted as lost. */
void writeback_free(struct writeback **wb);

#endif
