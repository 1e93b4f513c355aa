package transport

import "runtime"

// goroutineID returns the runtime's number for the calling goroutine, as
// runtime.Stack prints it ("goroutine 18 [running]:"). Numbers are never
// reused while a process runs. It costs about a microsecond, so it is
// called only when a transport's goroutine starts and in Connect and
// Disconnect, never on the message path: its one use is telling whether
// Connect or Disconnect was called from an event callback, which runs on
// the transport's own goroutine.
func goroutineID() uint64 {
	var buf [32]byte
	b := buf[:runtime.Stack(buf[:], false)]
	const prefix = "goroutine "
	if len(b) < len(prefix) || string(b[:len(prefix)]) != prefix {
		return 0
	}
	var id uint64
	for _, c := range b[len(prefix):] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}
