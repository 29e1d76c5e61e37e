# learn-ham.sieve - IMAPSieve: a message moved out of Junk is ham.
#
# /etc/dovecot/sieve/learn-ham.sieve, compiled with sievec. The pipe runs
# /usr/lib/dovecot/sieve-pipe/limristem-learn (a two-line wrapper:
#   #!/bin/sh
#   exec /usr/sbin/mailadm learn "$1"
# ), which feeds the message to the reputation: the milter's counters of the
# client IP, network and SPF and DKIM domains it recorded in the message's
# X-Limristem-Reputation field (only a field the milter signed: see
# learning.secrets_file). The user Dovecot runs it as (vmail) must read
# /etc/limristem/limristem.conf, /etc/limristem/learning.secrets and the
# Redis password file: add it to the limristem group. A message moved twice counts once.
require ["vnd.dovecot.pipe", "copy", "imapsieve"];
pipe :copy "limristem-learn" ["ham"];
