#!/usr/bin/env bash
# Stop a Kamailio test peer started by start.sh, by its pid file only.
#
#   ./stop.sh [N]   stop instance N (default 1); same environment as start.sh
#
# It signals only the PID recorded in the instance's runtime dir, and only
# while that PID is still the kamailio started with that pid file: SIGTERM,
# then, if it has not exited (or become a zombie) after 10 s,
# SIGKILL to its own process group (start.sh runs it under setsid).
set -euo pipefail
N="${1:-1}"
[[ "$N" =~ ^[1-9]$ ]] || { echo "stop: instance must be 1..9" >&2; exit 2; }
BASE="${KAMAILIO_BASEDIR:-${TMPDIR:-/tmp}/sipws-kamailio}"
RUNDIR="${KAMAILIO_RUNDIR:-$BASE/$N}"
PIDFILE="$RUNDIR/kamailio.pid"
[[ -s "$PIDFILE" ]] || PIDFILE="$RUNDIR/kamailio.pid.start"
if [[ ! -s "$PIDFILE" ]]; then
  echo "stop: no pid file in $RUNDIR, nothing to stop"
  exit 0
fi
PID="$(cat "$PIDFILE")"
# /proc, not ps: procps is not installed on a minimal Debian, and without it
# every PID would look stale and no instance would ever be stopped.
# A zombie (exited, not yet reaped by whatever adopted it) counts as gone.
running() {
  local st
  read -r _ _ st _ 2>/dev/null <"/proc/$1/stat" || return 1
  [[ "$st" != Z ]]
}
# Ours: a live kamailio started with this instance's pid file (-P), so a
# stale pid file whose PID now belongs to another kamailio is left alone.
ours() {
  [[ "$1" =~ ^[0-9]+$ && "$(cat "/proc/$1/comm" 2>/dev/null)" == kamailio ]] || return 1
  [[ " $(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") " == *" -P $RUNDIR/kamailio.pid "* ]] || return 1
  running "$1"
}
if ! ours "$PID"; then
  echo "stop: PID $PID is not this instance's kamailio (stale pid file); removing it"
  rm -f "$RUNDIR/kamailio.pid" "$RUNDIR/kamailio.pid.start"
  exit 0
fi
# SIGTERM to the main process; it terminates its own children
kill -TERM "$PID" 2>/dev/null || true # it may have just exited
for _ in $(seq 1 200); do
  running "$PID" || break
  sleep 0.05
done
if running "$PID"; then
  echo "stop: PID $PID still alive after 10s, sending SIGKILL to its group"
  kill -KILL -- "-$PID" 2>/dev/null || kill -KILL "$PID" 2>/dev/null || true
fi
# clean up any child left behind in the instance's own process group
# (pgid == PID because of setsid), zombies aside
group_alive() {
  local f pid comm st ppid pgrp
  for f in /proc/[0-9]*/stat; do
    read -r pid comm st ppid pgrp _ 2>/dev/null <"$f" || continue
    [[ "$pgrp" == "$PID" && "$st" != Z ]] && return 0
  done
  return 1
}
if group_alive; then
  sleep 0.2
  kill -KILL -- "-$PID" 2>/dev/null || true
fi
rm -f "$RUNDIR/kamailio.pid" "$RUNDIR/kamailio.pid.start"
echo "stop: stopped kamailio PID $PID"
