/*
 * milter-bench.c - load generator speaking the MTA side of the milter
 * protocol (version 6, as Postfix does), for limristem-milter, OpenDKIM
 * and OpenDMARC alike.
 *
 *   milter-bench --address unix:/path|host:port [--connections 8]
 *                [--seconds 5] [--client-ip 192.0.2.1] [--helo mx.example]
 *                [--mail-from a@b.example] [--rcpt c@d.example]
 *                [--auth USER] [--vary] MESSAGE-FILE...
 *
 * --vary: every "VVVVVVVV" in --mail-from and in the messages' header
 * fields becomes the message's number (8 digits), so that each message
 * comes from a domain of its own and no cache answers for another.
 *
 * Each connection is one SMTP session (its own thread): CONNECT and HELO
 * once, then message after message (MAIL, RCPT, headers, EOH, body,
 * end of message), round-robin over the files. The filter's negotiated
 * protocol flags are honoured (steps it does not want are not sent,
 * steps it does not answer are not waited for). Prints one line:
 *   messages=N seconds=S mps=R p50_us=.. p90_us=.. p99_us=.. max_us=..
 *   accepted=A rejected=R tempfailed=T discarded=D headers_added=H errors=E
 * Latency is per message, from MAIL to the final answer at its end.
 * Compare filters over unix sockets (what Postfix setups use): over TCP,
 * libmilter's separate small writes meet the client's delayed ACKs and
 * every filter looks 40 ms slow.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define SAMPLES_MAX (1 << 21)
#define CHUNK_MAX 65535

/* protocol flags a filter may negotiate (libmilter's SMFIP_*) */
#define P_NOCONNECT 0x1
#define P_NOHELO 0x2
#define P_NOMAIL 0x4
#define P_NORCPT 0x8
#define P_NOBODY 0x10
#define P_NOHDRS 0x20
#define P_NOEOH 0x40
#define P_NR_HDR 0x80
#define P_NR_CONN 0x1000
#define P_NR_HELO 0x2000
#define P_NR_MAIL 0x4000
#define P_NR_RCPT 0x8000
#define P_NR_EOH 0x40000
#define P_NR_BODY 0x80000
#define P_HDR_LEADSPC 0x100000
#define P_ALL_WE_OFFER (0x1fffff)

struct message {
	char *data;
	size_t len, header_end;	/* offset of the body */
};

struct options {
	const char *address, *client_ip, *helo, *mail_from, *rcpt, *auth;
	int connections;
	bool vary;
	double seconds;
	struct message *messages;
	size_t message_count;
};

struct counts {
	unsigned long accepted, rejected, tempfailed, discarded, headers_added, errors;
};

struct worker {
	const struct options *opt;
	pthread_t thread;
	size_t next;
	uint64_t *samples;
	size_t count;
	struct counts c;
	int fd;
	uint32_t pflags;
};

static volatile bool stop_flag;
static atomic_uint vary_counter;

/* Every "VVVVVVVV" in s[0..len) becomes n, in 8 digits. */
static void vary(char *s, size_t len, unsigned n)
{
	char digits[9];

	snprintf(digits, sizeof(digits), "%08u", n % 100000000u);
	for (char *p = s; (p = memmem(p, len - (size_t)(p - s), "VVVVVVVV", 8)) != NULL; p += 8)
		memcpy(p, digits, 8);
}

static bool write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static bool read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* One packet: 4-byte length (command included), command, data, in one
 * write (split writes meet Nagle and delayed ACKs: 40 ms a step). */
static bool send_packet(int fd, char cmd, const void *data, size_t len)
{
	uint32_t n = htonl((uint32_t)len + 1);
	char head[5];
	struct iovec iov[2] = { { head, 5 }, { (void *)(uintptr_t)data, len } };
	ssize_t sent;

	memcpy(head, &n, 4);
	head[4] = cmd;
	sent = writev(fd, iov, len > 0 ? 2 : 1);
	if (sent < 0)
		return false;
	if ((size_t)sent >= 5 + len)
		return true;
	if ((size_t)sent < 5 && !write_all(fd, head + sent, 5 - (size_t)sent))
		return false;
	size_t done = (size_t)sent > 5 ? (size_t)sent - 5 : 0;
	return write_all(fd, (const char *)data + done, len - done);
}

/* Reads one reply into buf; returns its command byte, or 0 on error. */
static char read_reply(int fd, char *buf, size_t buflen, size_t *len_r)
{
	uint32_t n;
	char cmd;

	if (!read_all(fd, &n, 4))
		return 0;
	n = ntohl(n);
	if (n == 0 || n - 1 > buflen || !read_all(fd, &cmd, 1) || !read_all(fd, buf, n - 1))
		return 0;
	*len_r = n - 1;
	return cmd;
}

