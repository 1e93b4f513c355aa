// Command fleet measures sipws at fleet scale: many transports in one
// process (issue 16) and a restart storm (issue 14). It is a program, not a
// benchmark of package testing, because each measurement must run in a
// fresh process (RSS never goes back down, and a storm kills a server), and
// because what it reports (per-window tables, /proc counters) is more than
// ns/op; it prints Go benchmark lines all the same, so that benchstat and
// the table subcommand read them.
//
//	go run ./internal/fleet fleet [flags]       # N OPEN transports: memory, goroutines, keepalive CPU
//	go run ./internal/fleet storm [flags]       # a server killed and restarted under N transports
//	go run ./internal/fleet table FILE [FILE…]  # medians and spreads of saved results, side by side
//
// # The "before" figures and how to compare
//
// Run one heavy measurement at a time, on a machine otherwise idle (each
// result line ends with load1, the load average when it finished: a
// figure taken under load is suspect). Each subcommand runs every
// configuration once per round, interleaved, each in a fresh process, and
// prints a table of medians with their spread (minimum–maximum) at the end:
//
//	go run ./internal/fleet storm -rounds 3 -o storm.txt                      # ws and wsgobwas, jitter -1 and default, N = 10,000: ~5 min
//	go run ./internal/fleet fleet -mode real -rounds 3 -o real.txt            # both backends, ws and wss, N = max (19,500 here): ~30 min
//	go run ./internal/fleet fleet -mode mem -rounds 3 -o mem.txt              # both backends, N = 100,000: ~15 min
//	go run ./internal/fleet table before/real.txt after/real.txt              # side by side, with the change of each median
//	benchstat before/real.txt after/real.txt                                  # the same with benchstat (6 rounds or more for its intervals)
//
// Profiles (a separate run: profiling changes the figures):
//
//	go run ./internal/fleet fleet -mode real -backend wsgobwas -scheme ws -profile /tmp/prof
//	go tool pprof -sample_index=inuse_space -top /tmp/prof/*wsgobwas*.heap.pprof   # all OPEN, after GC
//	go tool pprof -top /tmp/prof/*wsgobwas*.cpu.pprof                               # the steady window
//
// The test (go test ./internal/fleet, about 6 s) runs every mode at N = 200
// (50 under -race) with short timers, so that the tools cannot rot, and
// checks that Disconnect of every transport leaves no goroutine behind.
//
// # fleet
//
// Opens N transports (-n; "max" is the open-file cap less 500, 19,500 with
// this machine's 20,000, for real mode; 100,000 for mem mode), -concurrency
// Connect calls at once (64), with KeepAliveInterval -keepalive (30 s).
// Then, with four collections and debug.FreeOSMemory before each memory
// reading:
//   - open/s: transports OPEN per second while opening (the connect storm);
//   - rss-fresh-B/tr: VmRSS per transport just after all are OPEN;
//   - rss-B/tr, the headline: VmRSS per transport once every transport
//     has had one keepalive round trip (at most one interval later), which
//     touches its read buffer as any received message would, and before
//     any reconnection: the OPEN idle transport; with it heap-B/tr,
//     stack-B/tr (MemStats HeapAlloc, StackInuse), gosys-B/tr (what the Go
//     runtime holds from the OS), and goroutines/tr (just OPEN);
//   - rss-churn-B/tr and heap-churn-B/tr: the same at the very end, after
//     every transport has reconnected once (the re-phase below) and the
//     steady window: what a fleet that reconnects holds, fragmentation
//     included;
//   - then, with -rephase (on by default), every transport is
//     disconnected and connected again once, in a random order at an even
//     pace over one -keepalive: opened at once, the transports would all
//     draw their keepalive periods ([0.8, 1) × the interval) from the same
//     instant and ping in one dense wave, which batches by itself and
//     flatters the cost of a ping (a 30 s window then holds exactly one
//     ping per transport, in its last 12 s); a fleet that has run a while
//     has its phases spread, and so has this one;
//   - over a steady window (-steady, default -keepalive) that starts
//     -warmup (default -keepalive) after that, so that every transport
//     has drawn its period and pings (a run lasts about four intervals,
//     plus the opening): cpu-us/ka, the client's CPU time (getrusage: user
//     and system) per keepalive round trip (pongs received,
//     Stats.KeepalivesIn); cpu-%core over the window; cpu-%core-100k@30s,
//     cpu-us/ka × 100,000 / 27 s (the mean period of a 30 s interval), for
//     the "10 % of one core" target; ctxsw/ka, context switches per
//     round trip (the wake-ups a coalescing scheduler saves); ka/s;
//     gc/window; dials/window (0 unless flows failed); srv-cpu-us/ka,
//     the server child's, for context; and others-%core and steal-%core,
//     the machine's CPU (/proc/stat) that neither the client nor the server
//     used in the window, and the hypervisor's steal: another program's
//     load shows there, and a figure taken under it is suspect;
//   - leftover-goroutines after Disconnect of all (bounded wait: 10 s).
//
// -mode real: the server is a child process (this program with
// SIPWS_FLEET_ROLE=server) listening on 127.0.0.1 … 127.0.0.<-addrs> (8),
// transport i dialing address i mod 8, so that the ephemeral-port range is
// not the limit; -scheme wss gives it a self-signed ECDSA certificate that
// the clients trust through Config.Dial.TLSConfig. It adds the kernel's
// cost: kernel-B/sock is the growth of /proc/meminfo Slab plus
// /proc/net/sockstat TCP mem, divided by the growth of sockstat TCP inuse
// (both ends: 2N sockets) at the idle reading, kernel-after-B/sock the same
// after the steady window; both are machine-wide readings, so another
// program's activity shows in them. proj100k-MiB projects the client to
// 100,000 real sockets: (rss-B/tr + the larger kernel-B/sock) × 100,000,
// the client's sockets only; a server on the same host adds its own.
//
// -mode mem: each backend dials, through its Dialer.NetDial, an in-memory
// connection whose server is inline (see memconn.go for why not
// net.Pipe): no kernel socket, no server goroutine, and so N = 100,000 in
// one process. pipe-B/tr is the heap the in-memory connection and its
// server state hold (measured on bare upgraded connections); a real
// socket's user-space part (net.TCPConn, netFD, pollDesc) is of the same
// order. A change that relies on the socket itself (a syscall.RawConn
// read, say) is not seen in this mode.
//
// # storm
//
// N transports (-n 10,000) on one server child at ws://127.0.0.1:PORT/,
// with ReconnectionJitter -jitter (a list: -1 is SIP.js's exact schedule,
// the "before"; 0 is the default, 0.5, the "after"). The server is killed
// (SIGKILL), restarted on the same port (SO_REUSEADDR) -delay (1 s) later,
// and the clients reconnect. The clients' dials are counted and timed in a
// wrapping NetDial (so a dial counts when its SYN goes out), the restarted
// server's accepts are timed by the server and streamed back on its stdout.
// Periods: the outage from the kill to the restarted server listening
// (up-s), the recovery from then until the last transport is OPEN again
// (allopen-s, from the kill). Reported: per 10 ms and 100 ms window, the
// peak of accepts and of dials in the recovery (acc-peak10ms, …), the mean
// per 10 ms over the recovery and the ratio peak/mean (target ≤ 3); the
// dials of the outage; reopen-p50-s and -p99-s per transport; and the
// growth of /proc/net/netstat TcpExt TCPSynRetrans (synretrans; target 0),
// split into outage-synretrans (before the restart) and
// recovery-synretrans, with ListenOverflows, ListenDrops, TCPReqQFullDrop
// and SyncookiesSent (an accept or SYN queue that overflowed), the dials
// that took 900 ms or more (outage-slow-dials, recovery-slow-dials: on
// loopback only a SYN retransmitted after the 1 s timeout is that slow),
// and the TIME_WAIT sockets before the kill and at the restart
// (tw-before, tw-restart). The target for allopen-s is ReconnectionTimeout
// × 1.5 + 1 s (7 s). Each run also prints its 100 ms timeline as # lines;
// -csv DIR writes the 10 ms one.
//
// On loopback the SYN retransmissions of a storm come from the kill, not
// from an overflowing listener: the killed server's connections stay in
// TIME_WAIT on its port, a reconnecting client whose ephemeral port
// matches one is answered with an ACK instead of a reset, resets it, and
// retransmits its SYN within milliseconds (the kernel's SYN_SENT rule for
// an unacceptable ACK). They come before the restart and delay no dial.
// -linger0 makes the server reset its connections when killed, leaving no
// TIME_WAIT, and then there are none: the diagnostic that shows it.
package main
