package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := dispatch(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestValidate(t *testing.T) {
	code, out, _ := run(t, "validate", "../../examples/refinery")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	// The seed's conduits carry no syslog: three devices have no declared
	// path to the collector.
	if !regexp.MustCompile(`\.\./\.\./examples/refinery: valid \(5 zones, 3 conduits, 6 rules, 35 assets, 6 devices, 1 diode\): 0 errors, 4 warnings, 4 notes`).MatchString(out) ||
		strings.Count(out, "has no path to a collector") != 3 {
		t.Errorf("summary:\n%s", out)
	}
	if !strings.Contains(out, "../../examples/refinery/zones.yaml:121:17: warning: conduit \"C3-DMZ-ENT\" has security level SL 1") {
		t.Errorf("warning with file:line:col missing:\n%s", out)
	}

	code, out, _ = run(t, "validate", "../../rules/testdata/overlap.bad.yaml")
	if code != 1 {
		t.Errorf("bad model: exit %d", code)
	}
	if !regexp.MustCompile(`(?m)^\.\./\.\./rules/testdata/overlap\.bad\.yaml:14:13: error: network 10\.1\.20\.0/24 of zone "B-OPS" overlaps`).MatchString(out) ||
		!strings.Contains(out, "overlap.bad.yaml: invalid: 1 error, 0 warnings, 0 notes") {
		t.Errorf("bad model output:\n%s", out)
	}

	if code, _, _ = run(t, "validate", "--strict", "../../examples/refinery"); code != 1 {
		t.Errorf("--strict with a warning: exit %d", code)
	}
	if code, _, errs := run(t, "validate", "no/such/dir"); code != 1 || !strings.Contains(errs, "no such file") {
		t.Errorf("missing path: exit %d %q", code, errs)
	}
	if code, _, _ = run(t, "validate"); code != 2 {
		t.Errorf("no path: exit %d", code)
	}
}

func TestValidateJSON(t *testing.T) {
	code, out, _ := run(t, "validate", "--format", "json", "../../rules/testdata/allowed-conduits.bad.yaml")
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	var res struct {
		Valid       bool
		Errors      int
		Diagnostics []struct {
			File     string
			Line     int
			Col      int
			Severity string
			Code     string
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if res.Valid || res.Errors != 3 || len(res.Diagnostics) != 3 || res.Diagnostics[1].Line != 11 || res.Diagnostics[1].Col != 30 ||
		res.Diagnostics[1].Code != "allowed-conduits" {
		t.Errorf("%+v", res)
	}
}

func TestModel(t *testing.T) {
	code, out, _ := run(t, "model", "../../examples/refinery")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^Z1-SIS\s+Safety Instrumented Systems\s+1\s+SL 3\s+10\.10\.0\.0/16\s+3\s+none \(air-gapped\)$`),
		regexp.MustCompile(`(?m)^Z3-OPS\s+×\s+modbus/502\s+·\s+pi/5450\s+-$`),
		regexp.MustCompile(`(?m)^Z5-ENT\s+×\s+-\s+-\s+https/443 rdp/3389\s+·$`),
		regexp.MustCompile(`(?m)^C1-BPCS-OPS#2\s+SL 2\s+modbus\s+tcp/502\s+Z3-OPS -> Z2-BPCS\s+3,4\s*$`),
		regexp.MustCompile(`(?m)^pa-c3\s+firewall\s+.*C3-DMZ-ENT\s+monitor since 2026-10-01$`),
		regexp.MustCompile(`(?m)^DMZ-DD-01\s+10\.30\.1\.100 \(Z3-OPS\)\s+172\.16\.1\.100 \(Z4-DMZ\)\s+C2-OPS-DMZ#1 pi\s+10s$`),
	} {
		if !want.MatchString(out) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	if code, _, errs := run(t, "model", "../../rules/testdata/syntax.bad.yaml"); code != 1 || !strings.Contains(errs, "syntax.bad.yaml:2:1: error:") {
		t.Errorf("bad model: exit %d %q", code, errs)
	}
}

func TestDispatch(t *testing.T) {
	if code, _, errs := run(t, "frobnicate"); code != 2 || !strings.Contains(errs, `unknown command "frobnicate"`) || !strings.Contains(errs, "validate") {
		t.Errorf("exit %d %q", code, errs)
	}
	if code, _, _ := run(t, "help"); code != 0 {
		t.Errorf("help: exit %d", code)
	}
	// -h is help, never an error, for every command.
	for name := range commands {
		if code, _, errs := run(t, name, "-h"); code != 0 || !strings.Contains(errs, "usage") && !strings.Contains(errs, "Usage") {
			t.Errorf("%s -h: exit %d: %.200s", name, code, errs)
		}
	}
	// Flags after the path.
	if code, _, _ := run(t, "validate", "../../examples/refinery", "--strict"); code != 1 {
		t.Errorf("validate PATH --strict: exit %d, want 1 (the refinery has warnings)", code)
	}
	if code, _, errs := run(t, "validate", "--format", "xml", "../../examples/refinery"); code != 2 || !strings.Contains(errs, `unknown format "xml"`) {
		t.Errorf("validate --format xml: exit %d: %s", code, errs)
	}
}