/* Waits for the answer to one step; modification actions before it are
 * counted. Returns the final command byte ('c' continue, 'a' accept, 'r',
 * 't', 'y' reply code, 'd' discard, 's' skip), or 0 on error. */
static char await_answer(struct worker *w)
{
	char buf[CHUNK_MAX + 1024];
	size_t len;

	for (;;) {
		char cmd = read_reply(w->fd, buf, sizeof(buf), &len);

		switch (cmd) {
		case 'h': case 'i': w->c.headers_added++; continue;	/* add / insert header */
		case 'm': case '+': case '-': case 'e': case '2': case 'q': case 'b': continue;
		case 'p': continue;	/* progress */
		case 0: return 0;
		default: return cmd;
		}
	}
}

/* Sends a step unless the filter asked not to get it; waits for the
 * answer unless it said it will not answer. */
static char step(struct worker *w, uint32_t skip_flag, uint32_t noreply_flag, char cmd,
		 const void *data, size_t len)
{
	if (w->pflags & skip_flag)
		return 'c';
	if (!send_packet(w->fd, cmd, data, len))
		return 0;
	return (w->pflags & noreply_flag) ? 'c' : await_answer(w);
}

static size_t put_str(char *buf, size_t off, const char *s)
{
	size_t n = strlen(s) + 1;

	memcpy(buf + off, s, n);
	return off + n;
}

static bool negotiate(struct worker *w)
{
	uint32_t v[3] = { htonl(6), htonl(0x1ff), htonl(P_ALL_WE_OFFER) };
	char buf[1024];
	size_t len;

	if (!send_packet(w->fd, 'O', v, sizeof(v)) || read_reply(w->fd, buf, sizeof(buf), &len) != 'O' ||
	    len < 12)
		return false;
	memcpy(&v, buf, 12);
	w->pflags = ntohl(v[2]);
	return true;
}

/* A 'D' packet: the macros for the step cmd ("name", "value", ... NULL). */
static bool send_macros(struct worker *w, char cmd, const char *const *pairs)
{
	char buf[2048];
	size_t off = 0;

	buf[off++] = cmd;
	for (size_t i = 0; pairs[i] != NULL; i++) {
		if (off + strlen(pairs[i]) + 1 > sizeof(buf))
			return false;
		off = put_str(buf, off, pairs[i]);
	}
	return send_packet(w->fd, 'D', buf, off);
}

static bool start_session(struct worker *w)
{
	const struct options *o = w->opt;
	const char *const conn_macros[] = { "j", "mx.bench.example", "{daemon_name}", "bench",
					    "{client_addr}", o->client_ip, NULL };
	char buf[1024];
	size_t off = 0;
	uint16_t port = htons(40000);
	bool v6 = strchr(o->client_ip, ':') != NULL;

	if (!negotiate(w) || !send_macros(w, 'C', conn_macros))
		return false;
	off = put_str(buf, off, "client.bench.example");
	buf[off++] = v6 ? '6' : '4';
	memcpy(buf + off, &port, 2);
	off += 2;
	off = put_str(buf, off, o->client_ip);
	if (step(w, P_NOCONNECT, P_NR_CONN, 'C', buf, off) != 'c')
		return false;
	off = put_str(buf, 0, o->helo);
	return step(w, P_NOHELO, P_NR_HELO, 'H', buf, off) == 'c';
}

/* Sends one header field "Name: value" (value as it follows the colon). */
static char send_header(struct worker *w, const char *line, size_t len)
{
	char buf[CHUNK_MAX];
	const char *colon = memchr(line, ':', len);
	size_t off, nlen, vstart;

	if (colon == NULL || len + 2 > sizeof(buf))
		return 'c';	/* not a header field: skip */
	nlen = (size_t)(colon - line);
	memcpy(buf, line, nlen);
	buf[nlen] = '\0';
	off = nlen + 1;
	vstart = nlen + 1;
	if (!(w->pflags & P_HDR_LEADSPC))
		while (vstart < len && (line[vstart] == ' ' || line[vstart] == '\t'))
			vstart++;
	memcpy(buf + off, line + vstart, len - vstart);
	off += len - vstart;
	buf[off++] = '\0';
	return step(w, P_NOHDRS, P_NR_HDR, 'L', buf, off);
}

