// Package decodetest is the conformance suite every decoder runs: golden
// files, the one-event-per-line and original-line-kept rules, JSON round
// trips, and fuzzing that must never panic.
//
// Golden cases are testdata/<case>.log files, one syslog line per line,
// each giving exactly one event in testdata/<case>.golden.jsonl. In a .log
// file, lines starting with "#" are comments, and "# sender: ADDR" sets the
// sender address of the lines after it. Run the tests with -update to
// rewrite the golden files after checking the differences.
package decodetest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/otsiem/otsiem/ingest/decode"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/ingest/syslog"
)

var update = flag.Bool("update", false, "rewrite golden files from the decoders' output")

// Received is the receive time of every golden line; RFC 3164 years come
// from it.
var Received = time.Date(2026, 4, 15, 13, 40, 0, 0, time.UTC)

// Site is the site of every golden event.
const Site = "refinery"

// Line is one input line of a .log file.
type Line struct {
	No     int        // 1-based line number in the file
	Text   string     // the line without its newline
	Sender netip.Addr // from the last "# sender:" comment
}

// ReadLog reads the input lines of a .log file.
func ReadLog(path string) ([]Line, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Line
	var sender netip.Addr
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		if rest, ok := strings.CutPrefix(text, "#"); ok {
			if a, ok := strings.CutPrefix(strings.TrimSpace(rest), "sender:"); ok {
				if sender, err = netip.ParseAddr(strings.TrimSpace(a)); err != nil {
					return nil, err
				}
			}
			continue
		}
		out = append(out, Line{No: n, Text: text, Sender: sender})
	}
	return out, sc.Err()
}

// Encode parses each line with p and returns the events as JSON lines.
func Encode(p *decode.Parser, lines []Line) []byte {
	var buf []byte
	var ev event.Event
	for _, l := range lines {
		p.Parse([]byte(l.Text), l.Sender, Received, &ev)
		buf = ev.AppendJSON(buf)
		buf = append(buf, '\n')
	}
	return buf
}

// Golden checks every testdata/*.log against its .golden.jsonl with a
// Parser that knows only d and detects by content, and checks each event
// against the conformance rules.
func Golden(t *testing.T, d decode.Decoder) {
	t.Helper()
	reg := &decode.Registry{}
	reg.Register(d)
	p := &decode.Parser{Registry: reg, Site: Site}
	logs, _ := filepath.Glob(filepath.Join("testdata", "*.log"))
	if len(logs) == 0 {
		t.Fatal("no testdata/*.log golden cases")
	}
	for _, path := range logs {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".log"), func(t *testing.T) {
			lines, err := ReadLog(path)
			if err != nil {
				t.Fatal(err)
			}
			got := Encode(p, lines)
			for _, l := range lines {
				CheckEvent(t, p, l)
			}
			golden := strings.TrimSuffix(path, ".log") + ".golden.jsonl"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			Compare(t, path, lines, got, want)
		})
	}
}

// Compare reports each line whose event differs from the golden one.
func Compare(t *testing.T, path string, lines []Line, got, want []byte) {
	t.Helper()
	g := bytes.Split(bytes.TrimSuffix(got, []byte("\n")), []byte("\n"))
	w := bytes.Split(bytes.TrimSuffix(want, []byte("\n")), []byte("\n"))
	if len(g) != len(w) {
		t.Errorf("%s: %d events, golden has %d", path, len(g), len(w))
	}
	for i := 0; i < len(g) && i < len(w); i++ {
		if !bytes.Equal(g[i], w[i]) {
			t.Errorf("%s:%d: event differs\n got %s\nwant %s", path, lines[i].No, g[i], w[i])
		}
	}
}

