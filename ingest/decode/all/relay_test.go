package all_test

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otsiem/otsiem/ingest/decode"
	"github.com/otsiem/otsiem/ingest/decode/decodetest"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/internal/poll"
)

// relayFormats are rsyslog's built-in forwarding and file templates: what a
// plant's syslog relay writes when it passes the devices' lines on.
var relayFormats = []string{
	"RSYSLOG_TraditionalForwardFormat", // <PRI>Mmm dd hh:mm:ss host tag msg
	"RSYSLOG_ForwardFormat",            // <PRI>RFC3339 host tag msg
	"RSYSLOG_SyslogProtocol23Format",   // RFC 5424
	"RSYSLOG_FileFormat",               // RFC3339 host tag msg, no PRI
}

// TestThroughRsyslog sends every golden line of every decoder through a real
// rsyslog relay and decodes what it writes in each of its standard formats:
// the event must be the one the device's own line gives (kind, vendor,
// message id, action, endpoints, protocol and function), whatever header the
// relay put in front, or took apart. `make test` installs rsyslog; without
// it the test skips, and fails when CI is set.
func TestThroughRsyslog(t *testing.T) {
	rsyslogd, err := exec.LookPath("rsyslogd")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("rsyslogd not installed (make test installs Debian's rsyslog)")
		}
		t.Skip("rsyslogd not installed (make test installs Debian's rsyslog)")
	}
	var lines []string
	for _, glob := range []string{"../*/testdata/*.log"} {
		logs, _ := filepath.Glob(glob)
		for _, path := range logs {
			if strings.Contains(path, "malformed") {
				continue
			}
			ls, err := decodetest.ReadLog(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range ls {
				// A relay reads syslog: lines with a PRI. (rsyslog's imtcp
				// takes a line that starts with a digit for an octet count.)
				if strings.HasPrefix(l.Text, "<") {
					lines = append(lines, l.Text)
				}
			}
		}
	}

	dir := t.TempDir()
	port := freeTCPPort(t)
	var conf strings.Builder
	fmt.Fprintf(&conf, "global(workDirectory=%q maxMessageSize=\"64k\")\n", dir)
	fmt.Fprintf(&conf, "module(load=\"imtcp\")\ninput(type=\"imtcp\" address=\"127.0.0.1\" port=\"%d\")\n", port)
	// The forwarding formats go out over TCP as a relay sends them (LF
	// framing) to a listener here; the file format to a file.
	received := map[string]*lineSink{}
	for _, f := range relayFormats {
		if f == "RSYSLOG_FileFormat" {
			fmt.Fprintf(&conf, "action(type=\"omfile\" file=%q template=%q)\n", filepath.Join(dir, f), f)
			continue
		}
		sink := listenLines(t)
		received[f] = sink
		fmt.Fprintf(&conf, "action(type=\"omfwd\" target=\"127.0.0.1\" port=\"%d\" protocol=\"tcp\" template=%q)\n", sink.port, f)
	}
	if err := os.WriteFile(filepath.Join(dir, "rsyslog.conf"), []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rsyslogd, "-n", "-f", filepath.Join(dir, "rsyslog.conf"), "-i", filepath.Join(dir, "pid"))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	conn := poll.Until(t, 20*time.Second, "rsyslogd listening", func() (net.Conn, error) {
		return net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	}, func(net.Conn) bool { return true })
	w := bufio.NewWriter(conn)
	for _, l := range lines {
		w.WriteString(l)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	conn.Close()

	p := &decode.Parser{Site: decodetest.Site}
	sender := netip.MustParseAddr("10.30.1.60")
	var orig, relayed event.Event
	for _, format := range relayFormats {
		var out []string
		if sink := received[format]; sink != nil {
			out = sink.wait(t, len(lines))
		} else {
			out = waitLines(t, filepath.Join(dir, format), len(lines))
		}
		checked := 0
		for i, l := range lines {
			p.Parse([]byte(l), sender, decodetest.Received, &orig)
			if orig.Kind == event.KindRaw || orig.Kind == event.KindSystem {
				continue
			}
			if format == "RSYSLOG_SyslogProtocol23Format" && orig.Vendor == "paloaltonetworks" && !strings.HasPrefix(l, "<14>1 ") {
				// rsyslog takes "1,2026" of the CSV for the tag and drops
				// its "/04/15": that line reaches otsiem damaged.
				continue
			}
			p.Parse([]byte(out[i]), sender, decodetest.Received, &relayed)
			if a, b := summary(&orig), summary(&relayed); a != b {
				t.Errorf("%s: relayed line %d decodes differently\nline    %s\nrelayed %s\n got %s\nwant %s", format, i+1, l, out[i], b, a)
			}
			checked++
		}
		t.Logf("%s: %d of %d lines decode as the device's own", format, checked, len(lines))
	}
}

// summary is what a relay must not change in an event.
func summary(ev *event.Event) string {
	return fmt.Sprintf("%s %s %s %s %v:%v>%v:%v %s %s %v %s %s", ev.Kind, ev.Vendor, ev.MessageID, ev.Action,
		ev.SrcIP, ev.SrcPort, ev.DstIP, ev.DstPort, ev.Transport, ev.AppProtocol, ev.FunctionCode, ev.Function, ev.ParseError)
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitLines polls a file until it has n lines, for up to 30 s.
func waitLines(t *testing.T, path string, n int) []string {
	t.Helper()
	return poll.Until(t, 30*time.Second, fmt.Sprintf("%s: %d lines relayed", path, n), func() ([]string, error) {
		b, err := os.ReadFile(path)
		if len(b) == 0 {
			return nil, err
		}
		return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n"), nil
	}, func(lines []string) bool { return len(lines) >= n })
}

// lineSink collects the lines a relay sends to a TCP listener.
type lineSink struct {
	port  int
	mu    sync.Mutex
	lines []string
}

func listenLines(t *testing.T) *lineSink {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	s := &lineSink{port: l.Addr().(*net.TCPAddr).Port}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
				for sc.Scan() {
					s.mu.Lock()
					s.lines = append(s.lines, sc.Text())
					s.mu.Unlock()
				}
			}()
		}
	}()
	return s
}

// wait returns the first n lines received, waiting up to 30 s for them.
func (s *lineSink) wait(t *testing.T, n int) []string {
	t.Helper()
	got := poll.Until(t, 30*time.Second, fmt.Sprintf("%d lines relayed", n), func() ([]string, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return append([]string(nil), s.lines...), nil
	}, func(lines []string) bool { return len(lines) >= n })
	return got[:n]
}
