package report

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"
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
	p, h, err := buildChart(r, c)
	if p == nil || err != nil {
		return nil, err
	}
	var wt io.WriterTo
	if format == "png" {
		// 150 dpi: sharp on paper.
		cv := vgimg.NewWith(vgimg.UseWH(chartW, h), vgimg.UseDPI(150))
		p.Draw(draw.New(cv))
		wt = vgimg.PngCanvas{Canvas: cv}
	} else if wt, err = p.WriterTo(chartW, h, format); err != nil {
		return nil, fmt.Errorf("report: chart %s: %w", c, err)
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
	}
	return out, nil
}

func buildChart(r *Report, c chart) (*plot.Plot, vg.Length, error) {
	e := r.Evidence
	days := r.Period.days()
	if len(days) == 0 {
		return nil, 0, nil
	}
	p := plot.New()
	p.X.Tick.Marker = timeTicks{step: 24 * time.Hour, format: "01-02"}
	p.X.Min = float64(days[0].Unix()) - 43200
	p.X.Max = float64(days[len(days)-1].Unix()) + 43200
	p.Y.Min = 0
	p.Y.Tick.Marker = countTicks{}
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.XOffs = vg.Points(8)
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	p.Title.TextStyle.Font.Size = vg.Points(11)
	p.Add(plotter.NewGrid())
	h := chartH
	var err error
	switch c {
	case chartConduits, chartBreaking:
		if len(e.ConduitDaily) == 0 {
			return nil, 0, nil // no conduit traffic: the table says so
		}
		p.Title.Text = "Events per conduit per day"
		p.Y.Label.Text = "events"
		if c == chartBreaking {
			p.Title.Text = "Policy-breaking events per conduit per day"
		}
		// Short periods per hour, longer ones per day.
		times, rows := days, e.ConduitDaily
		if len(days) <= hourlyDays {
			times, rows = nil, e.ConduitHourly
			for t := r.Period.From.Truncate(time.Hour); t.Before(r.Period.To); t = t.Add(time.Hour) {
				times = append(times, t)
			}
			p.Title.Text = strings.Replace(p.Title.Text, "per day", "per hour", 1)
			p.X.Min, p.X.Max = float64(times[0].Unix())-1800, float64(times[len(times)-1].Unix())+1800
			p.X.Tick.Marker = timeTicks{step: time.Hour, format: "01-02 15h"}
		}
		var names []string
		for _, x := range r.Conduits {
			names = append(names, x.ID)
		}
		names = append(names, "")
		for i, name := range names {
			pts := make(plotter.XYs, len(times))
			any := false
			for j, d := range times {
				pts[j].X = float64(d.Unix())
				for _, x := range rows {
					if x.Conduit == name && x.Day.Equal(d) {
						v := x.Total
						if c == chartBreaking {
							v = x.PolicyBreaking
						}
						pts[j].Y = float64(v)
						any = any || v > 0
					}
				}
			}
			if name == "" && !any {
				continue
			}
			err = addLine(p, pts, conduitName(name), i)
		}
	case chartDiodes:
		if len(e.Diodes) == 0 {
			return nil, 0, nil
		}
		p.Title.Text = "Diode availability per day (silence counts as down)"
		p.Y.Label.Text = "% of minutes up"
		p.Y.Max = 130 // headroom for the legend
		p.Y.Tick.Marker = plot.ConstantTicks{{Value: 0, Label: "0"}, {Value: 25, Label: "25"}, {Value: 50, Label: "50"},
			{Value: 75, Label: "75"}, {Value: 100, Label: "100"}}
		for i, d := range e.Diodes {
			pts := make(plotter.XYs, len(d.Days))
			for j, x := range d.Days {
				pts[j] = plotter.XY{X: float64(x.Day.Unix()), Y: 100 * x.Availability}
			}
			err = addLine(p, pts, d.ID, i)
		}
	case chartLogSource:
		if len(e.LogSources) == 0 {
			return nil, 0, nil
		}
		p.Title.Text = "Log-source coverage: days with logs per device"
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
		p.NominalY(names...)
		// A row of headroom for the legend.
		p.Y.Min, p.Y.Max = -0.7, float64(len(names))+0.6
		h = vg.Length(math.Max(1.8, 1.1+0.28*float64(len(names)))) * vg.Inch
		size := vg.Length(math.Min(7, math.Max(2, 300/float64(len(days)))))
		for _, s := range []struct {
			pts   plotter.XYs
			name  string
			color color.Color
		}{{heard, "logs that day", color.RGBA{R: 0x2e, G: 0x7d, B: 0x32, A: 0xff}}, {silent, "silent all day", color.RGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff}}} {
			if len(s.pts) == 0 {
				continue
			}
			sc, e2 := plotter.NewScatter(s.pts)
			if e2 != nil {
				return nil, 0, e2
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: s.color, Radius: size, Shape: draw.BoxGlyph{}}
			p.Add(sc)
			p.Legend.Add(s.name, sc)
		}
	default:
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("report: chart %s: %w", c, err)
	}
	if c == chartConduits || c == chartBreaking {
		// Headroom above the data for the legend.
		p.Y.Max = math.Max(p.Y.Max, 1) * 1.45
	}
	return p, h, nil
}

func addLine(p *plot.Plot, pts plotter.XYs, name string, i int) error {
	l, s, err := plotter.NewLinePoints(pts)
	if err != nil {
		return err
	}
	l.Color = plotutil.Color(i)
	l.Dashes = plotutil.Dashes(0)
	s.Color = plotutil.Color(i)
	s.Shape = plotutil.Shape(i)
	p.Add(l, s)
	p.Legend.Add(name, l, s)
	return nil
}

// timeTicks marks each step (a day or an hour, UTC) along a time axis,
// labelling at most about ten of them.
type timeTicks struct {
	step   time.Duration
	format string
}

func (tt timeTicks) Ticks(lo, hi float64) []plot.Tick {
	first := time.Unix(int64(math.Ceil(lo)), 0).UTC().Truncate(tt.step)
	if float64(first.Unix()) < lo {
		first = first.Add(tt.step)
	}
	n := int((hi-float64(first.Unix()))/tt.step.Seconds()) + 1
	every := max(1, (n+9)/10)
	var ticks []plot.Tick
	for i, d := 0, first; float64(d.Unix()) <= hi; i, d = i+1, d.Add(tt.step) {
		t := plot.Tick{Value: float64(d.Unix())}
		if i%every == 0 {
			t.Label = d.Format(tt.format)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// countTicks labels a count axis without needless decimals.
type countTicks struct{}

func (countTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'g', 6, 64)
		}
	}
	return ticks
}
