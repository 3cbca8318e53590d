package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/otsiem/otsiem/simulate"
)

// Pipeline is otsiem's whole pipeline running in this process, as `otsiem
// bench` starts it.
type Pipeline struct {
	Syslog string      // its TCP syslog listener, host:port
	Store  driver.Conn // a connection to the store's ClickHouse
}

// LatencyConfig configures Latency.
type LatencyConfig struct {
	Duration    time.Duration // how long to send; default 60s
	Rate        float64       // lines per second; 0: as fast as the pipeline takes them
	MarkerEvery time.Duration // how often a timed marker line is sent; default 250ms
	// Outage, with OutageFor, takes ClickHouse away for that long from a
	// third of the sending on (the connection the writer uses must be
	// wrapped by Outage.Wrap).
	Outage     *Outage
	OutageFor  time.Duration
	CPUProfile string // write a CPU profile of the sending here
	MemProfile string // write a heap profile at the end of sending here
	Log        io.Writer
}

// LatencyReport is what Latency measured.
type LatencyReport struct {
	Sent      int
	SendTime  time.Duration
	Stored    int // events stored (after deduplication)
	Dead      int // dead letters stored
	AllStored time.Duration
	// Latencies from sending a marker to its finding being stored,
	// sorted; Markers counts the markers sent.
	Latencies []time.Duration
	Markers   int
	PeakRSS   uint64 // bytes, this process's VmHWM
	GoSys     uint64 // bytes the Go runtime holds
}

// Lost is what was sent and neither stored nor dead-lettered.
func (r *LatencyReport) Lost() int { return r.Sent - r.Stored - r.Dead }

