-- greylist_full.lua - miltertest script: RCPTs of new triplets, each
-- expected greylisted ("defer", a 451 reply) or let through ("pass").
-- Run as: miltertest -D socket=unix:/path -D first=N -D count=N -D want=defer -s greylist_full.lua
-- Recipients are r<first>@ ... r<first+count-1>@, 50 to a message.

local first, count = tonumber(first), tonumber(count)
local deferred, passed = 0, 0
local n = first
while n < first + count do
	local conn = mt.connect(socket, 10, 0.5)
	assert(conn, "cannot connect to " .. socket)
	assert(mt.conninfo(conn, "client.example", "100.64.60.7") == nil)
	assert(mt.helo(conn, "client.example") == nil)
	assert(mt.mailfrom(conn, "<sender@full.limristem.example>") == nil)
	for _ = 1, 50 do
		if n >= first + count then break end
		assert(mt.rcptto(conn, "<r" .. n .. "@grey.limristem.example>") == nil)
		local reply = mt.getreply(conn)
		if reply == SMFIR_REPLYCODE or reply == SMFIR_TEMPFAIL then
			deferred = deferred + 1
		elseif reply == SMFIR_CONTINUE then
			passed = passed + 1
		else
			error("unexpected reply to RCPT " .. n)
		end
		n = n + 1
	end
	mt.disconnect(conn)
end
mt.echo("deferred=" .. deferred .. " passed=" .. passed)
if want == "defer" then
	assert(passed == 0, "every new triplet must be greylisted")
else
	assert(deferred == 0, "with the table full, new triplets must pass")
end
mt.echo("greylist_full: ok")
