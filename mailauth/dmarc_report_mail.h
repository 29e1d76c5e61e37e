/*
 * dmarc_report_mail.h - the DMARC aggregate report in a message sent to
 * a rua address: the MIME part that holds it (gzip, zip or XML; base64,
 * quoted-printable or as is), unpacked and parsed.
 *
 * Pure and bounded: the message is a buffer of at most
 * DMARC_REPORT_MESSAGE_MAX bytes, MIME is walked at most
 * DMARC_REPORT_MIME_DEPTH levels and DMARC_REPORT_MIME_PARTS_MAX parts
 * deep, and the first part that is a report (by its type, its file name
 * or its first bytes) is the one read. Header fields are found with
 * msgsplit(). A bare report file (.xml, .xml.gz, .zip) is taken too.
 */
#ifndef LIMRISTEM_MAILAUTH_DMARC_REPORT_MAIL_H
#define LIMRISTEM_MAILAUTH_DMARC_REPORT_MAIL_H

#include <stddef.h>

#include "mailauth/dmarc_report.h"

#define DMARC_REPORT_MESSAGE_MAX (20u << 20)
#define DMARC_REPORT_MIME_DEPTH 5
#define DMARC_REPORT_MIME_PARTS_MAX 100

/* Finds, unpacks and parses the report in msg[0..len) into *r (which the
 * caller releases with dmarc_report_release(), also after a failure).
 * Returns 0, or -1 with why in err. */
int dmarc_report_from_message(const char *msg, size_t len, struct dmarc_report *r, char *err,
			      size_t errlen);

#endif
