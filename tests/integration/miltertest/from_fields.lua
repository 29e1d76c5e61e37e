-- from_fields.lua - miltertest script: limristem-milter refuses messages
-- that DMARC cannot judge (no From, two From fields, anything but exactly
-- one mailbox) and accepts one with exactly one From mailbox.
-- Run as: miltertest -D socket=unix:/path -s from_fields.lua

local function message(from_fields)
	local conn = mt.connect(socket, 10, 0.5)
	assert(conn, "cannot connect to " .. socket)
	assert(mt.conninfo(conn, "client.example", "192.0.2.7") == nil)
	assert(mt.helo(conn, "client.example") == nil)
	assert(mt.mailfrom(conn, "<a@sender.example>") == nil)
	assert(mt.rcptto(conn, "<b@limristem.example>") == nil)
	for _, value in ipairs(from_fields) do
		assert(mt.header(conn, "From", value) == nil)
	end
	assert(mt.header(conn, "Subject", " miltertest") == nil)
	assert(mt.eoh(conn) == nil)
	assert(mt.bodystring(conn, "hello\r\n") == nil)
	assert(mt.eom(conn) == nil)
	local reply = mt.getreply(conn)
	mt.disconnect(conn)
	return reply
end

assert(message({ " Someone <a@sender.example>" }) == SMFIR_ACCEPT, "one From: accepted")
assert(message({ " a@sender.example", " b@evil.example" }) == SMFIR_REPLYCODE,
       "two From fields: refused")
assert(message({ " a@sender.example, b@evil.example" }) == SMFIR_REPLYCODE,
       "two mailboxes: refused")
assert(message({}) == SMFIR_REPLYCODE, "no From: refused")
-- not exactly one mailbox: what a reader shows and what DMARC would judge differ
for _, value in ipairs({ " ceo@victim.example a@sender.example",
                         " ceo@victim.example@sender.example",
                         " ceo@victim.example (c) a@sender.example",
                         " ceo@victim.example <a@sender.example>",
                         " <ceo@victim.example> trailing",
                         " a@sender.example,",
                         " <@relay.example:a@sender.example>" }) do
	assert(message({ value }) == SMFIR_REPLYCODE, "refused:" .. value)
end
assert(message({ " \"Doe, \\\"JD\\\" John\" (c) <a@sender.example>" }) == SMFIR_ACCEPT,
       "a quoted display name with escaped quotes: accepted")
mt.echo("from_fields: ok")
