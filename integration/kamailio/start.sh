#!/usr/bin/env bash
# Start a Kamailio SIP-over-WebSocket test peer (RFC 7118) in the background.
#
#   ./start.sh [N]             start instance N (1..9, default 1); installs the
#                              Debian packages first if they are missing
#   KAMAILIO_FG=1 ./start.sh   run in the foreground instead (Ctrl-C stops it)
#
# Instance N listens on 127.0.0.1 only: ws 18080+N-1, wss 18443+N-1,
# udp/tcp 15060+N-1. It keeps its files (pid, log, kamcmd socket, rendered
# tls.cfg) in $KAMAILIO_BASEDIR/N. Nothing is written into the source tree.
# Starting an instance that is already running does nothing.
#
# Environment (all optional):
#   KAMAILIO_BASEDIR           root of the runtime files
#                              (default ${TMPDIR:-/tmp}/sipws-kamailio)
#   KAMAILIO_RUNDIR            this instance's runtime dir (default BASEDIR/N)
#   KAMAILIO_CERTDIR           certificate dir, shared by all instances
#                              (default BASEDIR/certs; see gencert.sh)
#   WS_KEEPALIVE_TIMEOUT       seconds idle before Kamailio sends a WS Ping (30)
#   KAMAILIO_TCP_RD_BUF        tcp_rd_buf_size, caps one incoming WS frame
#                              (default 131072; 16384 = Kamailio's own default)
#   KAMAILIO_DEBUG             log level, 2=info (default), 3=debug (logs
#                              every WebSocket frame and SIP message)
#   KAMAILIO_START_TIMEOUT     seconds to wait for the ws/wss ports (default 30)
#
# Prints the PID on its last line once the ws and wss ports accept connections.
set -euo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
N="${1:-1}"
[[ "$N" =~ ^[1-9]$ ]] || { echo "start: instance must be 1..9" >&2; exit 2; }
BASE="${KAMAILIO_BASEDIR:-${TMPDIR:-/tmp}/sipws-kamailio}"
RUNDIR="${KAMAILIO_RUNDIR:-$BASE/$N}"
CERTDIR="${KAMAILIO_CERTDIR:-$BASE/certs}"
PIDFILE="$RUNDIR/kamailio.pid"
LOG="$RUNDIR/kamailio.log"
WS_PORT=$((18080 + N - 1))
WSS_PORT=$((18443 + N - 1))
SIP_PORT=$((15060 + N - 1))
KA="${WS_KEEPALIVE_TIMEOUT:-30}"
RDBUF="${KAMAILIO_TCP_RD_BUF:-131072}"
DBG="${KAMAILIO_DEBUG:-2}"
TIMEOUT="${KAMAILIO_START_TIMEOUT:-30}"

# 1. packages (Debian bookworm); never enabled/started as a system service.
# apt-get update runs only when the install fails without it.
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
need=()
for pkg in kamailio kamailio-websocket-modules kamailio-tls-modules openssl; do
  installed "$pkg" || need+=("$pkg")
