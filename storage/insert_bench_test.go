package storage_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/otsiem/otsiem/ingest/bus/bustest"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/storage"
)

// BenchmarkInsertEvents measures event inserts into the migrated schema
// (both rollup views fed) through clickhouse-go's column-wise appends and
// the embedded engine, per batch size: building the batch from decoded
// events plus the deduplicated insert.
func BenchmarkInsertEvents(b *testing.B) {
	conn, _ := migrated(b)
	for _, size := range []int{10000, 50000, 100000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			rows, k := 0, 0
			for b.Loop() {
				b.StopTimer()
				evs := denseEvents(size)
				for i, ev := range evs {
					ev.ID = event.NewID(ev.DeviceIP, fmt.Sprint(size, k), ev.ReceivedAt, []byte(fmt.Sprint(i)))
				}
				k++
				b.StartTimer()
				batch := storage.NewEvents()
				for _, ev := range evs {
					if err := batch.Add(ev, ev.ID.String()); err != nil {
						b.Fatal(err)
					}
				}
				if err := storage.Insert(b.Context(), conn, batch.Batch); err != nil {
					b.Fatal(err)
				}
				rows += size
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkService measures the store stage end to end: enriched events
// waiting in JetStream (NDJSON messages of 256, as the correlator
// publishes them) → fetch, decode, column batches → ClickHouse with both
// rollups → ack, per insert batch size. Each iteration stores 500,000
// events on a fresh database and stream.
func BenchmarkService(b *testing.B) {
	const n = 500000
	evs := denseEvents(n)
	for _, size := range []int{25000, 50000, 100000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			var stored time.Duration
			var inserting float64
			var inserts uint64
			for b.Loop() {
				b.StopTimer()
				conn, _ := migrated(b)
				bs := bustest.Open(b)
				publishEventsTB(b, bs, evs, 256)
				reg := prometheus.NewRegistry()
				s, err := storage.NewService(b.Context(), storage.ServiceConfig{Conn: conn, Bus: bs, BatchRows: size,
					FlushInterval: 200 * time.Millisecond, Registerer: reg})
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(b.Context())
				done := make(chan error, 1)
				b.StartTimer()
				start := time.Now()
				go func() { done <- s.Run(ctx) }()
				for {
					var c uint64
					if err := conn.QueryRow(b.Context(), "SELECT count() FROM events").Scan(&c); err != nil {
						b.Fatal(err)
					}
					if c == n {
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
				stored += time.Since(start)
				b.StopTimer()
				sum, count := histogram(b, reg, "otsiem_store_insert_latency_seconds")
				inserting += sum
				inserts += count
				cancel()
				if err := <-done; err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(n*b.N)/stored.Seconds(), "rows/s")
			b.ReportMetric(inserting/stored.Seconds(), "inserting/s")
			b.ReportMetric(float64(n*b.N)/float64(inserts), "rows/insert")
		})
	}
}

// histogram is the sum and count of a registry's histogram, over its
// series.
func histogram(b *testing.B, reg *prometheus.Registry, name string) (float64, uint64) {
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	sum, count := 0.0, uint64(0)
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetHistogram().GetSampleSum()
				count += m.GetHistogram().GetSampleCount()
			}
		}
	}
	return sum, count
}

// denseEvents returns n sample events 10 µs apart: a plant sending
// 100,000 events per second, so that a batch spans what it would in
// production (one partition, one hour of the rollups).
func denseEvents(n int) []*event.Event {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	evs := sampleEvents(n, t0)
	for i, ev := range evs {
		ev.Time = t0.Add(time.Duration(i) * 10 * time.Microsecond)
	}
	return evs
}

// BenchmarkExisting measures the look-up a redelivered batch costs: 25,600
// event ids (100 messages of 256) against a table of 1,000,000 events.
func BenchmarkExisting(b *testing.B) {
	conn, _ := migrated(b)
	evs := denseEvents(1000000)
	for i := 0; i < len(evs); i += 100000 {
		if err := storage.Insert(b.Context(), conn, eventBatch(b, evs[i:i+100000])); err != nil {
			b.Fatal(err)
		}
	}
	suspect := eventBatch(b, evs[500000:525600])
	for b.Loop() {
		found, err := storage.Existing(b.Context(), conn, suspect)
		if err != nil || len(found) != suspect.Len() {
			b.Fatalf("found %d of %d: %v", len(found), suspect.Len(), err)
		}
	}
}

// BenchmarkInsertEventsViews measures what the four rollup views
// (flows_hourly, compliance_daily, device_daily, device_flows_hourly) cost
// an event insert: 100,000-row batches into the migrated schema, with
// every view, and with the views dropped. Beside wall time it reports the
// process's CPU time per row (user + system, every thread, the engine's
// included), which other work on a shared machine disturbs far less; the
// difference of the two cpu-ns/row figures is the views' cost per row.
func BenchmarkInsertEventsViews(b *testing.B) {
	const size = 100000
	for _, views := range []string{"all", "none"} {
		b.Run("views="+views, func(b *testing.B) {
			conn, _ := migrated(b)
			if views == "none" {
				for _, v := range []string{"flows_hourly_mv", "compliance_daily_mv", "device_daily_mv", "device_flows_hourly_mv"} {
					if err := conn.Exec(b.Context(), "DROP VIEW "+v); err != nil {
						b.Fatal(err)
					}
				}
			}
			evs := denseEvents(size)
			rows, k := 0, 0
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				for i, ev := range evs {
					ev.ID = event.NewID(ev.DeviceIP, fmt.Sprint("views", k), ev.ReceivedAt, []byte(fmt.Sprint(i)))
				}
				k++
				batch := storage.NewEvents()
				for _, ev := range evs {
					if err := batch.Add(ev, ev.ID.String()); err != nil {
						b.Fatal(err)
					}
				}
				before := processCPU(b)
				b.StartTimer()
				if err := storage.Insert(b.Context(), conn, batch.Batch); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				cpu += processCPU(b) - before
				b.StartTimer()
				rows += size
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows), "ns/row")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(rows), "cpu-ns/row")
		})
	}
}

// processCPU is the CPU time the process has used so far, user and system,
// every thread.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