// Latency sends the refinery simulator's lines over TCP to the pipeline
// for the configured duration, with a marker every MarkerEvery: a Cisco
// ASA deny of S7 from the operations zone to a PLC, each from its own
// source, so each is a new blocked finding. It then waits until every
// line is stored (at most 10 minutes) and each marker's finding (at most
// 30 s more), and reports events stored per second sustained, loss,
// send → stored finding latency and peak RSS.
func Latency(ctx context.Context, p Pipeline, cfg LatencyConfig) (*LatencyReport, error) {
	if cfg.Duration <= 0 {
		cfg.Duration = 60 * time.Second
	}
	if cfg.MarkerEvery <= 0 {
		cfg.MarkerEvery = 250 * time.Millisecond
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	type marker struct {
		n      int // numbers the marker's source address
		sent   time.Time
		stored time.Time
	}
	var mu sync.Mutex
	var markers []*marker
	g, err := simulate.New(simulate.Config{Rate: max(cfg.Rate, 1000), Seed: 42})
	if err != nil {
		return nil, err
	}
	w, err := simulate.Dial(ctx, simulate.Target{Network: "tcp", Address: p.Syslog})
	if err != nil {
		return nil, err
	}
	// Watch the markers' findings land, from the first one sent.
	var doneAt atomic.Int64 // when every event was stored (UnixNano), 0 before
	pollDone := make(chan struct{})
	go func() {
		defer close(pollDone)
		for {
			mu.Lock()
			var open []string
			for _, m := range markers {
				if m.stored.IsZero() {
					open = append(open, "toIPv6('"+markerAddr(m.n)+"')")
				}
			}
			mu.Unlock()
			if len(open) > 0 {
				rows, err := p.Store.Query(ctx, "SELECT DISTINCT src_ip FROM finding_revisions WHERE type = 'blocked' AND src_ip IN ("+strings.Join(open, ",")+")")
				now := time.Now()
				if err == nil {
					for rows.Next() {
						var ip net.IP
						if rows.Scan(&ip) != nil {
							continue
						}
						mu.Lock()
						for _, m := range markers {
							if markerAddr(m.n) == ip.String() && m.stored.IsZero() {
								m.stored = now
							}
						}
						mu.Unlock()
					}
					rows.Close()
				}
			}
			if d := doneAt.Load(); d != 0 && (len(open) == 0 || time.Since(time.Unix(0, d)) > 30*time.Second) {
				return // a marker that never arrives is reported as missing
			}
			// Every 100 ms: polling every 20 ms cost the pipeline about 5%
			// of its CPU in a profile of this benchmark (2026-11-29).
			time.Sleep(100 * time.Millisecond)
		}
	}()
	defer func() {
		doneAt.CompareAndSwap(0, time.Now().UnixNano())
		<-pollDone
	}()
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	if cfg.Outage != nil && cfg.OutageFor > 0 {
		t := time.AfterFunc(cfg.Duration/3, func() {
			cfg.Outage.away.Store(true)
			fmt.Fprintf(cfg.Log, "ClickHouse away for %s\n", cfg.OutageFor)
			time.AfterFunc(cfg.OutageFor, func() { cfg.Outage.away.Store(false); fmt.Fprintln(cfg.Log, "ClickHouse back") })
		})
		defer t.Stop()
	}
	rep := &LatencyReport{}
	nextMarker := start
	for time.Since(start) < cfg.Duration {
		if cfg.Rate > 0 && float64(rep.Sent) > time.Since(start).Seconds()*cfg.Rate {
			_ = w.Flush()
			time.Sleep(time.Millisecond)
			continue
		}
		if time.Now().After(nextMarker) {
			m := &marker{n: len(markers) + 1}
			line := fmt.Sprintf("<164>%s isa3000-c1 : %%ASA-4-106023: Deny tcp src zone-ops:%s/40000 dst zone-bpcs:10.20.1.10/102 by access-group \"OPS-to-BPCS\" [0x0, 0x0]",
				time.Now().UTC().Format("Jan 02 2006 15:04:05"), markerAddr(m.n))
			if err := w.Write(line); err != nil {
				return nil, fmt.Errorf("send: %w", err)
			}
			if err := w.Flush(); err != nil {
				return nil, fmt.Errorf("send: %w", err)
			}
			m.sent = time.Now()
			mu.Lock()
			markers = append(markers, m)
			mu.Unlock()
			rep.Sent++
			nextMarker = nextMarker.Add(cfg.MarkerEvery)
			continue
		}
		if err := w.Write(g.Next().Text); err != nil {
			return nil, fmt.Errorf("send: %w", err)
		}
		rep.Sent++
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("send: %w", err)
	}
	rep.SendTime = time.Since(start)
	if cfg.MemProfile != "" {
		if f, err := os.Create(cfg.MemProfile); err == nil {
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}

	var stored uint64
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		if err := p.Store.QueryRow(ctx, "SELECT count() FROM events").Scan(&stored); err == nil && int(stored) >= rep.Sent {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	rep.AllStored = time.Since(start)
	doneAt.Store(time.Now().UnixNano())
	<-pollDone
	var dead uint64
	if err := p.Store.QueryRow(ctx, "SELECT count() FROM deadletter").Scan(&dead); err != nil {
		return nil, fmt.Errorf("count dead letters: %w", err)
	}
	if err := p.Store.QueryRow(ctx, "SELECT count() FROM events FINAL").Scan(&stored); err != nil {
		return nil, fmt.Errorf("count events: %w", err)
	}
	rep.Stored, rep.Dead, rep.Markers = int(stored), int(dead), len(markers)
	for _, m := range markers {
		if !m.stored.IsZero() {
			rep.Latencies = append(rep.Latencies, m.stored.Sub(m.sent))
		}
	}
	slices.Sort(rep.Latencies)
	if u, err := readUsage(os.Getpid()); err == nil {
		rep.PeakRSS = u.peakRSS
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rep.GoSys = ms.Sys
	return rep, nil
}

// Percentile is the q-quantile (0..1) of the marker latencies, 0 without any.
func (r *LatencyReport) Percentile(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	return r.Latencies[min(len(r.Latencies)-1, int(q*float64(len(r.Latencies))))]
}

// WriteText writes the report as `otsiem bench` prints it.
func (r *LatencyReport) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "sent                %d lines in %s (%.0f lines/s offered)\n", r.Sent, r.SendTime.Round(time.Millisecond), float64(r.Sent)/r.SendTime.Seconds())
	fmt.Fprintf(w, "stored              %d events + %d dead letters; lost %d\n", r.Stored, r.Dead, r.Lost())
	fmt.Fprintf(w, "sustained           %.0f events/s stored (all stored %s after the first line)\n", float64(r.Stored)/r.AllStored.Seconds(), r.AllStored.Round(time.Millisecond))
	fmt.Fprintf(w, "send→stored finding p50 %s  p99 %s  (%d of %d markers)\n", r.Percentile(0.5).Round(time.Millisecond), r.Percentile(0.99).Round(time.Millisecond), len(r.Latencies), r.Markers)
	_, err := fmt.Fprintf(w, "peak RSS            %s (Go runtime holds %d MiB of it; the rest is the embedded engines)\n", mib(r.PeakRSS), r.GoSys>>20)
	return err
}

// Outage makes a ClickHouse connection unreachable on demand: what the
// writer sees while ClickHouse is down.
type Outage struct{ away atomic.Bool }

// Wrap returns c, failing while the outage lasts.
func (o *Outage) Wrap(c driver.Conn) driver.Conn { return &outageConn{Conn: c, away: &o.away} }

type outageConn struct {
	driver.Conn
	away *atomic.Bool
}

var errAway = errors.New("bench: ClickHouse is away (dial tcp: connection refused)")

func (c *outageConn) PrepareBatch(ctx context.Context, query string, opts ...driver.PrepareBatchOption) (driver.Batch, error) {
	if c.away.Load() {
		return nil, errAway
	}
	return c.Conn.PrepareBatch(ctx, query, opts...)
}

func (c *outageConn) Query(ctx context.Context, query string, args ...any) (driver.Rows, error) {
	if c.away.Load() {
		return nil, errAway
	}
	return c.Conn.Query(ctx, query, args...)
}

func (c *outageConn) Exec(ctx context.Context, query string, args ...any) error {
	if c.away.Load() {
		return errAway
	}
	return c.Conn.Exec(ctx, query, args...)
}

// markerAddr is the source address of marker n, in the operations zone.
func markerAddr(n int) string { return fmt.Sprintf("10.30.%d.%d", 100+n/250, n%250+1) }