/* Header fields end at a line not starting with white space. */
static char send_headers(struct worker *w, const struct message *m)
{
	size_t start = 0;

	while (start < m->header_end) {
		size_t end = start;
		char r;

		do {
			const char *nl = memchr(m->data + end, '\n', m->header_end - end);
			end = nl ? (size_t)(nl - m->data) + 1 : m->header_end;
		} while (end < m->header_end && (m->data[end] == ' ' || m->data[end] == '\t'));
		size_t len = end - start;
		while (len > 0 && (m->data[start + len - 1] == '\n' || m->data[start + len - 1] == '\r'))
			len--;
		if (len > 0 && (r = send_header(w, m->data + start, len)) != 'c')
			return r;
		start = end;
	}
	return 'c';
}

static char send_body(struct worker *w, const struct message *m)
{
	for (size_t off = m->header_end; off < m->len && !(w->pflags & P_NOBODY);) {
		size_t n = m->len - off > CHUNK_MAX ? CHUNK_MAX : m->len - off;
		char r = step(w, P_NOBODY, P_NR_BODY, 'B', m->data + off, n);

		if (r == 's')
			break;	/* the filter has seen enough */
		if (r != 'c')
			return r;
		off += n;
	}
	return 'c';
}

static void count_final(struct worker *w, char r)
{
	switch (r) {
	case 'a': case 'c': w->c.accepted++; break;
	case 'r': w->c.rejected++; break;
	case 't': w->c.tempfailed++; break;
	case 'd': w->c.discarded++; break;
	case 'y': w->c.rejected++; break;	/* an explicit reply code; counted as a refusal */
	default: w->c.errors++; break;
	}
}

/* One message; false when the session is broken. */
static bool send_message(struct worker *w, const struct message *m)
{
	const struct options *o = w->opt;
	char from[512], *headers = NULL;
	const struct message *body = m;
	struct message varied = *m;
	const char *const mail_macros[] = { "{mail_addr}", from, "i", "BENCH0001",
					    "{auth_authen}", o->auth ? o->auth : "", NULL };
	const char *const *macros = o->auth ? mail_macros : (const char *const[]){
		"{mail_addr}", from, "i", "BENCH0001", NULL };
	char buf[1024], r;
	size_t off;

	snprintf(from, sizeof(from), "%s", o->mail_from);
	if (o->vary) {
		unsigned n = atomic_fetch_add(&vary_counter, 1);

		vary(from, strlen(from), n);
		headers = malloc(m->header_end);
		memcpy(headers, m->data, m->header_end);
		vary(headers, m->header_end, n);
		varied.data = headers;
		m = &varied;
	}
	if (!send_macros(w, 'M', macros))
		return false;
	snprintf(buf, sizeof(buf), "<%s>", from);
	off = strlen(buf) + 1;
	if ((r = step(w, P_NOMAIL, P_NR_MAIL, 'M', buf, off)) != 'c')
		goto done;
	snprintf(buf, sizeof(buf), "<%s>", o->rcpt);
	off = strlen(buf) + 1;
	if ((r = step(w, P_NORCPT, P_NR_RCPT, 'R', buf, off)) != 'c')
		goto done;
	if ((r = send_headers(w, m)) != 'c' || (r = step(w, P_NOEOH, P_NR_EOH, 'N', NULL, 0)) != 'c')
		goto done;
	if ((r = send_body(w, body)) != 'c')	/* the body is not varied */
		goto done;
	r = step(w, 0, 0, 'E', NULL, 0);
done:
	free(headers);
	count_final(w, r);
	if (r != 'a' && r != 'c' && r != 0)
		send_packet(w->fd, 'A', NULL, 0);	/* abort the transaction, keep the session */
	return r != 0;
}

static void *run_worker(void *arg)
{
	struct worker *w = arg;
	const struct options *o = w->opt;

	w->fd = bench_connect(o->address, true);
	if (w->fd < 0 || !start_session(w)) {
		fprintf(stderr, "milter-bench: cannot start a session with %s: %s\n", o->address,
			strerror(errno));
		w->c.errors++;
		if (w->fd >= 0)
			close(w->fd);
		return NULL;
	}
	while (!stop_flag) {
		int64_t started = bench_now_ns();

		if (!send_message(w, &o->messages[w->next++ % o->message_count]))
			break;
		if (w->count < SAMPLES_MAX / (size_t)o->connections)
			w->samples[w->count++] = (uint64_t)(bench_now_ns() - started);
	}
	send_packet(w->fd, 'Q', NULL, 0);
	close(w->fd);
	return NULL;
}

