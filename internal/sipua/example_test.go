package sipua_test

import (
	"fmt"

	"github.com/sipws/sipws/internal/sipua"
)

func Example() {
	u := sipua.New("alice", "127.0.0.1", true)
	r := u.Register(600)
	fmt.Println(r.Method, r.CSeq, sipua.StartLine(r.Raw))
	// Output: REGISTER 1 REGISTER sip:127.0.0.1 SIP/2.0
}
