/*
 * message.c - the per-message state (see message.h).
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"
#include "milter/message.h"

struct message *message_new(void)
{
	return xcalloc(1, sizeof(struct message));
}

void message_add_header(struct message *m, const char *name, const char *value)
{
	struct header_field *h;

	if (m->header_count >= MESSAGE_HEADERS_MAX) {
		m->too_many_headers = true;
		return;
	}
	m->headers = xgrow(m->headers, &m->header_cap, m->header_count + 1, sizeof(*m->headers));
	h = &m->headers[m->header_count++];
	h->name = xstrdup(name);
	h->value = xstrdup(value);
}

void message_plan_edits(struct message *m, const char *our_id)
{
	struct header_edit_field *fields;

	if (m->edits_planned)
		return;
	m->edits_planned = true;
	fields = xcalloc(m->header_count + 1, sizeof(*fields));
	for (size_t i = 0; i < m->header_count; i++)
		fields[i] = (struct header_edit_field){ m->headers[i].name, m->headers[i].value,
							strlen(m->headers[i].value) };
	header_edit_plan(fields, m->header_count, our_id, &m->edits);
	free(fields);
}

bool message_header_deleted(const struct message *m, size_t i)
{
	return m->edits_planned && i < m->edits.field_count && m->edits.deleted[i];
}

size_t message_header_count(const struct message *m, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < m->header_count; i++)
		n += strcasecmp(m->headers[i].name, name) == 0;
	return n;
}

const struct header_field *message_header(const struct message *m, const char *name, size_t n)
{
	for (size_t i = 0; i < m->header_count; i++)
		if (strcasecmp(m->headers[i].name, name) == 0 && n-- == 0)
			return &m->headers[i];
	return NULL;
}

void message_list_add(char ***list, size_t *count, size_t *cap, const char *s)
{
	*list = xgrow(*list, cap, *count + 1, sizeof(**list));
	(*list)[(*count)++] = xstrdup(s);
}

static void list_free(char **list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(list[i]);
	free(list);
}

void message_free(struct message **mp)
{
	struct message *m = *mp;

	if (m == NULL)
		return;
	list_free(m->pending, m->pending_count);
	list_free(m->rcpts, m->rcpt_count);
	for (size_t i = 0; i < m->header_count; i++) {
		free(m->headers[i].name);
		free(m->headers[i].value);
	}
	free(m->headers);
	header_plan_release(&m->edits);
	arc_verify_free(&m->arc);
	dkim_verify_free(&m->dkim);
	dkim_sign_free(&m->signer);
	arc_seal_free(&m->sealer);
	tables_put(&m->tables);
	free(m);
	*mp = NULL;
}
