package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/otsiem/otsiem/simulate"
)

func init() {
	register(command{name: "bench", summary: "measure the whole pipeline: the simulator over TCP into every stage, in one process", raw: runBench})
}

// runBench is `make bench`'s system benchmark: `otsiem run` on a fresh data
// directory, the simulator sending over TCP as fast as the pipeline takes
// it (or at --rate), then: events stored per second sustained, loss, the
// latency from sending a line to its finding being stored, and peak RSS.
func runBench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	duration := fs.Duration("duration", 60*time.Second, "how long to send")
	rate := fs.Float64("rate", 0, "lines per second (0: as fast as the pipeline accepts)")
	dataDir := fs.String("data", "", "data directory (default: a fresh temporary one, removed afterwards)")
	markerEvery := fs.Duration("marker-every", 250*time.Millisecond, "how often to send a line whose finding's storage is timed")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	memProfile := fs.String("memprofile", "", "write a heap profile at the end of sending to this file")
	outage := fs.Duration("outage", 0, "take ClickHouse away for this long, from a third of the sending on: the writer's inserts fail and are retried")
	config := fs.String("config", "", "extra configuration (YAML) for the pipeline, e.g. \"memory_limit: 1GiB\"")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	dir := *dataDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "otsiem-bench-"); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
	}
	cfgFile := filepath.Join(dir, "bench.yaml")
	cfg := fmt.Sprintf("data_dir: %s\nlog_level: warn\nhttp: {address: \"off\"}\ningest:\n  listeners:\n    - {name: tcp, protocol: tcp, address: \"127.0.0.1:0\"}\n%s\n", filepath.Join(dir, "data"), *config)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	s, code := newServiceFrom("bench", cfgFile, stderr)
	if s == nil {
		return code
	}
	// The bench measures the pipeline and serves nothing: no port of a
	// running otsiem (or of another bench) is in its way.
	s.cfg.Storage.Embedded.Listen = "off"
	ctx := context.Background()
	var away atomic.Bool
	s.storeConn = func(c driver.Conn) driver.Conn { return &outageConn{Conn: c, away: &away} }
	p, err := s.startPipeline(ctx)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	db := p.store.db // one embedded engine per process: share the pipeline's

	// Markers: ASA denies of S7 from operations to a PLC, each from its own
	// source (one source on many ports would be a scan), so every one is a
	// new blocked finding.
	type marker struct {
		port   int // numbers the marker's source address
		sent   time.Time
		stored time.Time
	}
	var mu sync.Mutex
	var markers []*marker
	g, err := simulate.New(simulate.Config{Rate: max(*rate, 1000), Seed: 42})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	w, err := simulate.Dial(ctx, simulate.Target{Network: "tcp", Address: p.tcpAddr()})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
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
					open = append(open, strconv.Itoa(m.port))
				}
			}
			mu.Unlock()
			if len(open) == 0 {
				if doneAt.Load() != 0 {
					return
				}
				time.Sleep(20 * time.Millisecond)
				continue
			}
			var addrs []string
			for _, n := range open {
				i, _ := strconv.Atoi(n)
				addrs = append(addrs, "toIPv6('"+markerAddr(i)+"')")
			}
			rows, err := db.Conn.Query(ctx, "SELECT DISTINCT src_ip FROM finding_revisions WHERE type = 'blocked' AND src_ip IN ("+strings.Join(addrs, ",")+")")
			now := time.Now()
			if err == nil {
				for rows.Next() {
					var ip net.IP
					if rows.Scan(&ip) == nil {
						mu.Lock()
						for _, m := range markers {
							if markerAddr(m.port) == ip.String() && m.stored.IsZero() {
								m.stored = now
							}
						}
						mu.Unlock()
					}
				}
				rows.Close()
			}
			if d := doneAt.Load(); d != 0 && time.Since(time.Unix(0, d)) > 30*time.Second {
				return // a marker that never arrives is reported as missing
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	if *outage > 0 {
		time.AfterFunc(*duration/3, func() {
			away.Store(true)
			fmt.Fprintf(stderr, "ClickHouse away for %s\n", *outage)
			time.AfterFunc(*outage, func() { away.Store(false); fmt.Fprintln(stderr, "ClickHouse back") })
		})
	}
	sent, markerN := 0, 0
	nextMarker := start
	for time.Since(start) < *duration {
		if *rate > 0 && float64(sent) > time.Since(start).Seconds()**rate {
			_ = w.Flush()
			time.Sleep(time.Millisecond)
			continue
		}
		if time.Now().After(nextMarker) {
			markerN++
			m := &marker{port: markerN}
			line := fmt.Sprintf("<164>%s isa3000-c1 : %%ASA-4-106023: Deny tcp src zone-ops:%s/40000 dst zone-bpcs:10.20.1.10/102 by access-group \"OPS-to-BPCS\" [0x0, 0x0]",
				time.Now().UTC().Format("Jan 02 2006 15:04:05"), markerAddr(m.port))
			if err := w.Write(line); err != nil || w.Flush() != nil {
				fmt.Fprintln(stderr, "send:", err)
				return 1
			}
			m.sent = time.Now()
			mu.Lock()
			markers = append(markers, m)
			mu.Unlock()
			sent++
			nextMarker = nextMarker.Add(*markerEvery)
			continue
		}
		if err := w.Write(g.Next().Text); err != nil {
			fmt.Fprintln(stderr, "send:", err)
			return 1
		}
		sent++
	}
	if err := w.Close(); err != nil {
		fmt.Fprintln(stderr, "send:", err)
		return 1
	}
	sendTime := time.Since(start)
	if *memProfile != "" {
		if f, err := os.Create(*memProfile); err == nil {
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}

	var stored uint64
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		if err := db.Conn.QueryRow(ctx, "SELECT count() FROM events").Scan(&stored); err == nil && int(stored) >= sent {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	allStored := time.Since(start)
	doneAt.Store(time.Now().UnixNano())
	<-pollDone
	var dead uint64
	_ = db.Conn.QueryRow(ctx, "SELECT count() FROM deadletter").Scan(&dead)
	_ = db.Conn.QueryRow(ctx, "SELECT count() FROM events FINAL").Scan(&stored)
	if err := p.close(s); err != nil {
		fmt.Fprintln(stderr, "shutdown:", err)
	}

	var lat []time.Duration
	for _, m := range markers {
		if !m.stored.IsZero() {
			lat = append(lat, m.stored.Sub(m.sent))
		}
	}
	slices.Sort(lat)
	pct := func(q float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(q*float64(len(lat))))]
	}
	fmt.Fprintf(stdout, "sent                %d lines in %s (%.0f lines/s offered)\n", sent, sendTime.Round(time.Millisecond), float64(sent)/sendTime.Seconds())
	fmt.Fprintf(stdout, "stored              %d events + %d dead letters; lost %d\n", stored, dead, sent-int(stored)-int(dead))
	fmt.Fprintf(stdout, "sustained           %.0f events/s stored (all stored %s after the first line)\n", float64(stored)/allStored.Seconds(), allStored.Round(time.Millisecond))
	fmt.Fprintf(stdout, "send→stored finding p50 %s  p99 %s  (%d of %d markers)\n", pct(0.5).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), len(lat), len(markers))
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(stdout, "peak RSS            %s (Go runtime holds %d MiB of it; the rest is the embedded engines)\n", peakRSS(), ms.Sys>>20)
	if sent != int(stored)+int(dead) {
		return 1
	}
	return 0
}

// outageConn is a ClickHouse connection that is unreachable while away:
// what the writer sees when ClickHouse is down.
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

// peakRSS reads the process's high-water resident set size.
func peakRSS() string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// markerAddr is the source address of marker n, in the operations zone.
func markerAddr(n int) string { return fmt.Sprintf("10.30.%d.%d", 100+n/250, n%250+1) }