done
if ((${#need[@]})); then
  echo "start: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  if ! $SUDO apt-get install -y --no-install-recommends "${need[@]}" >/dev/null; then
    $SUDO apt-get update >/dev/null
    $SUDO apt-get install -y --no-install-recommends "${need[@]}" >/dev/null
  fi
  # on a machine with a live systemd the package may start its own
  # kamailio.service (/etc/kamailio, port 5060); it does not clash with the
  # ports used here and is left alone
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet kamailio 2>/dev/null; then
    echo "start: note: a system kamailio.service is running (not ours, left alone)"
  fi
fi

# 2. certificate for wss, and the TLS profile that points at it
"$DIR/gencert.sh" "$CERTDIR" >/dev/null
mkdir -p "$RUNDIR"
tpl="$(<"$DIR/tls.cfg")"
printf '%s\n' "${tpl//@CERTDIR@/$CERTDIR}" >"$RUNDIR/tls.cfg"

# 3. already running? (the PID must still be a kamailio: pid files go stale)
# /proc, not ps: procps is not installed on a minimal Debian. Ours: a
# kamailio started with this instance's pid file (-P), not another one that
# got the PID of a stale pid file.
ours() {
  [[ "$1" =~ ^[0-9]+$ && "$(cat "/proc/$1/comm" 2>/dev/null)" == kamailio ]] || return 1
  [[ " $(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") " == *" -P $PIDFILE "* ]]
}
if [[ -s "$PIDFILE" ]] && ours "$(cat "$PIDFILE")"; then
  echo "start: already running, PID $(cat "$PIDFILE") (./stop.sh $N to stop)"
  cat "$PIDFILE"
  exit 0
fi
rm -f "$PIDFILE" "$PIDFILE.start"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# The ports accept as soon as the main process has bound them, before it
# has forked the workers; an HTTP answer (xhttp's 404 to a plain GET) shows
# that a TCP worker is serving them.
serving() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1" &&
    printf 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n' >&3 &&
    IFS= read -r -t 2 line <&3 && [[ "$line" == HTTP/1.* ]]) 2>/dev/null
}
for p in $WS_PORT $WSS_PORT $SIP_PORT; do
  if port_open "$p"; then
    echo "start: 127.0.0.1:$p is already in use by another process" >&2
    exit 1
  fi
done

ARGS=(-DD -E -f "$DIR/kamailio.cfg" -Y "$RUNDIR" -P "$PIDFILE" -w "$RUNDIR"
      -m 64 -M 8 --debug="$DBG"
      -A "WS_KEEPALIVE_TIMEOUT=$KA" -A "TCP_RD_BUF_SIZE=$RDBUF"
      -A "CTL_SOCK=\"unix:$RUNDIR/kamailio_ctl\""
      -A "TLS_CFG=\"$RUNDIR/tls.cfg\""
      -A "WS_PORT=$WS_PORT" -A "WSS_PORT=$WSS_PORT" -A "SIP_PORT=$SIP_PORT")

kamailio -c "${ARGS[@]}" >"$RUNDIR/check.log" 2>&1 || {
  echo "start: config check failed:" >&2; cat "$RUNDIR/check.log" >&2; exit 1; }

if [[ "${KAMAILIO_FG:-}" == 1 ]]; then
  echo "start: foreground, PID $$ (Ctrl-C to stop)"
  exec kamailio "${ARGS[@]}"
fi

t0=$(date +%s.%N)
# -DD: do not daemonize the creator process, so $! is Kamailio's main PID.
# setsid puts it in its own process group (pgid == PID), so stop.sh can
# also reach orphaned children if the main process had to be SIGKILLed.
# All three streams are redirected: a caller reading this script's output
# (go test's exec.Cmd) must not wait for Kamailio to close them.
setsid kamailio "${ARGS[@]}" >"$LOG" 2>&1 </dev/null &
PID=$!
echo "$PID" >"$PIDFILE.start"

deadline=$(( $(date +%s) + TIMEOUT ))
until port_open $WSS_PORT && serving $WS_PORT; do
  if ! kill -0 "$PID" 2>/dev/null; then
    echo "start: kamailio exited during startup; log $LOG:" >&2
    tail -n 40 "$LOG" >&2
    rm -f "$PIDFILE.start"
    exit 1
  fi
  if (( $(date +%s) >= deadline )); then
    echo "start: ws port $WS_PORT not serving (or wss $WSS_PORT not open) after ${TIMEOUT}s; stopping PID $PID" >&2
    kill "$PID" 2>/dev/null || true
    tail -n 40 "$LOG" >&2
    exit 1
  fi
  sleep 0.02
done
t1=$(date +%s.%N)
# kamailio writes its own pid file (-P); fall back to $! if it has not yet
[[ -s "$PIDFILE" ]] || echo "$PID" >"$PIDFILE"
rm -f "$PIDFILE.start"

awk -v p="$PID" -v a="$t0" -v b="$t1" 'BEGIN{printf "start: kamailio PID %s ready in %.2fs\n", p, b-a}'
echo "  ws   ws://127.0.0.1:$WS_PORT   (subprotocol sip, any path)"
echo "  wss  wss://127.0.0.1:$WSS_PORT  (cert $CERTDIR/kamailio-cert.pem)"
echo "  sip  udp/tcp 127.0.0.1:$SIP_PORT"
echo "  log  $LOG   pid $PIDFILE"
echo "  kamcmd -s unix:$RUNDIR/kamailio_ctl ws.dump | ul.dump"
echo "$PID"
