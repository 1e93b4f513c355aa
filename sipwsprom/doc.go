// Package sipwsprom exports the counters of a set of sipws transports to
// Prometheus: a prometheus.Collector over transport.Stats, in the manner of
// client_golang's own collectors (collectors.NewGoCollector,
// collectors.NewDBStatsCollector).
//
// # Model
//
// A Collector holds a set of transports that the application adds and
// removes (Add, Remove): typically one per user agent, added after NewBase
// and removed after Disconnect (a transport counts from Add on, so Add it
// before Connect to count its first dial). Nothing is kept per transport but
// a reference and its last counters. At each scrape the collector reads every transport's
// Stats, Status and Server once, without a lock on the transport, and sums
// them per label set; it sends a constant number of metrics per label set, so
// a scrape costs time in proportion to the transports and allocates in
// proportion to the label sets (series), never to the transports.
//
// # Metrics
//
// With the default namespace "sipws", each label set {backend, server} has:
//
//	sipws_messages_received_total      counter    Stats.MessagesIn
//	sipws_messages_sent_total          counter    Stats.MessagesOut
//	sipws_received_bytes_total         counter    Stats.BytesIn
//	sipws_sent_bytes_total             counter    Stats.BytesOut
//	sipws_messages_dropped_total       counter    Stats.Dropped
//	sipws_keepalives_received_total    counter    Stats.KeepalivesIn
//	sipws_keepalives_sent_total        counter    Stats.KeepalivesOut
//	sipws_pong_timeouts_total          counter    Stats.PongTimeouts
//	sipws_dials_total                  counter    Stats.Dials
//	sipws_connects_total               counter    Stats.Connects
//	sipws_reconnects_total             counter    Stats.Reconnects
//	sipws_failovers_total              counter    Stats.Failovers
//	sipws_recoveries_total             counter    Stats.Recoveries
//	sipws_failback_probes_total        counter    Stats.FailbackProbes
//	sipws_failbacks_total              counter    Stats.Failbacks
//	sipws_keepalive_rtt_seconds        histogram  Stats.KeepaliveRTT
//	sipws_connect_duration_seconds     histogram  Stats.ConnectTime
//	sipws_transports{status}           gauge      transports per status
//
// The histograms have the buckets of transport.HistogramBounds (1 ms to
// 10 s). The gauge has one series per status (CLOSED, CONNECTING, OPEN,
// CLOSING) for each label set, zeros included, so that no series disappears
// when its last transport changes status. Stats.LastKeepaliveRTT, one
// transport's last value, has no sum worth exporting; the RTT histogram
// replaces it.
//
// # Labels
//
// There are two labels, and no way to add one per transport:
//
//   - backend: the string given to Add, meant to name the socket library
//     ("ws", "gobwas") or a pool of transports, a constant of the program;
//   - server: the WebSocket server the transport is on, as selector.Server.URI
//     without its query (a query may carry a per-user token). A transport
//     that is not OPEN keeps the server the collector last saw it on; one that
//     has not been seen OPEN yet has its first server, the one it tries first
//     (the highest weight, the first listed among equals), when the Source has
//     a Config method, as *transport.Base has, and "" otherwise.
//
// A user name or a Call-ID is never a label. The number of label sets is
// bounded twice: by the program (backends times configured servers) and by
// Options.MaxLabelSets, past which any new pair of values is counted under
// backend and server Overflow. Label sets are kept once created, so each
// series lives as long as the collector.
//
// # Counters are monotonic
//
// A series counts what its transports did while they were in the collector:
// Add takes a baseline, and each scrape adds every transport's increase
// since the one before to the label set the transport is in at that scrape.
// So a counter never goes backwards: not when a transport is removed (Remove
// adds its last increase, and the series keeps it), not when a transport
// moves to another server (its earlier counts stay where they were counted).
// The price is precision in time: what a transport did between two scrapes
// is counted on the server it is on at the second one, so the messages of a
// transport that failed over between two scrapes go to the new server. A
// Source whose counter goes down is taken as reset, as Prometheus takes a
// counter: its new value is its increase.
//
// # Concurrency
//
// Add, Remove, Len, Describe and Collect are safe for concurrent use. Collect
// holds the set's lock only to copy the list of transports into a buffer it
// reuses, then reads each transport under that transport's own small lock,
// so Add and Remove wait at most for a copy of the list, never for a whole
// scrape. Concurrent Collect calls (two registries) take turns.
package sipwsprom
