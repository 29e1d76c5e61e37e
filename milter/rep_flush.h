/*
 * rep_flush.h - the milter's writes to MariaDB: reputation counters and
 * trusted replies, summed in memory and handed to the writeback thread
 * once per reputation_flush, so the database sees one upsert per entity
 * and interval, never one write per message.
 */
#ifndef LIMRISTEM_MILTER_REP_FLUSH_H
#define LIMRISTEM_MILTER_REP_FLUSH_H

#include <stdint.h>

#include "common/reputation.h"

struct writeback;
struct rep_flush;

struct rep_flush *rep_flush_new(struct writeback *wb, int64_t interval_ms);
/* Starts the thread that hands the sums over: 0, or -1. */
int rep_flush_start(struct rep_flush *flush);
/* Stops the thread and hands what is left to the writeback (which the
 * caller frees after). */
void rep_flush_free(struct rep_flush **flush);

void rep_flush_count(struct rep_flush *flush, enum rep_type type, const char *entity,
		     const struct rep_delta *delta);
void rep_flush_reply(struct rep_flush *flush, const char *external, const char *local,
		     int64_t lifetime_s);

#endif
