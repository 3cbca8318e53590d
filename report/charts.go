package report

import (
	"bytes"
	"cmp"
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// The charts are set in Liberation Sans, like the PDF's text (gonum's
// default is the serif face).
func init() {
	plot.DefaultFont = font.Font{Typeface: "Liberation", Variant: "Sans"}
	plotter.DefaultFont = plot.DefaultFont
}

// Chart size on the page.
const (
	chartW = 7 * vg.Inch
	chartH = 2.6 * vg.Inch
)

// renderChart draws a chart as "svg" or "png"; nil when the chart has
// nothing to show.
func renderChart(r *Report, c chart, format string) ([]byte, error) {
	f, err := buildChart(r, c)
	if f == nil || err != nil {
		return nil, err
	}
	var wt io.WriterTo
	if format == "png" {
		// 150 dpi: sharp on paper.
		cv := vgimg.NewWith(vgimg.UseWH(chartW, f.h), vgimg.UseDPI(150))
		f.draw(draw.New(cv))
		wt = vgimg.PngCanvas{Canvas: cv}
	} else {
		cv, err := draw.NewFormattedCanvas(chartW, f.h, format)
		if err != nil {
			return nil, fmt.Errorf("report: chart %s: %w", c, err)
		}
		f.draw(draw.New(cv))
		wt = cv
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("report: chart %s: %w", c, err)
	}
	out := b.Bytes()
	if format == "svg" {
		// Inline in HTML: drop the XML declaration.
		if i := bytes.Index(out, []byte("<svg")); i > 0 {
			out = out[i:]
		}
		// Arial and Helvetica have Liberation Sans's metrics, so labels
		// keep the room measured for them where it is not installed.
		out = bytes.ReplaceAll(out, []byte("font-family:Liberation Sans;"), []byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;"))
	}
	return out, nil
}

// figure is a plot with its legend in a column of its own to the right,
// never over the data.
type figure struct {
	p   *plot.Plot
	leg plot.Legend
	h   vg.Length
}

func newFigure(title string) *figure {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(11)
	p.X.Label.TextStyle.Font.Size = vg.Points(8)
	p.Add(plotter.NewGrid())
	leg := plot.NewLegend()
	leg.Top, leg.Left = true, true
	leg.TextStyle.Font.Size = vg.Points(9)
	leg.Padding = vg.Points(3)
	return &figure{p: p, leg: leg, h: chartH}
}

// legendGap separates the plot from its legend.
const legendGap = 10

func (f *figure) draw(c draw.Canvas) {
	w := f.leg.Rectangle(c)
	lw := w.Max.X - w.Min.X
	if lw > 0 {
		// A viewer without Liberation Sans sets the SVG's text in a
		// wider face: room for it.
		lw = lw*1.15 + vg.Points(legendGap)
	}
	f.p.Draw(draw.Crop(c, 0, -lw, 0, 0))
	if lw == 0 {
		return
	}
	top := f.p.Title.TextStyle.Rectangle(f.p.Title.Text).Size().Y + f.p.Title.Padding + vg.Points(4)
	f.leg.Draw(draw.Crop(c, c.Size().X-lw+vg.Points(legendGap), 0, 0, -top))
}

// maxSeries is the most lines a chart draws; the smallest of the rest
// are summed into one "other" line.
const maxSeries = 6

// maxLabel is the longest legend label, in characters.
const maxLabel = 24

func buildChart(r *Report, c chart) (*figure, error) {
	e := r.Evidence
	days := r.Period.days()
	if len(days) == 0 {
		return nil, nil
	}
	var f *figure
	var err error
	switch c {
	case chartConduits, chartBreaking:
		if len(e.ConduitDaily) == 0 {
			return nil, nil // no conduit traffic: the table says so
		}
		f, err = conduitChart(r, c == chartBreaking)
	case chartDiodes:
		// Per day: a period of one or two days is a point or two, which
		// the table says better.
		if len(e.Diodes) == 0 || len(days) < 3 {
			return nil, nil
		}
		f, err = diodeChart(r, days)
	case chartLogSource:
		if len(e.LogSources) == 0 {
			return nil, nil
		}
		f, err = logSourceChart(r, days)
	default:
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("report: chart %s: %w", c, err)
	}
	return f, nil
}

// series is one line of a time chart: its value in each bucket that has
// a row; a bucket without one (the table's "-") is a gap, never a 0.
type series struct {
	name  string
	index int // the conduit's place in the model: its colour and mark
	vals  map[int64]float64
	total float64
}

// conduitChart draws events (or policy-breaking events) per conduit over
// the period, per day or, for shorter periods, per Evidence.SeriesStep.
func conduitChart(r *Report, breaking bool) (*figure, error) {
	e := r.Evidence
	step, rows := 24*time.Hour, e.ConduitDaily
	if e.SeriesStep > 0 {
		step, rows = time.Duration(e.SeriesStep)*time.Second, e.ConduitSeries
	}
	title, unit := "Events per conduit", "events"
	if breaking {
		title, unit = "Policy-breaking events per conduit", "policy-breaking events"
	}
	f := newFigure(title + " per " + stepName(step))
	f.p.Y.Label.Text = unit
	var all []*series
	byName := map[string]*series{}
	for i, x := range append(slices.Clone(r.Conduits), Conduit{}) {
		s := &series{name: conduitName(x.ID), index: i, vals: map[int64]float64{}}
		all = append(all, s)
		byName[x.ID] = s
	}
	for _, x := range rows {
		s := byName[x.Conduit]
		if s == nil {
			continue // a conduit the model no longer has: in the table's period totals only
		}
		v := float64(x.Total)
		if breaking {
			v = float64(x.PolicyBreaking)
		}
		s.vals[x.Day.Unix()] += v
		s.total += v
	}
	if nc := all[len(all)-1]; nc.total == 0 {
		all = all[:len(all)-1] // no traffic on no conduit: no line for it
	}
	shown := topSeries(all, maxSeries)
	from := r.Period.From.Truncate(step)
	f.p.X.Min, f.p.X.Max = float64(from.Unix()), float64(r.Period.To.Unix())
	if step == 24*time.Hour {
		f.p.X.Min, f.p.X.Max = dayRange(r.Period.days())
	}
	f.p.X.Tick.Marker = timeTicks{step: step}
	f.p.X.Label.Text = "UTC; a gap: no events stored then"
	f.p.Y.Min = 0
	f.p.Y.Tick.Marker = countTicks{}
	for _, s := range shown {
		if err := f.addSeries(s, step); err != nil {
			return nil, err
		}
	}
	f.p.Y.Max = math.Max(f.p.Y.Max, 1) * 1.05
	return f, nil
}

// topSeries keeps the n-1 series with the largest totals (in their
// original order) and sums the rest into one "other" series, when there
// are more than n.
func topSeries(all []*series, n int) []*series {
	if len(all) <= n {
		return all
	}
	ranked := slices.Clone(all)
	slices.SortStableFunc(ranked, func(a, b *series) int { return cmp.Compare(b.total, a.total) })
	keep := map[*series]bool{}
	for _, s := range ranked[:n-1] {
		keep[s] = true
	}
	other := &series{index: -1, vals: map[int64]float64{}}
	var out []*series
	for _, s := range all {
		if keep[s] {
			out = append(out, s)
			continue
		}
		for t, v := range s.vals {
			other.vals[t] += v
		}
		other.total += s.total
		other.name = fmt.Sprintf("%d others", len(all)-n+1)
	}
	return append(out, other)
}

// trace cuts a series into lines, one over each run of adjacent buckets
// with rows, and the marks to draw: on every bucket while there are at
// most 31 (a month of days), else on the lone buckets no line shows. A
// bucket without a row is on neither.
func (s *series) trace(step time.Duration) (lines []plotter.XYs, marks plotter.XYs) {
	var times []int64
	for t := range s.vals {
		times = append(times, t)
	}
	slices.Sort(times)
	adjacent := func(i int) bool { return i >= 0 && i+1 < len(times) && times[i+1]-times[i] <= int64(step.Seconds()) }
	var run plotter.XYs
	for i, t := range times {
		pt := plotter.XY{X: float64(t), Y: s.vals[t]}
		run = append(run, pt)
		if len(times) <= 31 || (!adjacent(i-1) && !adjacent(i)) {
			marks = append(marks, pt)
		}
		if !adjacent(i) {
			if len(run) > 1 {
				lines = append(lines, run)
			}
			run = nil
		}
	}
	return lines, marks
}

// addSeries draws a series (see trace) with its legend entry.
func (f *figure) addSeries(s *series, step time.Duration) error {
	name := label(s.name)
	if len(s.vals) == 0 {
		f.leg.Add(name + ": no events")
		return nil
	}
	col, mark := seriesStyle(s.index)
	lines, marks := s.trace(step)
	var thumbs []plot.Thumbnailer
	for _, pts := range lines {
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color = col
		f.p.Add(l)
		thumbs = []plot.Thumbnailer{l}
	}
	sc, err := plotter.NewScatter(marks)
	if err != nil {
		return err
	}
	sc.Color, sc.Shape, sc.Radius = col, mark, vg.Points(2.5)
	if len(marks) > 0 {
		f.p.Add(sc)
	}
	f.leg.Add(name, append(thumbs, sc)...)
	return nil
}

// seriesStyle is a series' colour and mark: one of seven colours and,
// past seven series, another mark; grey for "other" (index -1).
func seriesStyle(i int) (color.Color, draw.GlyphDrawer) {
	if i < 0 {
		return color.Gray{Y: 0x80}, draw.PlusGlyph{}
	}
	return plotutil.DarkColors[i%len(plotutil.DarkColors)], plotutil.Shape(i/7 + i%7)
}

// dayRange is the x range of a chart per day: a day's point sits on its
// midnight tick, with half a day to spare either side.
func dayRange(days []time.Time) (lo, hi float64) {
	return float64(days[0].Unix()) - 43200, float64(days[len(days)-1].Unix()) + 43200
}

// label shortens a legend label to maxLabel characters.
func label(s string) string {
	if r := []rune(s); len(r) > maxLabel {
		return string(r[:maxLabel-1]) + "…"
	}
	return s
}

// stepName names a bucket: "day", "hour", "5 minutes".
func stepName(step time.Duration) string {
	switch {
	case step == 24*time.Hour:
		return "day"
	case step == time.Hour:
		return "hour"
	case step == time.Minute:
		return "minute"
	case step < time.Hour:
		return fmt.Sprintf("%d minutes", int(step.Minutes()))
	}
	return step.String()
}

// diodeChart draws each diode's availability per day; a day without a
// heartbeat (the table's "silent") is marked apart: it counts as down.
func diodeChart(r *Report, days []time.Time) (*figure, error) {
	f := newFigure("Diode availability per day (silence counts as down)")
	f.p.Y.Label.Text = "% of minutes up"
	f.p.X.Tick.Marker = timeTicks{step: 24 * time.Hour}
	f.p.X.Min, f.p.X.Max = dayRange(days)
	f.p.X.Label.Text = "UTC"
	f.p.Y.Min, f.p.Y.Max = 0, 105
	f.p.Y.Tick.Marker = plot.ConstantTicks{{Value: 0, Label: "0"}, {Value: 25, Label: "25"}, {Value: 50, Label: "50"},
		{Value: 75, Label: "75"}, {Value: 100, Label: "100"}}
	var silent plotter.XYs
	for i, d := range r.Evidence.Diodes {
		pts := make(plotter.XYs, len(d.Days))
		for j, x := range d.Days {
			pts[j] = plotter.XY{X: float64(x.Day.Unix()), Y: 100 * x.Availability}
			if x.Heartbeats == 0 {
				silent = append(silent, pts[j])
			}
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		col, mark := seriesStyle(i)
		l.Color, sc.Color, sc.Shape = col, col, mark
		f.p.Add(l, sc)
		f.leg.Add(label(d.ID), l, sc)
	}
	if len(silent) > 0 {
		sc, err := plotter.NewScatter(silent)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: color.RGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff}, Radius: vg.Points(4), Shape: draw.CrossGlyph{}}
		f.p.Add(sc)
		f.leg.Add("no heartbeat all day", sc)
	}
	return f, nil
}

// logSourceChart draws one row per device and a square per day: heard
// that day, or silent all day.
func logSourceChart(r *Report, days []time.Time) (*figure, error) {
	e := r.Evidence
	f := newFigure("Log-source coverage: days with logs per device")
	f.p.X.Tick.Marker = timeTicks{step: 24 * time.Hour}
	f.p.X.Min, f.p.X.Max = dayRange(days)
	f.p.X.Label.Text = "UTC"
	// The first device on top: rows count up from the bottom.
	names := make([]string, len(e.LogSources))
	var heard, silent plotter.XYs
	for i, ls := range e.LogSources {
		row := len(e.LogSources) - 1 - i
		names[row] = deviceName(ls.Device)
		for _, d := range days {
			pt := plotter.XY{X: float64(d.Unix()), Y: float64(row)}
			logged := false
			for _, x := range e.DeviceDaily {
				if x.Device == ls.Device && x.Day.Equal(d) && x.Events > 0 {
					logged = true
				}
			}
			if logged {
				heard = append(heard, pt)
			} else {
				silent = append(silent, pt)
			}
		}
	}
	f.p.NominalY(names...)
	f.p.Y.Min, f.p.Y.Max = -0.7, float64(len(names))-0.3
	f.h = vg.Length(math.Max(1.6, 0.9+0.28*float64(len(names)))) * vg.Inch
	size := vg.Length(math.Min(7, math.Max(2, 300/float64(len(days)))))
	for _, s := range []struct {
		pts   plotter.XYs
		name  string
		color color.Color
	}{{heard, "logs that day", color.RGBA{R: 0x2e, G: 0x7d, B: 0x32, A: 0xff}}, {silent, "silent all day", color.RGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff}}} {
		if len(s.pts) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(s.pts)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: s.color, Radius: size, Shape: draw.BoxGlyph{}}
		f.p.Add(sc)
		f.leg.Add(s.name, sc)
	}
	return f, nil
}

