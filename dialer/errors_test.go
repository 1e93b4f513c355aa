package dialer

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCloseErrorIs(t *testing.T) {
	err := fmt.Errorf("read: %w", &CloseError{Code: 4001, Reason: "bye", Err: io.EOF})
	tests := []struct {
		target error
		want   bool
	}{
		{&CloseError{Code: 4001}, true},                // any reason
		{&CloseError{Code: 4001, Reason: "bye"}, true}, // this reason
		{&CloseError{Code: 4001, Reason: "other"}, false},
		{&CloseError{Code: 1000}, false},
		{io.EOF, true}, // the cause is unwrapped
		{ErrMessageTooLarge, false},
	}
	for _, tt := range tests {
		if got := errors.Is(err, tt.target); got != tt.want {
			t.Errorf("errors.Is(%v, %v) = %v, want %v", err, tt.target, got, tt.want)
		}
	}
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "bye" {
		t.Errorf("errors.As = %+v", ce)
	}
	if got := err.Error(); got != `read: dialer: connection closed: 4001 "bye": EOF` {
		t.Errorf("Error() = %q", got)
	}
}

func TestTooLarge(t *testing.T) {
	for _, tt := range []struct {
		size, limit int64
		want        string
	}{
		{70000, 65536, "70000 > 65536 bytes"},
		{-1, 65536, "more than 65536 bytes"},
	} {
		err := TooLarge(tt.size, tt.limit)
		if err.Code != CloseMessageTooBig || !errors.Is(err, ErrMessageTooLarge) {
			t.Errorf("TooLarge(%d, %d) = %+v, want code 1009 wrapping ErrMessageTooLarge", tt.size, tt.limit, err)
		}
		if !strings.HasSuffix(err.Error(), tt.want) {
			t.Errorf("TooLarge(%d, %d) says %q, want it to end in %q", tt.size, tt.limit, err, tt.want)
		}
	}
	if err := Abnormal(io.ErrUnexpectedEOF); err.Code != CloseAbnormal || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Abnormal = %+v", err)
	}
}

func TestHandshakeError(t *testing.T) {
	if got := (&HandshakeError{StatusCode: 503, Status: "503 Service Unavailable"}).Error(); got != "dialer: handshake refused: HTTP 503 Service Unavailable" {
		t.Errorf("Error() = %q", got)
	}
	if got := (&HandshakeError{StatusCode: 404}).Error(); got != "dialer: handshake refused: HTTP 404" {
		t.Errorf("Error() without a status line = %q", got)
	}
}

func TestOptions(t *testing.T) {
	if got := (Options{}).ReadLimit(); got != DefaultMaxMessageSize {
		t.Errorf("zero ReadLimit = %d, want %d", got, DefaultMaxMessageSize)
	}
	if got := (Options{MaxMessageSize: 1000}).ReadLimit(); got != 1000 {
		t.Errorf("ReadLimit = %d, want 1000", got)
	}
	if !IsText([]byte("OPTIONS sip:a SIP/2.0\r\n")) || IsText([]byte{0xff, 0xfe}) {
		t.Error("IsText does not follow UTF-8 validity")
	}
}

func TestOptionsCheck(t *testing.T) {
	bad := []struct {
		name string
		o    Options
	}{
		{"Sec-WebSocket-Protocol", Options{Header: http.Header{"Sec-Websocket-Protocol": {"sip"}}}},
		{"sec-websocket-protocol in lower case", Options{Header: http.Header{"sec-websocket-protocol": {"chat"}}}},
		{"Upgrade", Options{Header: http.Header{"Upgrade": {"h2c"}}}},
		{"Connection", Options{Header: http.Header{"Connection": {"close"}}}},
		{"Sec-WebSocket-Key", Options{Header: http.Header{"Sec-WebSocket-Key": {"x"}}}},
		{"Sec-WebSocket-Version", Options{Header: http.Header{"Sec-WebSocket-Version": {"8"}}}},
		{"Sec-WebSocket-Extensions", Options{Header: http.Header{"Sec-WebSocket-Extensions": {"permessage-deflate"}}}},
		{"header name with a space", Options{Header: http.Header{"X Bad": {"1"}}}},
		{"header name with CRLF", Options{Header: http.Header{"X-A\r\nX-B": {"1"}}}},
		{"empty header name", Options{Header: http.Header{"": {"1"}}}},
		{"negative MaxMessageSize", Options{MaxMessageSize: -1}},
		{"header value with CRLF", Options{Header: http.Header{"X-Token": {"a\r\nX-Injected: 1"}}}},
		{"header value with LF", Options{Header: http.Header{"X-Token": {"ok", "a\nb"}}}},
		{"header value with NUL", Options{Header: http.Header{"X-Token": {"a\x00"}}}},
	}
	for _, tt := range bad {
		if err := tt.o.Check(); !errors.Is(err, ErrOptions) {
			t.Errorf("%s: Check = %v, want an error wrapping ErrOptions", tt.name, err)
		}
	}
	good := Options{Header: http.Header{"Origin": {"https://a"}, "Host": {"b"}, "x-lower": {"1"}}, MaxMessageSize: 1}
	if err := good.Check(); err != nil {
		t.Errorf("Check(%+v) = %v, want nil", good, err)
	}
}
