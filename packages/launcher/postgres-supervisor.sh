# sh postgres-supervisor.sh <postgres binary> <its arguments>…
#
# The embedded PostgreSQL server of `npm start` under a supervisor of about 1 MB instead of a
# Node process (decision 0990). The launcher starts it in a process group of its own with stdin
# a pipe that only the launcher writes to, and waits for PostgreSQL's "ready to accept
# connections" line on stderr.
# - SIGINT, SIGTERM, SIGHUP: PostgreSQL's fast shutdown (SIGINT); exits with its status.
# - End of file on stdin: the launcher is gone (even by SIGKILL), so PostgreSQL is stopped the
#   same way (decision 0861: nothing is left behind).
exec 3<&0
"$@" </dev/null 3<&- &
server=$!
trap 'kill -INT "$server" 2>/dev/null' INT TERM HUP
# A background list's stdin is /dev/null: the watcher reads the launcher's pipe through fd 3.
(
  trap - INT TERM HUP
  while read -r _ <&3; do :; done
  kill -INT "$server" 2>/dev/null
) &
watcher=$!
exec 3<&-
status=0
while :; do
  wait "$server"
  status=$?
  # wait returns early (above 128) when a trapped signal arrives: keep waiting while it runs.
  kill -0 "$server" 2>/dev/null || break
done
kill "$watcher" 2>/dev/null
exit "$status"
