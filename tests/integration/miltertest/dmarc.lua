-- dmarc.lua - miltertest script: SPF, DMARC and Authentication-Results of
-- limristem-milter, against the test zones of test_milter.py:
--   signed.limristem.example  SPF -all, DMARC p=reject
--   spfok.limristem.example   SPF allows 192.0.2.25, DMARC p=reject
--   q.limristem.example       SPF -all, DMARC p=quarantine
-- Run as: miltertest -D socket=unix:/path -D authserv=mx.example -s dmarc.lua

local function message(client_ip, mail_from, from, extra_headers)
	local conn = mt.connect(socket, 10, 0.5)
	assert(conn, "cannot connect to " .. socket)
	assert(mt.conninfo(conn, "client.example", client_ip) == nil)
	assert(mt.helo(conn, "client.example") == nil)
	assert(mt.mailfrom(conn, "<" .. mail_from .. ">") == nil)
	assert(mt.rcptto(conn, "<b@limristem.example>") == nil)
	for _, h in ipairs(extra_headers or {}) do
		assert(mt.header(conn, h[1], h[2]) == nil)
	end
	assert(mt.header(conn, "From", " " .. from) == nil)
	assert(mt.header(conn, "Subject", " miltertest") == nil)
	assert(mt.eoh(conn) == nil)
	assert(mt.bodystring(conn, "hello\r\n") == nil)
	assert(mt.eom(conn) == nil)
	return conn
end

-- a spoof of a p=reject domain: refused with 550 5.7.1
local conn = message("192.0.2.25", "ceo@signed.limristem.example", "ceo@signed.limristem.example")
assert(mt.getreply(conn) == SMFIR_REPLYCODE, "p=reject spoof must be refused")
mt.disconnect(conn)

-- SPF-aligned mail: accepted, our Authentication-Results inserted, the
-- forged one with our authserv-id deleted
conn = message("192.0.2.25", "news@spfok.limristem.example", "news@spfok.limristem.example",
               { { "Authentication-Results", " " .. authserv .. "; dkim=pass header.d=bank.example" } })
assert(mt.getreply(conn) == SMFIR_ACCEPT, "aligned SPF must be accepted")
assert(mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results"), "forged results must go")
assert(mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results"), "results must be added")
local ar = mt.getheader(conn, "Authentication-Results", 0)
assert(ar ~= nil and string.find(ar, "spf=pass", 1, true) and string.find(ar, "dmarc=pass", 1, true),
       "results: " .. tostring(ar))
mt.disconnect(conn)

-- p=quarantine: accepted into quarantine (Postfix's hold queue)
conn = message("192.0.2.25", "a@q.limristem.example", "a@q.limristem.example")
assert(mt.eom_check(conn, MT_QUARANTINE), "p=quarantine failure must be quarantined")
mt.disconnect(conn)

mt.echo("dmarc: ok")
