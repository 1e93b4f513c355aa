package selector

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestUnmarshalJSONForms(t *testing.T) {
	a := Server{URI: "ws://a:80", SIPURI: "<sip:a;transport=ws;lr>"}
	b := Server{URI: "wss://b:443", SIPURI: "<sip:b;transport=ws;lr>"}
	tests := []struct {
		name, in string
		want     Servers
	}{
		{"single string", `"ws://a"`, Servers{a}},
		{"list of strings", `["ws://a", "wss://b"]`, Servers{a, b}},
		{"list of objects", `[{"wsUri":"ws://a","weight":10},{"wsUri":"wss://b","weight":1}]`, Servers{withWeight(a, 10), withWeight(b, 1)}},
		{"weight missing is 0", `[{"wsUri":"ws://a"}]`, Servers{a}},
		{"weight null is 0", `[{"wsUri":"ws://a","weight":null}]`, Servers{a}},
		{"weight zero", `[{"wsUri":"ws://a","weight":0}]`, Servers{a}},
		{"weight negative zero", `[{"wsUri":"ws://a","weight":-0}]`, Servers{a}},
		{"integral weight as fraction notation", `[{"wsUri":"ws://a","weight":10.0}]`, Servers{withWeight(a, 10)}},
		{"integral weight in exponent notation", `[{"wsUri":"ws://a","weight":1e1}]`, Servers{withWeight(a, 10)}},
		{"mixed strings and objects", `[{"wsUri":"ws://a","weight":5}, "wss://b"]`, Servers{withWeight(a, 5), b}},
		{"legacy ws_uri key", `[{"ws_uri":"ws://a","weight":2}]`, Servers{withWeight(a, 2)}},
		{"ws_uri equal to wsUri", `[{"ws_uri":"ws://a","wsUri":"ws://a"}]`, Servers{a}},
		{"unknown keys ignored", `[{"wsUri":"ws://a","status":0,"sip_uri":"x","scheme":"WS"}]`, Servers{a}},
		{"whitespace around everything", " \n[ \"ws://a\" ,\t{ \"wsUri\" : \"wss://b\" } ]\n", Servers{a, b}},
		{"JSON escapes in the URI", `"ws:\/\/a\u0041"`, Servers{{URI: "ws://aa:80", SIPURI: "<sip:aa;transport=ws;lr>"}}},
		{"duplicates kept", `["ws://a","ws://a"]`, Servers{a, a}},
		{"query with ampersand", `["ws://a/?x=1&y=2"]`, Servers{{URI: "ws://a:80/?x=1&y=2", SIPURI: "<sip:a;transport=ws;lr>"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Servers
			if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
				t.Fatalf("Unmarshal(%s): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Unmarshal(%s)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}

func withWeight(s Server, w int) Server { s.Weight = w; return s }

func TestUnmarshalJSONErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     error
		index    int    // the *URIError's index; -2: no *URIError expected
		text     string // a substring of the message
	}{
		{"empty list", `[]`, ErrNoServers, -2, "no servers"},
		{"a number", `42`, ErrForm, -2, "got 42"},
		{"a bool", `true`, ErrForm, -2, "got true"},
		{"a lone object", `{"wsUri":"ws://a"}`, ErrForm, -2, `got {"wsUri"`},
		{"invalid JSON", `[`, nil, -2, "selector: wsServers"},
		{"empty input", ``, ErrForm, -2, "got nothing"},
		{"single bad string", `"http://x"`, ErrScheme, 0, `selector: wsServers[0] "http://x": scheme must be ws or wss`},
		{"bad URI in list", `["ws://a","ws://b","http://x"]`, ErrScheme, 2, `selector: wsServers[2] "http://x": scheme must be ws or wss`},
		{"bad URI in object", `[{"wsUri":"ws://a#x","weight":1}]`, ErrFragment, 0, `wsServers[0] "ws://a#x": fragment`},
		{"number entry", `["ws://a", 42]`, ErrEntry, 1, `wsServers[1] "42"`},
		{"null entry", `[null]`, ErrEntry, 0, `wsServers[0] "null"`},
		{"nested list entry", `[["ws://a"]]`, ErrEntry, 0, `wsServers[0]`},
		{"object without wsUri", `["ws://a", {"weight":3}]`, ErrEntry, 1, `"wsUri" is missing`},
		{"object with null wsUri", `[{"wsUri":null}]`, ErrEntry, 0, `"wsUri" is missing`},
		{"wrong-case key is not wsUri", `[{"wsuri":"ws://a"}]`, ErrEntry, 0, `"wsUri" is missing`},
		{"wsUri a number", `[{"wsUri":5}]`, ErrEntry, 0, `"wsUri" is not a string`},
		{"wsUri and ws_uri differ", `[{"wsUri":"ws://a","ws_uri":"ws://b"}]`, ErrEntry, 0, "differ"},
		{"empty wsUri", `[{"wsUri":""}]`, ErrSyntax, 0, `wsServers[0] ""`},
		{"weight a string that is no number", `[{"wsUri":"ws://a","weight":"ten"}]`, ErrWeight, 0, `wsServers[0] "ws://a": weight must be a non-negative integer: got "ten"`},
		{"weight an empty string", `[{"wsUri":"ws://a","weight":""}]`, ErrWeight, 0, `got ""`},
		{"weight a quoted string in a string", `[{"wsUri":"ws://a","weight":"\"1\""}]`, ErrWeight, 0, `got`},
		{"weight a bool", `[{"wsUri":"ws://a","weight":true}]`, ErrWeight, 0, "got true"},
		{"weight an object", `[{"wsUri":"ws://a","weight":{}}]`, ErrWeight, 0, "got {}"},
		{"weight a fraction", `["ws://z", {"wsUri":"ws://a","weight":1.5}]`, ErrWeight, 1, `wsServers[1] "ws://a": weight must be a non-negative integer: got 1.5`},
		{"weight negative", `[{"wsUri":"ws://a","weight":-1}]`, ErrWeight, 0, "got -1"},
		{"weight negative fraction", `[{"wsUri":"ws://a","weight":-0.5}]`, ErrWeight, 0, "got -0.5"},
		{"weight beyond 2^53", `[{"wsUri":"ws://a","weight":1e300}]`, ErrWeight, 0, "got 1e300"},
		{"weight overflowing float64", `[{"wsUri":"ws://a","weight":1e999}]`, ErrWeight, 0, "got 1e999"},
		{"long entry cut in the message", `[{"x":"` + strings.Repeat("y", 200) + `"}]`, ErrEntry, 0, `..."`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := Servers{{URI: "ws://keep:80"}}
			got := before
			err := json.Unmarshal([]byte(tt.in), &got)
			if tt.in == `` || tt.in == `[` {
				// encoding/json rejects these itself; call the method.
				err = got.UnmarshalJSON([]byte(tt.in))
			}
			if err == nil {
				t.Fatalf("Unmarshal(%s) = %+v, want an error", tt.in, got)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Unmarshal(%s) error %v, want errors.Is %v", tt.in, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q lacks %q", err, tt.text)
			}
			var ue *URIError
			switch {
			case tt.index == -2 && errors.As(err, &ue):
				t.Errorf("error %#v: want no *URIError", ue)
			case tt.index >= 0 && (!errors.As(err, &ue) || ue.Index != tt.index):
				t.Errorf("error %v: want a *URIError with index %d", err, tt.index)
			}
			if !reflect.DeepEqual(got, before) {
				t.Errorf("failed Unmarshal changed the list to %+v", got)
			}
		})
	}
}

func TestUnmarshalJSONNullKeepsList(t *testing.T) {
	got := Servers{{URI: "ws://keep:80"}}
	if err := json.Unmarshal([]byte(`null`), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].URI != "ws://keep:80" {
		t.Errorf("null changed the list to %+v", got)
	}
}

func TestUnmarshalJSONReportsEveryBadEntry(t *testing.T) {
	var got Servers
	err := json.Unmarshal([]byte(`["http://x", "ws://ok", 3, {"wsUri":"ws://a","weight":-2}]`), &got)
	for _, want := range []string{"wsServers[0]", "wsServers[2]", "wsServers[3]"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %s", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "wsServers[1]") {
		t.Errorf("error %v names the good entry", err)
	}
}

// TestWeightAsString: SIP.js read a weight given as a numeric string.
func TestWeightAsString(t *testing.T) {
	var ss Servers
	if err := json.Unmarshal([]byte(`[{"wsUri":"ws://a","weight":"10"},{"wsUri":"ws://b","weight":" 3"}]`), &ss); err == nil {
		t.Fatalf("a weight with a space was read: %+v", ss)
	}
	if err := json.Unmarshal([]byte(`[{"wsUri":"ws://a","weight":"10"}]`), &ss); err != nil || ss[0].Weight != 10 {
		t.Errorf("weight \"10\": %+v, %v; want 10", ss, err)
	}
}

func TestMarshalJSON(t *testing.T) {
	tests := []struct {
		name string
		in   Servers
		want string
	}{
		{"nil is null", nil, `null`},
		{"empty is an empty list", Servers{}, `[]`},
		{"object form, as written", Servers{{URI: "wss://a:443/ws?k=1", Weight: 10, SIPURI: "<sip:a;transport=ws;lr>"},
			{URI: "ws://b:80", SIPURI: "<sip:b:80;transport=ws;lr>"}, {URI: "ws://c:80"}},
			`[{"wsUri":"wss://a/ws?k=1","weight":10},{"wsUri":"ws://b:80","weight":0},{"wsUri":"ws://c:80","weight":0}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("Marshal\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestJSONRoundTrip(t *testing.T) {
	type config struct {
		Servers Servers `json:"wsServers"`
	}
	inputs := []string{
		`{"wsServers":"wss://sip.example.com/ws"}`,
		`{"wsServers":["ws://a:5066","WSS://B/x?y=1&z=2"]}`,
		`{"wsServers":[{"wsUri":"ws://[::1]:8080/x","weight":10},{"wsUri":"wss://b","weight":3},"ws://c"]}`,
	}
	for _, in := range inputs {
		var first config
		if err := json.Unmarshal([]byte(in), &first); err != nil {
			t.Fatalf("Unmarshal(%s): %v", in, err)
		}
		out, err := json.Marshal(first)
		if err != nil {
			t.Fatal(err)
		}
		var second config
		if err := json.Unmarshal(out, &second); err != nil {
			t.Fatalf("Unmarshal of Marshal output %s: %v", out, err)
		}
		if len(second.Servers) != len(first.Servers) {
			t.Fatalf("round trip of %s: %d servers, want %d", in, len(second.Servers), len(first.Servers))
		}
		for i := range first.Servers {
			f, s := first.Servers[i], second.Servers[i]
			if f.URI != s.URI || f.Weight != s.Weight {
				t.Errorf("round trip of %s: [%d] = %+v, want %+v", in, i, s, f)
			}
			// SIPURI is not in the JSON form, but the URI is written as
			// written, so it is derived again the same.
			if s.SIPURI != f.SIPURI {
				t.Errorf("round trip of %s: SIPURI %q, want %q", in, s.SIPURI, f.SIPURI)
			}
		}
		renorm, err := second.Servers.Normalize()
		if err != nil || !reflect.DeepEqual(renorm, second.Servers) {
			t.Errorf("Normalize after round trip = %+v, %v; want unchanged", renorm, err)
		}
	}
}
