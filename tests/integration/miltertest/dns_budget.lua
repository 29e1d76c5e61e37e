-- dns_budget.lua - miltertest script: one message whose n DKIM signatures
-- name keys at domain, and the milter's answer at the end of the message.
-- Run as: miltertest -D socket=unix:/path -D domain=D -D n=8 -D sender=a@D [-D from=F] -s dns_budget.lua
-- Prints "reply=accept|tempfail|reject|other" and the Authentication-Results
-- the milter added, if any.

local conn = mt.connect(socket, 10, 0.5)
assert(conn, "cannot connect to " .. socket)
assert(mt.conninfo(conn, "client.example", "198.51.100.7") == nil)
assert(mt.helo(conn, "client.example") == nil)
assert(mt.mailfrom(conn, "<" .. sender .. ">") == nil)
assert(mt.rcptto(conn, "<b@limristem.example>") == nil)
local b = { "c2lnMQ==", "c2lnMg==", "c2lnMw==", "c2lnNA==", "c2lnNQ==", "c2lnNg==",
	    "c2lnNw==", "c2lnOA==", "c2lnOQ==" }	-- "sig1" ... "sig9"
for i = 1, tonumber(n) do
	assert(mt.header(conn, "DKIM-Signature", " v=1; a=rsa-sha256; c=relaxed/relaxed; d=" ..
	       domain .. "; s=s" .. i .. "; h=from:subject; " ..
	       "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=" .. b[i]) == nil)
end
assert(mt.header(conn, "From", " <" .. (from or sender) .. ">") == nil)
assert(mt.header(conn, "Subject", " budget") == nil)
assert(mt.eoh(conn) == nil)
assert(mt.bodystring(conn, "hello\r\n") == nil)
assert(mt.eom(conn) == nil)
local reply = mt.getreply(conn)
local names = { [SMFIR_ACCEPT] = "accept", [SMFIR_CONTINUE] = "accept",
		[SMFIR_TEMPFAIL] = "tempfail", [SMFIR_REJECT] = "reject",
		[SMFIR_REPLYCODE] = "replycode" }
mt.echo("reply=" .. (names[reply] or "other"))
if mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results") then
	mt.echo("ar=" .. tostring(mt.getheader(conn, "Authentication-Results", 0)))
end
mt.disconnect(conn)
