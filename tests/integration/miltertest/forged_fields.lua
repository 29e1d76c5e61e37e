-- forged_fields.lua - miltertest script: whatever path a message takes
-- through limristem-milter, the fields only the milter may write go
-- before it is accepted: Authentication-Results claiming our authserv-id
-- (parsable or not), foreign X-Spam-* and X-Limristem-* fields. And a
-- message with more header fields than the milter records is refused,
-- so nothing forged can hide past the cap.
-- Run as: miltertest -D socket=unix:/path -D authserv=mx.example
--         -D client=192.0.2.7|unspec -D label=TEXT -s forged_fields.lua
-- (client "unspec": a connection without a client address; an address in
-- internal_networks makes the message outbound).

-- From and Subject, then extra_headers, then count filler fields, then after
local function message(extra_headers, count, after)
	local conn = mt.connect(socket, 10, 0.5)
	assert(conn, "cannot connect to " .. socket)
	assert(mt.conninfo(conn, "client.example", client) == nil)
	assert(mt.helo(conn, "client.example") == nil)
	assert(mt.mailfrom(conn, "<a@sender.example>") == nil)
	assert(mt.rcptto(conn, "<b@limristem.example>") == nil)
	assert(mt.header(conn, "From", " Someone <a@sender.example>") == nil)
	assert(mt.header(conn, "Subject", " miltertest " .. label) == nil)
	for _, h in ipairs(extra_headers) do
		assert(mt.header(conn, h[1], h[2]) == nil)
	end
	for i = 1, count or 0 do
		assert(mt.header(conn, "X-Filler", " " .. i) == nil)
	end
	for _, h in ipairs(after or {}) do
		assert(mt.header(conn, h[1], h[2]) == nil)
	end
	assert(mt.eoh(conn) == nil)
	assert(mt.bodystring(conn, "hello\r\n") == nil)
	assert(mt.eom(conn) == nil)
	return conn
end

local forged = {
	{ "Authentication-Results", " " .. authserv .. "; dkim=pass header.d=bank.example" },
	{ "Authentication-Results", " " .. authserv .. " 0000000001; dkim=pass header.d=bank.example" },
	{ "Authentication-Results", " " .. string.rep("(", 33) .. "x" .. string.rep(")", 33) ..
	  " " .. authserv .. "; dkim=pass header.d=bank.example" },
	{ "X-Spam-Status", " No, score=-10" },
	{ "X-Limristem-Reputation", " id=0123456789abcdef0123456789abcdef; judged=good; " ..
	  "ip=209.85.220.41; dkim=gmail.com" },
}
local conn = message(forged)
assert(mt.getreply(conn) == SMFIR_ACCEPT, label .. ": must be accepted")
for _, name in ipairs({ "Authentication-Results", "X-Spam-Status", "X-Limristem-Reputation" }) do
	assert(mt.eom_check(conn, MT_HDRDELETE, name), label .. ": " .. name .. " must go")
end
mt.disconnect(conn)

-- nothing to delete: nothing deleted
conn = message({ { "Authentication-Results", " other.example; spf=pass" } })
assert(mt.getreply(conn) == SMFIR_ACCEPT, label .. ": must be accepted")
assert(not mt.eom_check(conn, MT_HDRDELETE), label .. ": nothing may be deleted")
mt.disconnect(conn)

-- a forged field past the cap of recorded fields (1000, From and Subject
-- included): refused, so it cannot survive unseen
conn = message({}, 998, { forged[1], forged[4] })
assert(mt.getreply(conn) == SMFIR_REPLYCODE, label .. ": too many fields must be refused")
mt.disconnect(conn)
-- at the cap: the last recorded field is still seen and deleted
conn = message({}, 997, { forged[1] })
assert(mt.getreply(conn) == SMFIR_ACCEPT, label .. ": 1000 fields must be accepted")
assert(mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results"), label .. ": the 1000th must go")
mt.disconnect(conn)

mt.echo("forged_fields " .. label .. ": ok")
