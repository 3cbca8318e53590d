package report_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// browser drives headless Chromium over the DevTools protocol on a pipe
// (--remote-debugging-pipe: commands on fd 3, replies and events on fd 4,
// each a JSON object ending in a NUL byte), so a test sees what the page
// itself requested and logged, apart from the browser's own traffic.
type browser struct {
	cmd    *exec.Cmd
	w      io.WriteCloser
	mu     sync.Mutex
	next   int
	calls  map[int]chan cdpMsg
	events chan cdpMsg
}

type cdpMsg struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// startBrowser starts Debian's chromium, skipping (or, under CI, failing)
// when it is not installed.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("REPORT_TOOLS_REQUIRED") != "" {
			t.Fatal("chromium not found: install Debian's chromium (make test does)")
		}
		t.Skip("chromium not found: apt-get install -y chromium to open the HTML report in a browser")
	}
	toChrome, ours, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	theirs, fromChrome, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars", "--disable-quic",
		"--user-data-dir="+t.TempDir(), "--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{toChrome, fromChrome} // fd 3, fd 4
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	toChrome.Close()
	fromChrome.Close()
	b := &browser{cmd: cmd, w: ours, calls: map[int]chan cdpMsg{}, events: make(chan cdpMsg, 4096)}
	go b.read(theirs)
	t.Cleanup(func() {
		ours.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	return b
}

func (b *browser) read(r io.Reader) {
	br := bufio.NewReader(r)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			close(b.events)
			return
		}
		var m cdpMsg
		if json.Unmarshal(raw[:len(raw)-1], &m) != nil {
			continue
		}
		if m.ID != 0 {
			b.mu.Lock()
			ch := b.calls[m.ID]
			delete(b.calls, m.ID)
			b.mu.Unlock()
			if ch != nil {
				ch <- m
			}
			continue
		}
		b.events <- m
	}
}

// call sends a command (to a page session when session is set) and
// decodes its result into out.
func (b *browser) call(ctx context.Context, session, method string, params any, out any) error {
	b.mu.Lock()
	b.next++
	id := b.next
	ch := make(chan cdpMsg, 1)
	b.calls[id] = ch
	b.mu.Unlock()
	msg, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params, "sessionId": session})
	if err != nil {
		return err
	}
	if _, err := b.w.Write(append(msg, 0)); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		if out != nil {
			return json.Unmarshal(m.Result, out)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// pageLoad is what opening a page showed: the requests it made beyond
// its own document, what it logged as a warning or error, and a
// full-page screenshot.
type pageLoad struct {
	requests []string
	problems []string
	png      []byte
}

// open loads a file in a new tab and waits for its load event and a
// moment for anything late.
func (b *browser) open(t *testing.T, file string) pageLoad {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var target struct{ TargetID string }
	var attached struct{ SessionID string }
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target))
	must(b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached))
	s := attached.SessionID
	for _, m := range []string{"Network.enable", "Runtime.enable", "Log.enable", "Page.enable"} {
		must(b.call(ctx, s, m, map[string]any{}, nil))
	}
	docURL := (&url.URL{Scheme: "file", Path: file}).String()
	must(b.call(ctx, s, "Page.navigate", map[string]any{"url": docURL}, nil))
	var pl pageLoad
	loaded := false
	settle := time.After(time.Hour)
	for {
		select {
		case m, ok := <-b.events:
			if !ok {
				t.Fatal("chromium exited")
			}
			if m.SessionID != s {
				continue
			}
			switch m.Method {
			case "Page.loadEventFired":
				if !loaded {
					loaded = true
					settle = time.After(500 * time.Millisecond)
				}
			case "Network.requestWillBeSent":
				var p struct{ Request struct{ URL string } }
				json.Unmarshal(m.Params, &p)
				if u := p.Request.URL; u != docURL && !strings.HasPrefix(u, "data:") {
					pl.requests = append(pl.requests, u)
				}
			case "Runtime.consoleAPICalled":
				var p struct {
					Type string
					Args []struct{ Value any }
				}
				json.Unmarshal(m.Params, &p)
				if p.Type == "error" || p.Type == "warning" || p.Type == "assert" {
					pl.problems = append(pl.problems, fmt.Sprintf("console.%s %v", p.Type, p.Args))
				}
			case "Runtime.exceptionThrown":
				pl.problems = append(pl.problems, "exception "+string(m.Params))
			case "Log.entryAdded":
				var p struct {
					Entry struct{ Level, Text, Source string }
				}
				json.Unmarshal(m.Params, &p)
				if p.Entry.Level == "error" || p.Entry.Level == "warning" {
					pl.problems = append(pl.problems, fmt.Sprintf("%s %s: %s", p.Entry.Source, p.Entry.Level, p.Entry.Text))
				}
			}
		case <-settle:
			var metrics struct {
				CSSContentSize struct{ Width, Height float64 }
			}
			must(b.call(ctx, s, "Page.getLayoutMetrics", map[string]any{}, &metrics))
			must(b.call(ctx, s, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 1200,
				"height": int(metrics.CSSContentSize.Height), "deviceScaleFactor": 1, "mobile": false}, nil))
			var shot struct{ Data string }
			must(b.call(ctx, s, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot))
			var err error
			pl.png, err = base64.StdEncoding.DecodeString(shot.Data)
			must(err)
			return pl
		case <-ctx.Done():
			t.Fatalf("%s did not load: %v", file, ctx.Err())
		}
	}
}

// The HTML report loads in Chromium with no console errors and no
// network requests, and its screenshot is written for a person to look at.
func TestWeekHTMLInChromium(t *testing.T) {
	b := startBrowser(t)
	dir := t.TempDir()

	// The harness must see what it is meant to catch.
	control := filepath.Join(dir, "control.html")
	os.WriteFile(control, []byte(`<!DOCTYPE html><html><body><img src="http://192.0.2.1/logo.png">`+
		`<script>console.error("control error")</script></body></html>`), 0o644)
	pl := b.open(t, control)
	if len(pl.requests) == 0 || len(pl.problems) == 0 {
		t.Fatalf("the harness saw no request (%v) or no console error (%v) on a page that makes both", pl.requests, pl.problems)
	}

	r := weekReport(t)
	page := filepath.Join(dir, "week.html")
	if err := os.WriteFile(page, render(t, r, "html"), 0o644); err != nil {
		t.Fatal(err)
	}
	pl = b.open(t, page)
	if len(pl.requests) > 0 {
		t.Errorf("the report made network requests: %v", pl.requests)
	}
	if len(pl.problems) > 0 {
		t.Errorf("the report logged problems: %v", pl.problems)
	}
	shots := os.Getenv("REPORT_ARTIFACTS")
	if shots == "" {
		shots = os.TempDir()
	}
	shot := filepath.Join(shots, "otsiem-report-week.png")
	if err := os.WriteFile(shot, pl.png, 0o644); err != nil {
		t.Fatal(err)
	}
	if len(pl.png) < 50_000 {
		t.Errorf("screenshot of %d bytes: is the page blank?", len(pl.png))
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(pl.png))
}
