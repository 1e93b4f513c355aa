package sipmsg

import "bytes"

// AppendRedacted appends to dst a copy of msg, the raw bytes of one SIP
// message, whose credentials are replaced by "<redacted>", and returns the
// extended slice. It is meant for logging (a transport's SIP trace) and
// works on the bytes alone: msg need not parse, and AppendRedacted never
// fails and never panics.
//
// The credentials are the values of the Authorization and
// Proxy-Authorization headers (RFC 3261 §20.7, §20.28). A header line is
// one of them when it starts with either name, in any case, followed by
// optional SP or HTAB and a colon; the lines after it that start with SP
// or HTAB are its continuation lines (folding, RFC 3261 §7.3.1). The
// value, continuation lines included, is written as one line:
//
//	Authorization: Digest <redacted>
//
// The name, the white space before the colon and the colon are kept as
// received; then come one SP, the authentication scheme when the value
// starts with one, and "<redacted>", then the line ending of the header's
// last line (CRLF, LF, or none at the end of msg). The scheme is kept
// when the value's first word is a token (RFC 3261 auth-scheme: Digest,
// Bearer, ...) followed by white space and more; a value of a single
// word, which may be a bare credential, is redacted whole.
//
// Lines are split at LF, so CRLF and bare LF endings both work, even
// mixed, and a stray CR inside a line is part of the line. As in Parse,
// CR and LF bytes before the first line are skipped; the headers end at
// the first empty line (LF or CRLF alone), and what follows, the body, is
// copied untouched, as is every other byte of msg. A msg without such
// headers is returned unchanged after dst.
//
// AppendRedacted allocates only when dst lacks capacity (each credential
// header grows by at most 11 bytes) and is safe for concurrent use.
func AppendRedacted(dst, msg []byte) []byte {
	p := 0
	for p < len(msg) && (msg[p] == '\r' || msg[p] == '\n') {
		p++
	}
	dst = append(dst, msg[:p]...)
	for p < len(msg) {
		end, next := lineBounds(msg, p)
		if end == p {
			return append(dst, msg[p:]...) // the blank line and the body
		}
		colon := credentialColon(msg[p:end])
		if colon < 0 {
			dst = append(dst, msg[p:next]...)
			p = next
			continue
		}
		for next < len(msg) && (msg[next] == ' ' || msg[next] == '\t') {
			end, next = lineBounds(msg, next)
		}
		dst = append(dst, msg[p:p+colon+1]...)
		dst = append(dst, ' ')
		if scheme := authScheme(msg[p+colon+1 : end]); len(scheme) > 0 {
			dst = append(dst, scheme...)
			dst = append(dst, ' ')
		}
		dst = append(dst, "<redacted>"...)
		dst = append(dst, msg[end:next]...)
		p = next
	}
	return dst
}

// lineBounds finds the line that starts at p: end is where its content
// ends (before CRLF or LF), next where the next line starts. A last line
// without LF ends at len(b), CR included.
func lineBounds(b []byte, p int) (end, next int) {
	i := bytes.IndexByte(b[p:], '\n')
	if i < 0 {
		return len(b), len(b)
	}
	end, next = p+i, p+i+1
	if end > p && b[end-1] == '\r' {
		end--
	}
	return end, next
}

// credentialColon returns the index of the colon when line is an
// Authorization or Proxy-Authorization header line, or -1.
func credentialColon(line []byte) int {
	n := 0
	switch {
	case len(line) > len("authorization") && equalFold(line[:len("authorization")], "authorization"):
		n = len("authorization")
	case len(line) > len("proxy-authorization") && equalFold(line[:len("proxy-authorization")], "proxy-authorization"):
		n = len("proxy-authorization")
	default:
		return -1
	}
	for n < len(line) && (line[n] == ' ' || line[n] == '\t') {
		n++
	}
	if n < len(line) && line[n] == ':' {
		return n
	}
	return -1
}

// authScheme returns the authentication scheme that starts value, or nil:
// its first word when that is a token followed by white space and more.
func authScheme(value []byte) []byte {
	i := skipSpace(value, 0)
	j := i
	for j < len(value) && isToken(value[j]) {
		j++
	}
	if j == i || j == len(value) || !isSpace(value[j]) || skipSpace(value, j) == len(value) {
		return nil
	}
	return value[i:j]
}
