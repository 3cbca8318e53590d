package storage_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/otsiem/otsiem/storage"
)

// BenchmarkInsertEvents measures deduplicated event inserts into the
// migrated schema (rollup views included) through clickhouse-go and the
// embedded engine, per batch size.
func BenchmarkInsertEvents(b *testing.B) {
	conn, _ := migrated(b)
	for _, size := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
			rows, k := 0, 0
			for b.Loop() {
				b.StopTimer()
				evs := sampleEvents(size, t0)
				for i, ev := range evs {
					ev.EventID = fmt.Sprintf("b%d-%d-%d", size, k, i)
				}
				k++
				b.StartTimer()
				if err := storage.Insert(b.Context(), conn, evs); err != nil {
					b.Fatal(err)
				}
				rows += size
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
