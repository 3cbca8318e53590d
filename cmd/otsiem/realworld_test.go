package main

import (
	"strings"
	"testing"

	"github.com/otsiem/otsiem/ingest/event"
)

// TestRealWorldVerdicts runs the real-world cases (ingest/decode/all/
// testdata/realworld) through `otsiem check` against examples/refinery, as
// their expect files say, and checks the verdicts they give.
func TestRealWorldVerdicts(t *testing.T) {
	type want struct{ srcZone, dstZone, conduit, verdict, reason string }
	for _, tc := range []struct {
		file string
		args []string
		want []want
	}{
		// The name HIST-01 resolves to the historian's address in the
		// inventory: Modbus Z3 -> Z2 on 502 with no function given.
		{"asa-106100-hostname", nil, []want{{"Z3-OPS", "Z2-BPCS", "C1-BPCS-OPS", "allowed", ""}}},
		{"asa-message-class-emblem", []string{"--received", "2026-03-03T14:16:00Z", "--sender", "10.30.1.1"},
			[]want{{"Z3-OPS", "Z2-BPCS", "C1-BPCS-OPS", "allowed", ""}, {"Z3-OPS", "Z2-BPCS", "C1-BPCS-OPS", "allowed", ""}}},
		{"panos-link-switches-braces", []string{"--received", "2026-03-03T10:16:00Z"},
			[]want{{"Z5-ENT", "Z4-DMZ", "C3-DMZ-ENT", "allowed", ""}}},
		{"suricata-alert-to-client", nil, []want{{"Z3-OPS", "Z2-BPCS", "C1-BPCS-OPS", "allowed", ""}}},
		{"zeek-modbus-exception", nil,
			[]want{{"Z3-OPS", "Z2-BPCS", "C1-BPCS-OPS", "allowed", ""}, {"Z3-OPS", "Z2-BPCS", "C1-BPCS-OPS", "allowed", ""}}},
		{"zeek-scope-sep-underscore", nil, []want{{"Z5-ENT", "Z2-BPCS", "", "violation", "no_conduit"},
			{"Z3-OPS", "Z2-BPCS", "C1-BPCS-OPS", "violation", "function_not_permitted"}}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			args := append([]string{"check", "--model", "../../examples/refinery"}, tc.args...)
			if len(tc.args) == 0 {
				args = append(args, "--received", "2026-03-03T14:16:00Z")
			}
			args = append(args, "../../ingest/decode/all/testdata/realworld/"+tc.file+".log")
			code, out, errs := run(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("%d events, want %d:\n%s", len(lines), len(tc.want), out)
			}
			for i, l := range lines {
				var ev event.Event
				if err := event.Decode([]byte(l), &ev); err != nil {
					t.Fatal(err)
				}
				got := want{ev.SrcZone, ev.DstZone, ev.Conduit, ev.Verdict, ev.Reason}
				if got != tc.want[i] {
					t.Errorf("line %d: got %+v, want %+v", i+1, got, tc.want[i])
				}
			}
		})
	}
}
