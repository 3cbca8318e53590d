package report_test

import (
	"io"
	"testing"

	"github.com/otsiem/otsiem/report"
)

// BenchmarkBuild is one week's report from the seeded store: every named
// query the report runs, on the embedded engine.
func BenchmarkBuild(b *testing.B) {
	conn := migrated(b)
	seedWeekTB(b, conn)
	m := refinery(b)
	for b.Loop() {
		if _, err := report.Build(b.Context(), conn, m, report.Options{From: weekFrom, To: weekTo, Now: generated}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWrite renders the seeded week's report in each format.
func BenchmarkWrite(b *testing.B) {
	conn := migrated(b)
	seedWeekTB(b, conn)
	r, err := report.Build(b.Context(), conn, refinery(b), report.Options{From: weekFrom, To: weekTo, Now: generated})
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range []string{"text", "markdown", "html", "pdf", "json"} {
		b.Run(f, func(b *testing.B) {
			for b.Loop() {
				if err := report.Write(io.Discard, r, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
