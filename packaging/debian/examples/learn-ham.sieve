# learn-ham.sieve - IMAPSieve: a message moved out of Junk is ham.
#
# /etc/dovecot/sieve/learn-ham.sieve, compiled with sievec. The pipe runs
# /usr/lib/dovecot/sieve-pipe/limristem-learn (a two-line wrapper:
#   #!/bin/sh
#   exec /usr/sbin/mailadm learn "$1"
# ), which feeds the message to the reputation.
# Note: "mailadm learn" is not in this version of mailadm yet; until it is,
# leave the imapsieve lines of dovecot-limristem.conf commented out.
require ["vnd.dovecot.pipe", "copy", "imapsieve"];
pipe :copy "limristem-learn" ["ham"];
