/*
 * lookup-bench.c - load generator for lookup servers: Postfix socketmap
 * (limristem-srsd, postsrsd 2.x), tcp_table (postsrsd 1.x) and the policy
 * delegation protocol (limristem-policyd, postgrey).
 *
 *   lookup-bench --proto socketmap|tcp|policy --address unix:/path|host:port
 *                [--map forward] [--connections 8] [--depth 1]
 *                [--seconds 5] --keys FILE
 *
 * Each connection runs in its own thread with up to --depth requests in
 * flight (closed loop: a reply lets the next request go). Keys are read
 * from FILE, one per line, and sent round-robin; for policy a key is the
 * request's attributes separated by spaces ("client_address=192.0.2.1
 * sender=a@b.example recipient=c@d.example"), sent as an RCPT request.
 * Prints one line:
 *   requests=N seconds=S rps=R p50_us=.. p90_us=.. p99_us=.. p999_us=.. max_us=.. errors=E
 * Latency is measured per request from send to reply.
 */
#include "autoconfig.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define DEPTH_MAX 64
#define SAMPLES_MAX (1 << 22)

enum proto { PROTO_SOCKETMAP, PROTO_TCP_TABLE, PROTO_POLICY };

struct options {
	enum proto proto;
	const char *address;
	const char *map;
	int connections;
	int depth;
	double seconds;
	char **keys;
	size_t key_count;
};

struct worker {
	const struct options *opt;
	pthread_t thread;
	size_t next_key;
	uint64_t *samples;	/* nanoseconds */
	size_t count;
	unsigned long errors;
};

static volatile bool stop_flag;

/* Appends one request for key to buf; returns its length. */
static int format_request(const struct options *opt, const char *key, char *buf, size_t len)
{
	if (opt->proto == PROTO_TCP_TABLE)
		return snprintf(buf, len, "get %s\n", key);
	if (opt->proto == PROTO_POLICY) {
		int n = snprintf(buf, len, "request=smtpd_access_policy\nprotocol_state=RCPT\n"
				 "protocol_name=ESMTP\n%s\n\n", key);
		for (int i = 0; i < n - 2; i++)
			if (buf[i] == ' ')
				buf[i] = '\n';
		return n;
	}
	int payload = (int)(strlen(opt->map) + 1 + strlen(key));
	return snprintf(buf, len, "%d:%s %s,", payload, opt->map, key);
}

/* Finds the end of one reply in buf[0..len): bytes used, 0 for more. */
static size_t reply_length(const struct options *opt, const char *buf, size_t len, bool *ok_r)
{
	if (opt->proto == PROTO_POLICY) {
		const char *end = memmem(buf, len, "\n\n", 2);
		if (end == NULL)
			return 0;
		*ok_r = len >= 7 && memcmp(buf, "action=", 7) == 0;
		return (size_t)(end - buf) + 2;
	}
	if (opt->proto == PROTO_TCP_TABLE) {
		const char *nl = memchr(buf, '\n', len);
		if (nl == NULL)
			return 0;
		*ok_r = len >= 3 && (buf[0] == '2' || buf[0] == '5');
		return (size_t)(nl - buf) + 1;
	}
	const char *colon = memchr(buf, ':', len);
	if (colon == NULL)
		return 0;
	size_t n = strtoul(buf, NULL, 10), total = (size_t)(colon - buf) + 1 + n + 1;
	if (len < total)
		return 0;
	*ok_r = n >= 2 && (memcmp(colon + 1, "OK", 2) == 0 || memcmp(colon + 1, "NOTFOUND", 8) == 0);
	return total;
}

static void *run_worker(void *arg)
{
	struct worker *w = arg;
	const struct options *opt = w->opt;
	int64_t sent_at[DEPTH_MAX];
	size_t head = 0, in_flight = 0, have = 0;
	char rbuf[65536], req[2048];
	int fd = bench_connect(opt->address, false);

	if (fd < 0) {
		fprintf(stderr, "lookup-bench: cannot connect to %s: %s\n", opt->address, strerror(errno));
		w->errors++;
		return NULL;
	}
	while (!stop_flag || in_flight > 0) {
		while (!stop_flag && in_flight < (size_t)opt->depth) {
			const char *key = opt->keys[w->next_key++ % opt->key_count];
			int n = format_request(opt, key, req, sizeof(req));
			if (write(fd, req, (size_t)n) != n) {
				w->errors++;
				stop_flag = true;
				break;
			}
			sent_at[(head + in_flight) % DEPTH_MAX] = bench_now_ns();
			in_flight++;
		}
		if (in_flight == 0)
			break;
		ssize_t got = read(fd, rbuf + have, sizeof(rbuf) - have);
		if (got <= 0) {
			w->errors++;
			break;
		}
		have += (size_t)got;
		size_t used;
		bool ok = false;
		while (in_flight > 0 && (used = reply_length(opt, rbuf, have, &ok)) > 0) {
			if (w->count < SAMPLES_MAX)
				w->samples[w->count++] = (uint64_t)(bench_now_ns() - sent_at[head]);
			if (!ok)
				w->errors++;
			head = (head + 1) % DEPTH_MAX;
			in_flight--;
			memmove(rbuf, rbuf + used, have - used);
			have -= used;
		}
	}
	close(fd);
	return NULL;
}

