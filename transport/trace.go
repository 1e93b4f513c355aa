package transport

import "github.com/sipws/sipws/sipmsg"

// trace logs one whole SIP message at Trace level, with credentials
// redacted by sipmsg.AppendRedacted (folded lines included). Callers check
// TraceSIP and IsTrace first: it allocates.
func (b *Base) trace(direction, server string, msg []byte) {
	red := sipmsg.AppendRedacted(make([]byte, 0, len(msg)+32), msg)
	b.log.Trace("SIP "+direction, "server", server, "size", len(msg), "message", string(red))
}
