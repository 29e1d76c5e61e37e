/*
 * password.c - read, generate, check and hash account passwords.
 *
 * Hashes come from libxcrypt in the forms Dovecot verifies:
 * {BLF-CRYPT}$2y$..., {SHA512-CRYPT}$6$rounds=...$..., {CRYPT}$y$...
 * (yescrypt, through the system's crypt(3)).
 */
#include "autoconfig.h"

#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <termios.h>
#include <unistd.h>

#include "mailadm/password.h"

/* No 0/O, 1/l/I: generated passwords get read aloud and typed on phones. */
static const char generate_chars[] =
	"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_.+!%";

static int read_line(FILE *fp, char *buf)
{
	size_t len;

	if (fgets(buf, PASSWORD_MAX + 1, fp) == NULL)
		return -1;
	len = strcspn(buf, "\r\n");
	if (buf[len] == '\0' && len == PASSWORD_MAX)
		return -2;	/* longer than PASSWORD_MAX */
	buf[len] = '\0';
	return 0;
}

/* Reads a line from the terminal with echo off. */
static int prompt(FILE *tty, const char *question, char *buf)
{
	struct termios saved, quiet;
	int fd = fileno(tty), r;

	fputs(question, stderr);
	fflush(stderr);
	if (tcgetattr(fd, &saved) < 0)
		return -1;
	quiet = saved;
	quiet.c_lflag &= (tcflag_t)~ECHO;
	tcsetattr(fd, TCSAFLUSH, &quiet);
	r = read_line(tty, buf);
	tcsetattr(fd, TCSAFLUSH, &saved);
	fputc('\n', stderr);
	return r;
}

static int from_terminal(struct cli *cli, char *buf)
{
	char again[PASSWORD_MAX + 1];
	FILE *tty = fopen("/dev/tty", "r+");
	int r;

	if (tty == NULL || !isatty(fileno(tty))) {
		if (tty != NULL)
			fclose(tty);
		return cli_fail(cli, EXIT_BAD_INPUT, "no terminal to ask for the password: use "
				"--password-stdin or --generate");
	}
	r = prompt(tty, "New password: ", buf);
	if (r == 0)
		r = prompt(tty, "Repeat it: ", again) == 0 ? 0 : -1;
	fclose(tty);
	if (r == 0 && strcmp(buf, again) != 0)
		r = -3;
	explicit_bzero(again, sizeof(again));
	if (r == -3)
		return cli_fail(cli, EXIT_BAD_INPUT, "the two passwords differ; nothing was changed");
	if (r < 0)
		return cli_fail(cli, EXIT_BAD_INPUT, "could not read the password");
	return EXIT_OK;
}

static int generate(struct cli *cli, char *buf)
{
	size_t len = (size_t)cli->settings.mailadm.generated_length, n = sizeof(generate_chars) - 1;
	unsigned char random[PASSWORD_MAX];

	/* Rejection sampling: every character equally likely. */
	for (size_t i = 0; i < len;) {
		if (getrandom(random, len, 0) != (ssize_t)len)
			return cli_fail(cli, EXIT_FAILURE_OTHER, "no random bytes: %s", strerror(errno));
		for (size_t j = 0; j < len && i < len; j++)
			if (random[j] < 256 - 256 % n)
				buf[i++] = generate_chars[random[j] % n];
	}
	buf[len] = '\0';
	explicit_bzero(random, sizeof(random));
	return EXIT_OK;
}

int password_obtain(struct cli *cli, enum password_source source, char *buf)
{
	int r;

	switch (source) {
	case PASSWORD_GENERATE:
		return generate(cli, buf);
	case PASSWORD_STDIN:
		r = read_line(stdin, buf);
		if (r == -2)
			return cli_fail(cli, EXIT_BAD_INPUT, "the password is longer than %d characters",
					PASSWORD_MAX);
		if (r < 0)
			return cli_fail(cli, EXIT_BAD_INPUT, "no password on standard input");
		return EXIT_OK;
	default:
		return from_terminal(cli, buf);
	}
}

const char *password_policy_check(const struct mailadm_section *s, const char *password)
{
	static char why[128];
	bool lower = false, upper = false, digit = false, other = false;
	size_t len = strlen(password);

	if (len < (size_t)s->password_min_length) {
		snprintf(why, sizeof(why), "the password must have at least %lld characters",
			 s->password_min_length);
		return why;
	}
	for (const char *p = password; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f)
			return "the password may not contain control characters";
		lower |= islower(c) != 0;
		upper |= isupper(c) != 0;
		digit |= isdigit(c) != 0;
		other |= !isalnum(c);
	}
	if (lower + upper + digit + other < s->password_min_classes) {
		snprintf(why, sizeof(why), "the password must mix at least %lld of: lowercase, "
			 "uppercase, digits, other characters", s->password_min_classes);
		return why;
	}
	return NULL;
}

int password_hash(const struct mailadm_section *s, const char *password, char *out)
{
	static const struct { const char *prefix, *scheme; } forms[] = {
		[SCHEME_BLF_CRYPT] = { "$2y$", "{BLF-CRYPT}" },
		[SCHEME_SHA512_CRYPT] = { "$6$", "{SHA512-CRYPT}" },
		[SCHEME_YESCRYPT] = { "$y$", "{CRYPT}" },
	};
	unsigned long cost = s->password_scheme == SCHEME_BLF_CRYPT ? (unsigned long)s->bcrypt_cost
		: s->password_scheme == SCHEME_SHA512_CRYPT ? (unsigned long)s->sha512_rounds : 0;
	struct crypt_data *data = calloc(1, sizeof(*data));
	char *salt, *hash;
	int n = -1;

	if (data == NULL)
		return -1;
	salt = crypt_gensalt_ra(forms[s->password_scheme].prefix, cost, NULL, 0);
	hash = salt != NULL ? crypt_r(password, salt, data) : NULL;
	if (hash != NULL && hash[0] == '$')
		n = snprintf(out, PASSWORD_HASH_MAX, "%s%s", forms[s->password_scheme].scheme, hash);
	free(salt);
	explicit_bzero(data, sizeof(*data));
	free(data);
	return n > 0 && n < PASSWORD_HASH_MAX ? 0 : -1;
}