static void read_keys(const char *path, struct options *opt)
{
	FILE *fp = fopen(path, "r");
	char line[1024];
	size_t cap = 0;

	if (fp == NULL) {
		perror(path);
		exit(2);
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		if (opt->key_count == cap) {
			cap = cap ? cap * 2 : 1024;
			opt->keys = realloc(opt->keys, cap * sizeof(char *));
		}
		opt->keys[opt->key_count++] = strdup(line);
	}
	fclose(fp);
	if (opt->key_count == 0) {
		fprintf(stderr, "lookup-bench: %s has no keys\n", path);
		exit(2);
	}
}

static void parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{ "proto", required_argument, NULL, 'P' }, { "address", required_argument, NULL, 'a' },
		{ "map", required_argument, NULL, 'm' }, { "connections", required_argument, NULL, 'c' },
		{ "depth", required_argument, NULL, 'd' }, { "seconds", required_argument, NULL, 's' },
		{ "keys", required_argument, NULL, 'k' }, { NULL, 0, NULL, 0 },
	};
	int o;

	while ((o = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (o) {
		case 'P':
			opt->proto = strcmp(optarg, "tcp") == 0 ? PROTO_TCP_TABLE
				     : strcmp(optarg, "policy") == 0 ? PROTO_POLICY : PROTO_SOCKETMAP;
			break;
		case 'a': opt->address = optarg; break;
		case 'm': opt->map = optarg; break;
		case 'c': opt->connections = atoi(optarg); break;
		case 'd': opt->depth = atoi(optarg); break;
		case 's': opt->seconds = atof(optarg); break;
		case 'k': read_keys(optarg, opt); break;
		default: exit(2);
		}
	}
	if (opt->address == NULL || opt->keys == NULL || opt->connections < 1 ||
	    opt->depth < 1 || opt->depth > DEPTH_MAX) {
		fprintf(stderr, "usage: lookup-bench --proto socketmap|tcp|policy --address ADDR --keys FILE "
			"[--map NAME] [--connections N] [--depth 1..64] [--seconds S]\n");
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct options opt = { .map = "forward", .connections = 8, .depth = 1, .seconds = 5 };
	struct worker *workers;
	uint64_t *all;
	size_t total = 0;
	unsigned long errors = 0;
	int64_t started;
	double elapsed;

	parse_options(argc, argv, &opt);
	workers = calloc((size_t)opt.connections, sizeof(*workers));
	started = bench_now_ns();
	for (int i = 0; i < opt.connections; i++) {
		workers[i].opt = &opt;
		workers[i].next_key = (size_t)i * 7919;
		workers[i].samples = malloc(SAMPLES_MAX / (size_t)opt.connections * sizeof(uint64_t) + 1);
		pthread_create(&workers[i].thread, NULL, run_worker, &workers[i]);
	}
	struct timespec pause = { (time_t)opt.seconds, (long)((opt.seconds - (time_t)opt.seconds) * 1e9) };
	nanosleep(&pause, NULL);
	stop_flag = true;
	for (int i = 0; i < opt.connections; i++) {
		pthread_join(workers[i].thread, NULL);
		total += workers[i].count;
		errors += workers[i].errors;
	}
	elapsed = (double)(bench_now_ns() - started) / 1e9;
	all = malloc((total + 1) * sizeof(uint64_t));
	total = 0;
	for (int i = 0; i < opt.connections; i++) {
		memcpy(all + total, workers[i].samples, workers[i].count * sizeof(uint64_t));
		total += workers[i].count;
		free(workers[i].samples);
	}
	bench_sort_samples(all, total);
#define PCT(p) (total ? all[(size_t)((double)(total - 1) * (p))] / 1000.0 : 0.0)
	printf("requests=%zu seconds=%.3f rps=%.0f p50_us=%.1f p90_us=%.1f p99_us=%.1f "
	       "p999_us=%.1f max_us=%.1f errors=%lu\n", total, elapsed, total / elapsed,
	       PCT(0.5), PCT(0.9), PCT(0.99), PCT(0.999), PCT(1.0), errors);
	free(all);
	free(workers);
	return errors == 0 ? 0 : 1;
}