// CheckEvent parses one line and checks the rules every event obeys: the
// original line kept, a kind, a parse error exactly on raw events, both
// endpoints on flow, dpi and alert events, a plausible time, JSON that
// decodes back to the same event, and a stable id.
func CheckEvent(t testing.TB, p *decode.Parser, l Line) event.Event {
	t.Helper()
	var ev event.Event
	p.Parse([]byte(l.Text), l.Sender, Received, &ev)
	if ev.Message != l.Text {
		t.Errorf("line %d: message %q is not the line", l.No, ev.Message)
	}
	if ev.Kind == "" {
		t.Errorf("line %d: no kind", l.No)
	}
	if (ev.Kind == event.KindRaw) != (ev.ParseError != "") {
		t.Errorf("line %d: kind %s with parse_error %q", l.No, ev.Kind, ev.ParseError)
	}
	if err := decode.Complete(&ev); err != nil {
		t.Errorf("line %d: %v", l.No, err)
	}
	if !ev.Time.IsZero() && !decode.Plausible(ev.Time, Received, decode.DefaultMaxPast, decode.DefaultMaxAhead) {
		t.Errorf("line %d: implausible time %v kept", l.No, ev.Time)
	}
	if ev.ID.IsZero() {
		t.Errorf("line %d: no id", l.No)
	}
	b := ev.AppendJSON(nil)
	if !json.Valid(b) {
		t.Errorf("line %d: invalid JSON %s", l.No, b)
	}
	var back event.Event
	if err := event.Decode(b, &back); err != nil {
		t.Errorf("line %d: %v", l.No, err)
	}
	if len(back.Attrs) == 0 && len(ev.Attrs) == 0 {
		back.Attrs = ev.Attrs
	}
	// Invalid UTF-8 is replaced when encoding, so only valid lines round
	// trip exactly.
	if utf8.ValidString(ev.Message) && !reflect.DeepEqual(back, ev) {
		t.Errorf("line %d: JSON round trip differs\n got %+v\nwant %+v", l.No, back, ev)
	}
	var again event.Event
	p.Parse([]byte(l.Text), l.Sender, Received, &again)
	if again.ID != ev.ID {
		t.Errorf("line %d: id not stable", l.No)
	}
	return ev
}

// Fuzz fuzzes d with the lines of testdata/*.log as seeds: Detect and
// Decode must never panic, and every input gives one conforming event.
func Fuzz(f *testing.F, d decode.Decoder) {
	logs, _ := filepath.Glob(filepath.Join("testdata", "*.log"))
	for _, path := range logs {
		lines, err := ReadLog(path)
		if err != nil {
			f.Fatal(err)
		}
		for _, l := range lines {
			f.Add(l.Text)
		}
	}
	hp := syslog.NewParser(syslog.Config{})
	p := &decode.Parser{Decoder: d, Site: Site}
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\n") {
			return // one line per event: framing splits on newlines
		}
		// Call the decoder directly: the Parser would recover a panic.
		h := hp.Parse(line, Received)
		_ = d.Detect(&h)
		var ev event.Event
		_ = d.Decode(&h, &ev)
		CheckEvent(t, p, Line{No: 1, Text: line})
	})
}

// Bench measures header parsing plus decoding of the lines of one .log
// file, reporting ns and allocs per event.
func Bench(b *testing.B, d decode.Decoder, path string) {
	lines, err := ReadLog(path)
	if err != nil {
		b.Fatal(err)
	}
	raw := make([][]byte, len(lines))
	for i, l := range lines {
		raw[i] = []byte(l.Text)
	}
	p := &decode.Parser{Decoder: d, Site: Site}
	var ev event.Event
	sender := netip.MustParseAddr("10.20.1.1")
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		p.Parse(raw[n%len(raw)], sender, Received, &ev)
		if ev.Kind == event.KindRaw {
			b.Fatalf("%s: %s", ev.Message, ev.ParseError)
		}
		n++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
}

// FunctionCase is a vendor's name of an industrial function and what otsiem
// makes of it: {name, app protocol, otsiem's function name, code on the
// wire ("" for none)}.
type FunctionCase [4]string

// Functions decodes, with d alone, the line line(name) for each case and
// checks the event's app_protocol, function and function_code.
func Functions(t *testing.T, d decode.Decoder, line func(name string) string, cases []FunctionCase) {
	t.Helper()
	p := &decode.Parser{Decoder: d, Site: Site}
	var ev event.Event
	for _, c := range cases {
		p.Parse([]byte(line(c[0])), netip.Addr{}, Received, &ev)
		code := ""
		if ev.FunctionCode.OK {
			code = strconv.Itoa(int(ev.FunctionCode.V))
		}
		if ev.AppProtocol != c[1] || ev.Function != c[2] || code != c[3] {
			t.Errorf("%q: %s %q (%s), want %s %q (%s) %s", c[0], ev.AppProtocol, ev.Function, code, c[1], c[2], c[3], ev.ParseError)
		}
	}
}
