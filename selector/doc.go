// Package selector holds the WebSocket servers of a SIP transport and picks
// the next one to try, as SIP.js's WebSocket transport does.
//
// # Servers
//
// A [Server] is one ws:// or wss:// URI with a weight. [ParseServer],
// [Parse], [Servers.Normalize] and [Servers.UnmarshalJSON] validate and
// normalise URIs, so two spellings of one server compare equal:
//
//   - the scheme must be ws or wss, in any case, and is lower-cased;
//   - the host is lower-cased (host names are case-insensitive, RFC 3986
//     §6.2.2.1, so "WS.Example.com" and "ws.example.com" are one server
//     for [Selector.MarkError]); an IPv6 literal keeps its brackets;
//   - a missing port becomes explicit: 80 for ws, 443 for wss; an explicit
//     port loses leading zeros;
//   - the path and the query are kept byte for byte, and must be made of
//     the characters RFC 3986 allows there, because they are sent as they
//     are in the HTTP request line of the handshake;
//   - userinfo, fragments (even an empty "#"), whitespace, control and
//     non-ASCII bytes, IPv6 zones and empty ports are rejected.
//
// Each server also carries SIPURI, the SIP URI SIP.js derives for the Route
// towards that server: <sip:HOST[:PORT];transport=ws;lr>.
//
// Every SIP.js "wsServers" JSON form is accepted: a string, a list of
// strings, a list of {"wsUri": ..., "weight": N} objects, or a mix; the
// weight defaults to 0. An error names the entry: *[URIError] carries its
// index and text, and wraps one of the Err causes, for errors.Is.
//
// # Selection
//
// A [Selector] picks, among the servers not marked in error, one with the
// highest weight, at random among equals (SPEC.md "Connecting, failing over,
// recovering", step 2). The transport marks a server in error after its
// retries fail and resets every mark when none is left. A Selector is safe
// for concurrent use, and Next does not allocate.
package selector
