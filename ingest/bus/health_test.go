package bus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/otsiem/otsiem/health"
)

// A stream at its bound under overload is backpressure working as
// designed: while a reader drains it and writes still go through,
// /healthz answers 200 "degraded"; once nothing has been accepted for
// stallAfter (the reader stopped), 503; with the reader back, 200 "ok".
func TestHealthAtTheBound(t *testing.T) {
	b := openSized(t, 5<<20) // events: 2 MiB
	ctx := context.Background()
	cons, err := b.JS.CreateOrUpdateConsumer(ctx, StreamEvents, jetstream.ConsumerConfig{Durable: "reader", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	p, err := b.NewPublisher(PublisherConfig{MaxPendingRecords: 64})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(health.Handler(p.Err))
	t.Cleanup(srv.Close)
	get := func() (int, string) {
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get(); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("before any write: %d %q", code, body)
	}

	// Four times what the stream holds, sent as fast as it takes them.
	record := strings.Repeat("x", 4000)
	go func() {
		for i := range 2000 {
			if err := p.Publish(ctx, SubjectEvents+".s.flow", fmt.Sprint("r", i), []byte(record)); err != nil {
				return // closed at the end of the test
			}
		}
	}()
	// A reader that keeps up, slowly: the stream stays at its bound.
	var reading atomic.Bool
	reading.Store(true)
	var read atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		p.Close(cctx) // the reader still drains
		close(stop)
		<-done
	})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if !reading.Load() {
				continue
			}
			if mb, err := cons.Fetch(50, jetstream.FetchMaxWait(50*time.Millisecond)); err == nil {
				for m := range mb.Messages() {
					_ = m.DoubleAck(ctx)
					read.Add(1)
				}
			}
			_, _ = b.Trim(ctx, StreamEvents, 0)
		}
	}()
	waitUntil(t, "a refusal at the bound", func() bool { return p.Err() != nil })
	code, body := get()
	var d *health.Degraded
	if err := p.Err(); !errors.As(err, &d) || code != http.StatusOK || !strings.HasPrefix(body, "degraded: ") || !strings.Contains(body, "refuses writes") {
		t.Errorf("a stream at its bound, drained: %v; /healthz %d %q", err, code, body)
	}
	before := read.Load()
	waitUntil(t, "the reader to drain some", func() bool { return read.Load() > before+100 })
	if code, body := get(); code != http.StatusOK {
		t.Errorf("while the reader drains: %d %q", code, body)
	}

	// The reader stops: nothing is accepted any more; after stallAfter
	// the stage is stuck, not slowed.
	defer func(d time.Duration) { stallAfter = d }(stallAfter)
	stallAfter = 300 * time.Millisecond
	reading.Store(false)
	waitUntil(t, "503 once nothing is accepted", func() bool { code, _ := get(); return code == http.StatusServiceUnavailable })
	if _, body := get(); !strings.Contains(body, "no write accepted for") {
		t.Errorf("503 body: %q", body)
	}
	// The reader is back: writes go through; "ok" once none is refused.
	reading.Store(true)
	waitUntil(t, "200 again", func() bool { code, _ := get(); return code == http.StatusOK })
}
