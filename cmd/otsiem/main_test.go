package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"runtime/debug"
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
	code, _, errs := run(t, "frobnicate")
	if code != 2 || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, `unknown command "frobnicate" for "otsiem"`) {
		t.Errorf("unknown command: exit %d %q", code, errs)
	}
	// Without a command: the help on stderr, a usage error.
	if code, out, errs := run(t); code != 2 || out != "" || !strings.Contains(errs, "Available Commands:") || !strings.Contains(errs, "validate") {
		t.Errorf("no command: exit %d %q %q", code, out, errs)
	}
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"help", "findings", "ack"}} {
		if code, out, _ := run(t, args...); code != 0 || !strings.Contains(out, "Usage:") {
			t.Errorf("%v: exit %d: %.200s", args, code, out)
		}
	}
	// -h is help on stdout, never an error, for every command and subcommand.
	for name, c := range commands {
		if c.raw != nil {
			continue // parses its own flags (bench, until it moves out of cmd)
		}
		paths := [][]string{{name}}
		for _, sub := range c.sub {
			paths = append(paths, []string{name, sub.name})
		}
		for _, p := range paths {
			if code, out, errs := run(t, append(p, "-h")...); code != 0 || !strings.Contains(out, "Usage:\n  otsiem "+strings.Join(p, " ")) {
				t.Errorf("%v -h: exit %d: %.300s %s", p, code, out, errs)
			}
		}
	}
	// Flags after the path, and Go flag's single-dash long flags.
	for _, args := range [][]string{{"validate", "../../examples/refinery", "--strict"}, {"validate", "-strict", "../../examples/refinery"}} {
		if code, _, errs := run(t, args...); code != 1 {
			t.Errorf("%v: exit %d, want 1 (the refinery has warnings): %s", args, code, errs)
		}
	}
	// A usage error is one line saying what is wrong, exit 2.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"validate", "--format", "xml", "../../examples/refinery"}, `otsiem validate: unknown format "xml"; valid: text, json`},
		{[]string{"validate"}, "otsiem validate: want one model PATH (a directory or a file), got 0 arguments (see otsiem validate --help)"},
		{[]string{"validate", "--frob", "../../examples/refinery"}, "otsiem validate: unknown flag: --frob (see otsiem validate --help)"},
		{[]string{"run", "--duration", "soon"}, `otsiem run: invalid argument "soon" for "--duration" flag`},
		{[]string{"findings", "frob"}, `otsiem findings: unexpected arguments ["frob"] (ack and close come first`},
		{[]string{"check", "x.log"}, "otsiem check: --model DIR is required"},
		{[]string{"store", "extra"}, `otsiem store: unexpected argument "extra"`},
		{[]string{"version", "extra"}, `otsiem version: unexpected argument "extra"`},
	} {
		code, out, errs := run(t, c.args...)
		if code != 2 || out != "" || !strings.HasPrefix(errs, c.want) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and one line %q", c.args, code, out, errs, c.want)
		}
	}
}

// otsiem version names the build: the module and the Go toolchain here
// (tests are built without VCS stamps); versionOf reads a release's
// version, or a checkout's revision.
func TestVersion(t *testing.T) {
	code, out, _ := run(t, "version")
	if code != 0 || !regexp.MustCompile(`^otsiem \S+\nmodule   github\.com/otsiem/otsiem \S+\n(revision [0-9a-f]{40} .*\n)?go       go1\.\S+ \w+/\w+\n$`).MatchString(out) {
		t.Errorf("exit %d:\n%s", code, out)
	}
	if code, out, _ := run(t, "--version"); code != 0 || !strings.HasPrefix(out, "otsiem version ") {
		t.Errorf("--version: exit %d: %s", code, out)
	}
	rev := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"}, {Key: "vcs.modified", Value: "true"}}
	for _, c := range []struct {
		bi   debug.BuildInfo
		want string
	}{
		{debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}, Settings: rev}, "v1.4.0"},
		{debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: rev}, "devel-0123456789ab+dirty"},
		{debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: rev[:1]}, "devel-0123456789ab"},
		{debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel"},
	} {
		if got := versionOf(&c.bi); got != c.want {
			t.Errorf("%+v: %q, want %q", c.bi, got, c.want)
		}
	}
}

// Shell completion: a script per shell, and the completions it asks for.
func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		if code, out, errs := run(t, "completion", sh); code != 0 || !strings.Contains(out, "otsiem") || len(out) < 500 {
			t.Errorf("completion %s: exit %d: %.200s %s", sh, code, out, errs)
		}
	}
	if _, out, _ := run(t, "__complete", "fin"); !strings.HasPrefix(out, "findings\t") {
		t.Errorf("command completion: %q", out)
	}
	if _, out, _ := run(t, "__complete", "findings", "--sev"); !strings.HasPrefix(out, "--severity\t") {
		t.Errorf("flag completion: %q", out)
	}
	if _, out, _ := run(t, "__complete", "findings", ""); !strings.Contains(out, "ack\t") || !strings.Contains(out, "close\t") {
		t.Errorf("subcommand completion: %q", out)
	}
}
