package dialer_test

import (
	"errors"
	"fmt"
	"io"

	"github.com/sipws/sipws/dialer"
)

// Every backend reports how a connection ended as a *dialer.CloseError,
// whatever its WebSocket library says, so callers branch on the code.
func ExampleCloseError() {
	err := fmt.Errorf("read: %w", dialer.TooLarge(70000, dialer.DefaultMaxMessageSize))

	var ce *dialer.CloseError
	if errors.As(err, &ce) {
		fmt.Println("code:", ce.Code)
	}
	fmt.Println("too large:", errors.Is(err, dialer.ErrMessageTooLarge))
	fmt.Println("dropped:", errors.Is(err, &dialer.CloseError{Code: dialer.CloseAbnormal}))

	dropped := dialer.Abnormal(io.ErrUnexpectedEOF)
	fmt.Println(dropped)
	// Output:
	// code: 1009
	// too large: true
	// dropped: false
	// dialer: connection closed: 1006: unexpected EOF
}