static void read_message(const char *path, struct message *m)
{
	FILE *fp = fopen(path, "rb");
	char *crlf, *p;
	long size;

	if (fp == NULL || fseek(fp, 0, SEEK_END) < 0 || (size = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) < 0) {
		perror(path);
		exit(2);
	}
	p = malloc((size_t)size + 1);
	if (fread(p, 1, (size_t)size, fp) != (size_t)size) {
		perror(path);
		exit(2);
	}
	fclose(fp);
	/* the body goes over the wire with CRLF line ends, as an MTA sends it */
	crlf = malloc((size_t)size * 2 + 1);
	m->len = 0;
	for (long i = 0; i < size; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			crlf[m->len++] = '\r';
		crlf[m->len++] = p[i];
	}
	free(p);
	m->data = crlf;
	p = memmem(crlf, m->len, "\r\n\r\n", 4);
	m->header_end = p ? (size_t)(p - crlf) + 4 : m->len;
}

static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "address", required_argument, NULL, 'a' }, { "connections", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 's' }, { "client-ip", required_argument, NULL, 'i' },
		{ "helo", required_argument, NULL, 'h' }, { "mail-from", required_argument, NULL, 'f' },
		{ "rcpt", required_argument, NULL, 'r' }, { "auth", required_argument, NULL, 'u' },
		{ "vary", no_argument, NULL, 'v' }, { NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'a': o->address = optarg; break;
		case 'c': o->connections = atoi(optarg); break;
		case 's': o->seconds = atof(optarg); break;
		case 'i': o->client_ip = optarg; break;
		case 'h': o->helo = optarg; break;
		case 'f': o->mail_from = optarg; break;
		case 'r': o->rcpt = optarg; break;
		case 'u': o->auth = optarg; break;
		case 'v': o->vary = true; break;
		default: exit(2);
		}
	}
	if (o->address == NULL || optind >= argc || o->connections < 1) {
		fprintf(stderr, "usage: milter-bench --address ADDR [--connections N] [--seconds S] "
			"[--client-ip IP] [--helo NAME] [--mail-from A] [--rcpt A] [--auth USER] [--vary] "
			"FILE...\n");
		exit(2);
	}
	o->message_count = (size_t)(argc - optind);
	o->messages = calloc(o->message_count, sizeof(*o->messages));
	for (size_t i = 0; i < o->message_count; i++)
		read_message(argv[optind + (int)i], &o->messages[i]);
}

int main(int argc, char **argv)
{
	struct options o = { .connections = 8, .seconds = 5, .client_ip = "192.0.2.1",
			     .helo = "mx.sender.example", .mail_from = "sender@sender.example",
			     .rcpt = "user@bench.example" };
	struct worker *workers;
	struct counts c = { 0 };
	uint64_t *all;
	size_t total = 0;
	int64_t started;
	double elapsed;

	parse_options(argc, argv, &o);
	workers = calloc((size_t)o.connections, sizeof(*workers));
	started = bench_now_ns();
	for (int i = 0; i < o.connections; i++) {
		workers[i].opt = &o;
		workers[i].next = (size_t)i;
		workers[i].samples = malloc(SAMPLES_MAX / (size_t)o.connections * sizeof(uint64_t) + 8);
		pthread_create(&workers[i].thread, NULL, run_worker, &workers[i]);
	}
	struct timespec pause = { (time_t)o.seconds, (long)((o.seconds - (time_t)o.seconds) * 1e9) };
	nanosleep(&pause, NULL);
	stop_flag = true;
	for (int i = 0; i < o.connections; i++) {
		pthread_join(workers[i].thread, NULL);
		total += workers[i].count;
		c.accepted += workers[i].c.accepted;
		c.rejected += workers[i].c.rejected;
		c.tempfailed += workers[i].c.tempfailed;
		c.discarded += workers[i].c.discarded;
		c.headers_added += workers[i].c.headers_added;
		c.errors += workers[i].c.errors;
	}
	elapsed = (double)(bench_now_ns() - started) / 1e9;
	all = malloc((total + 1) * sizeof(uint64_t));
	total = 0;
	for (int i = 0; i < o.connections; i++) {
		memcpy(all + total, workers[i].samples, workers[i].count * sizeof(uint64_t));
		total += workers[i].count;
		free(workers[i].samples);
	}
	bench_sort_samples(all, total);
#define PCT(p) (total ? all[(size_t)((double)(total - 1) * (p))] / 1000.0 : 0.0)
	printf("messages=%zu seconds=%.3f mps=%.0f p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f "
	       "accepted=%lu rejected=%lu tempfailed=%lu discarded=%lu headers_added=%lu errors=%lu\n",
	       total, elapsed, total / elapsed, PCT(0.5), PCT(0.9), PCT(0.99), PCT(1.0), c.accepted,
	       c.rejected, c.tempfailed, c.discarded, c.headers_added, c.errors);
	free(all);
	free(workers);
	return c.errors == 0 ? 0 : 1;
}