// timeTicks marks a UTC time axis: a tick per bucket (step) when there
// are not too many, and at most eight labels at a round interval, the
// date at midnight and the time of day otherwise.
type timeTicks struct {
	step time.Duration
}

// labelSteps are the intervals between labels, shortest first.
var labelSteps = []time.Duration{time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 2 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour}

func (tt timeTicks) Ticks(lo, hi float64) []plot.Tick {
	span := time.Duration(hi-lo) * time.Second
	every := labelSteps[len(labelSteps)-1]
	for _, s := range labelSteps {
		if s >= tt.step && span/s <= 8 {
			every = s
			break
		}
	}
	minor := tt.step
	if span/minor > 100 {
		minor = every
	}
	var ticks []plot.Tick
	first := time.Unix(int64(math.Ceil(lo)), 0).UTC().Truncate(minor)
	if float64(first.Unix()) < lo {
		first = first.Add(minor)
	}
	for t := first; float64(t.Unix()) <= hi; t = t.Add(minor) {
		tk := plot.Tick{Value: float64(t.Unix())}
		switch {
		case !t.Equal(t.Truncate(every)):
		case t.Equal(t.Truncate(24 * time.Hour)):
			tk.Label = t.Format("01-02") // a day, or midnight among hours
		default:
			tk.Label = t.Format("15:04")
		}
		ticks = append(ticks, tk)
	}
	return ticks
}

// countTicks labels a count axis without needless decimals.
type countTicks struct{}

func (countTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for _, t := range (plot.DefaultTicks{}).Ticks(lo, hi) {
		if t.Value != math.Trunc(t.Value) {
			continue // no half events
		}
		if t.Label != "" {
			t.Label = strconv.FormatFloat(t.Value, 'g', 6, 64)
		}
		ticks = append(ticks, t)
	}
	return ticks
}
