package report

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"gonum.org/v1/plot/plotter"
)

// The chart bucket follows the period: minutes for an hour, days for a
// week, never more than maxBuckets.
func TestSeriesStep(t *testing.T) {
	at := time.Date(2026, 11, 29, 12, 20, 0, 0, time.UTC)
	for span, want := range map[time.Duration]time.Duration{
		45 * time.Minute:   time.Minute,
		90 * time.Minute:   time.Minute,
		2 * time.Hour:      5 * time.Minute,
		8 * time.Hour:      5 * time.Minute,
		24 * time.Hour:     time.Hour, // from 12:20: 97 quarter hours
		72 * time.Hour:     time.Hour,
		7 * 24 * time.Hour: 24 * time.Hour,
	} {
		if got := seriesStep(at, at.Add(span)); got != want {
			t.Errorf("%v: step %v, want %v", span, got, want)
		}
	}
	if got := seriesStep(at.Truncate(24*time.Hour), at.Truncate(24*time.Hour).Add(24*time.Hour)); got != 15*time.Minute {
		t.Errorf("a UTC day: step %v, want 15m", got)
	}
}

// A bucket with no row is a gap in the line, never a 0: lines run over
// adjacent buckets with rows only, and a lone bucket gets a mark.
func TestTraceLeavesGaps(t *testing.T) {
	d0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC).Unix()
	day := int64(86400)
	s := &series{vals: map[int64]float64{d0: 5, d0 + day: 0, d0 + 3*day: 7, d0 + 5*day: 2, d0 + 6*day: 3}}
	lines, marks := s.trace(24 * time.Hour)
	want := []plotter.XYs{{{X: float64(d0), Y: 5}, {X: float64(d0 + day), Y: 0}}, {{X: float64(d0 + 5*day), Y: 2}, {X: float64(d0 + 6*day), Y: 3}}}
	if fmt.Sprint(lines) != fmt.Sprint(want) {
		t.Errorf("lines %v, want %v", lines, want)
	}
	if len(marks) != 5 { // few buckets: every one marked
		t.Errorf("marks %v", marks)
	}
	for _, pts := range append(lines, marks) {
		for _, p := range pts {
			if int64(p.X) == d0+2*day || int64(p.X) == d0+4*day {
				t.Errorf("a point on a day without a row: %v", p)
			}
		}
	}
	// Many buckets: marks only where no line shows.
	s = &series{vals: map[int64]float64{}}
	for i := range int64(40) {
		if i != 20 && i != 22 {
			s.vals[i*60] = float64(i)
		}
	}
	lines, marks = s.trace(time.Minute)
	if len(lines) != 2 || len(marks) != 1 || marks[0].X != 21*60 {
		t.Errorf("40 minutes, 20 and 22 missing: %d lines, marks %v", len(lines), marks)
	}
}

// More conduits than a chart can tell apart: the largest stay, in the
// model's order, and the rest add up to "others" bucket by bucket.
func TestTopSeries(t *testing.T) {
	var all []*series
	for i := range 9 {
		s := &series{name: fmt.Sprintf("C%d", i), index: i, vals: map[int64]float64{0: float64(i), 60: 1}, total: float64(i + 1)}
		all = append(all, s)
	}
	all[0].total = 100 // first in the model and the largest
	got := topSeries(all, maxSeries)
	var names []string
	for _, s := range got {
		names = append(names, s.name)
	}
	if fmt.Sprint(names) != "[C0 C5 C6 C7 C8 4 others]" {
		t.Fatalf("series %v", names)
	}
	other := got[len(got)-1]
	if other.vals[0] != 1+2+3+4 || other.vals[60] != 4 || other.total != 2+3+4+5 || other.index != -1 {
		t.Errorf("others: %+v", other)
	}
	if len(topSeries(all[:6], maxSeries)) != 6 {
		t.Error("six series were merged")
	}
}

// The conduit chart's SVG: its legend beside the plot, the bucket in its
// title, the day without rows absent from it.
func TestConduitChartSVG(t *testing.T) {
	from := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	r := &Report{Period: Period{From: from, To: from.AddDate(0, 0, 5), Days: 5}, Conduits: []Conduit{{ID: "C1-BPCS-OPS"}, {ID: "C2-OPS-DMZ"}}}
	for _, d := range []int{0, 1, 3} {
		r.Evidence.ConduitDaily = append(r.Evidence.ConduitDaily, ConduitDay{Day: from.AddDate(0, 0, d), Conduit: "C1-BPCS-OPS", Total: 1000, PolicyBreaking: 3})
	}
	svg, err := renderChart(r, chartConduits, "svg")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Events per conduit per day", "C1-BPCS-OPS", "C2-OPS-DMZ: no events", "a gap: no events stored then", "Arial"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("the chart lacks %q", want)
		}
	}
	if bytes.Contains(svg, []byte("(no conduit)")) {
		t.Error("a line for traffic on no conduit, which had none")
	}
	r.Evidence.SeriesStep, r.Evidence.ConduitSeries = 60, r.Evidence.ConduitDaily
	if svg, err = renderChart(r, chartBreaking, "svg"); err != nil || !bytes.Contains(svg, []byte("Policy-breaking events per conduit per minute")) {
		t.Errorf("per minute: %v", err)
	}
}
