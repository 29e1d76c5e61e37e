/*
 * dmarc_report_unpack.c - gzip, zip or plain XML into XML, bounded.
 *
 * Inflation stops as soon as the output would pass DMARC_REPORT_XML_MAX,
 * so a small bomb (1 KB inflating to gigabytes) costs at most that much
 * memory. The gzip stream's own CRC and length are checked by zlib; a
 * zip member's CRC is checked when its local header carries it.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ZLIB_CONST
#include <zlib.h>

#include "mailauth/dmarc_report.h"
#include "mailauth/dmarc_report_unpack.h"

#define CHUNK (64u * 1024)
#define ZIP_LOCAL_HEADER 30
#define ZIP_FLAG_ENCRYPTED 0x0001u
#define ZIP_FLAG_DESCRIPTOR 0x0008u	/* sizes and CRC after the data */

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);	/* an error cut short is still an error */
	va_end(ap);
	return -1;
}

enum dmarc_report_packing dmarc_report_packing(const unsigned char *d, size_t len)
{
	size_t i = 0;

	if (len >= 2 && d[0] == 0x1f && d[1] == 0x8b)
		return DMARC_REPORT_GZIP;
	if (len >= 4 && memcmp(d, "PK\x03\x04", 4) == 0)
		return DMARC_REPORT_ZIP;
	if (len >= 3 && memcmp(d, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && (d[i] == ' ' || d[i] == '\t' || d[i] == '\r' || d[i] == '\n'))
		i++;
	return i < len && d[i] == '<' ? DMARC_REPORT_XML : DMARC_REPORT_UNKNOWN;
}

/* Inflates in[0..len) with zlib's window_bits (31: gzip, -15: raw
 * deflate) onto xml, up to DMARC_REPORT_XML_MAX in all. */
static int inflate_bounded(const unsigned char *in, size_t len, int window_bits, struct strbuf *xml,
			   const char *what, char *err, size_t errlen)
{
	z_stream z;
	int zr = Z_OK;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, window_bits) != Z_OK)
		return fail(err, errlen, "%s: zlib could not start", what);
	z.next_in = (const unsigned char *)in;
	z.avail_in = len > UINT32_MAX ? UINT32_MAX : (uInt)len;
	while (zr != Z_STREAM_END) {
		if (xml->len >= DMARC_REPORT_XML_MAX) {
			inflateEnd(&z);
			return fail(err, errlen, "%s: over %u MiB uncompressed", what,
				    DMARC_REPORT_XML_MAX >> 20);
		}
		strbuf_reserve(xml, CHUNK);
		z.next_out = (unsigned char *)xml->data + xml->len;
		z.avail_out = CHUNK;
		if (xml->len + CHUNK > DMARC_REPORT_XML_MAX)
			z.avail_out = (uInt)(DMARC_REPORT_XML_MAX - xml->len) + 1;	/* one more says "over" */
		zr = inflate(&z, Z_NO_FLUSH);
		xml->len = (size_t)((char *)z.next_out - xml->data);
		xml->data[xml->len] = '\0';	/* reserve() kept room for it */
		if (zr == Z_STREAM_END)
			break;
		if (zr != Z_OK || (z.avail_in == 0 && z.avail_out != 0)) {
			inflateEnd(&z);
			return fail(err, errlen, "%s: corrupt or cut short (%s)", what,
				    zr == Z_OK || zr == Z_BUF_ERROR ? "the data ends early" : z.msg ? z.msg : "zlib error");
		}
	}
	inflateEnd(&z);
	if (xml->len > DMARC_REPORT_XML_MAX)
		return fail(err, errlen, "%s: over %u MiB uncompressed", what, DMARC_REPORT_XML_MAX >> 20);
	return 0;
}

static unsigned le16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The first member of a zip, from its local header. */
static int unzip_first(const unsigned char *d, size_t len, struct strbuf *xml, char *err,
		       size_t errlen)
{
	unsigned flags, method;
	uint32_t crc, csize;
	size_t start = xml->len, data;

	if (len < ZIP_LOCAL_HEADER)
		return fail(err, errlen, "zip: cut short in its first header");
	flags = le16(d + 6);
	method = le16(d + 8);
	crc = le32(d + 14);
	csize = le32(d + 18);
	data = ZIP_LOCAL_HEADER + (size_t)le16(d + 26) + le16(d + 28);
	if (data > len)
		return fail(err, errlen, "zip: cut short in its first header");
	if (flags & ZIP_FLAG_ENCRYPTED)
		return fail(err, errlen, "zip: the member is encrypted");
	if (method == 0) {	/* stored */
		if ((flags & ZIP_FLAG_DESCRIPTOR) || csize == UINT32_MAX)
			return fail(err, errlen, "zip: a stored member without its size in the header");
		if (csize > len - data)
			return fail(err, errlen, "zip: cut short in its first member");
		if (csize > DMARC_REPORT_XML_MAX)
			return fail(err, errlen, "zip: over %u MiB uncompressed", DMARC_REPORT_XML_MAX >> 20);
		strbuf_append(xml, d + data, csize);
	} else if (method == 8) {	/* deflate */
		if (inflate_bounded(d + data, len - data, -15, xml, "zip", err, errlen) < 0)
			return -1;
	} else {
		return fail(err, errlen, "zip: compression method %u (only stored and deflate are read)",
			    method);
	}
	if (!(flags & ZIP_FLAG_DESCRIPTOR) &&
	    crc32(0L, (const unsigned char *)xml->data + start, (uInt)(xml->len - start)) != crc)
		return fail(err, errlen, "zip: the member's CRC does not match");
	return 0;
}

int dmarc_report_unpack(const unsigned char *d, size_t len, struct strbuf *xml, char *err,
			size_t errlen)
{
	switch (dmarc_report_packing(d, len)) {
	case DMARC_REPORT_GZIP:
		return inflate_bounded(d, len, 16 + 15, xml, "gzip", err, errlen);
	case DMARC_REPORT_ZIP:
		return unzip_first(d, len, xml, err, errlen);
	case DMARC_REPORT_XML:
		if (len > DMARC_REPORT_XML_MAX)
			return fail(err, errlen, "the XML is over %u MiB", DMARC_REPORT_XML_MAX >> 20);
		strbuf_append(xml, d, len);
		return 0;
	case DMARC_REPORT_UNKNOWN:
		break;
	}
	return fail(err, errlen, "neither gzip, zip nor XML");
}
