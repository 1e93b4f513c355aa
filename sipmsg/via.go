package sipmsg

// ViaHostPort returns the host and the port of the sent-by of one Via value
// (RFC 3261 §20.42, §25.1: via-parm = sent-protocol LWS sent-by *params),
// e.g. "h.invalid" and "5060" from "SIP/2.0/WS h.invalid:5060;branch=z9".
// It accepts white space, folding included, around the slashes of
// sent-protocol, before sent-by (Kamailio sends "SIP/2.0/WS  127.0.0.1")
// and around the colon. An IPv6 host is returned with its brackets
// ("[2001:db8::1]"), as the grammar's host is written.
//
// port is nil when the sent-by has no colon; when it has one, port holds
// the digits after it, possibly none. Both are nil when via does not start
// with a sent-protocol and a host. The results are sub-slices of via.
// ViaHostPort is safe for concurrent use.
func ViaHostPort(via []byte) (host, port []byte) {
	i := skipSpace(via, 0)
	// sent-protocol: protocol-name SLASH protocol-version SLASH transport,
	// each part a token and SLASH = SWS "/" SWS.
	for part := 0; part < 3; part++ {
		if part > 0 {
			if i = skipSpace(via, i); i >= len(via) || via[i] != '/' {
				return nil, nil
			}
			i = skipSpace(via, i+1)
		}
		j := i
		for i < len(via) && isToken(via[i]) {
			i++
		}
		if i == j {
			return nil, nil
		}
	}
	i = skipSpace(via, i)
	j := i
	if i < len(via) && via[i] == '[' {
		for i < len(via) && via[i] != ']' {
			i++
		}
		if i == len(via) {
			return nil, nil
		}
		i++
	} else {
		for i < len(via) && !isSpace(via[i]) && via[i] != ':' && via[i] != ';' && via[i] != ',' {
			i++
		}
	}
	if i == j {
		return nil, nil
	}
	host = via[j:i:i]
	if i = skipSpace(via, i); i < len(via) && via[i] == ':' {
		i = skipSpace(via, i+1)
		j = i
		for i < len(via) && '0' <= via[i] && via[i] <= '9' {
			i++
		}
		port = via[j:i:i]
	}
	return host, port
}

// skipSpace returns the index of the first byte at or after i that is not
// white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}
