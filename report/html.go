package report

import (
	_ "embed"
	"html/template"
	"io"
	"strings"
)

//go:embed report.html.tmpl
var htmlTemplate string

var htmlPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"anchor": func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
				return r
			}
			if r >= 'A' && r <= 'Z' {
				return r + 'a' - 'A'
			}
			return '-'
		}, s)
	},
	"statusClass": func(s string) string {
		switch s {
		case Supported:
			return "ok"
		case Exceptions:
			return "bad"
		case NoEvidence:
			return "none"
		}
		return ""
	},
}).Parse(htmlTemplate))

// htmlDoc is what the template sees: the document and its charts as
// inline SVG.
type htmlDoc struct {
	*document
	Charts map[chart]template.HTML
}

// writeHTML writes one self-contained page: styles inline, charts as
// inline SVG, no script, and a Content-Security-Policy that forbids
// loading anything, so opening it never touches the network.
func writeHTML(w io.Writer, r *Report, d *document) error {
	hd := htmlDoc{document: d, Charts: map[chart]template.HTML{}}
	for _, s := range d.Sections {
		for _, b := range s.Blocks {
			if b.Chart == chartNone {
				continue
			}
			svg, err := renderChart(r, b.Chart, "svg")
			if err != nil {
				return err
			}
			// gonum's SVG output: drawn by our code from numbers, with
			// its text (device and conduit names) HTML-escaped by vgsvg.
			hd.Charts[b.Chart] = template.HTML(svg)
		}
	}
	return htmlPage.Execute(w, hd)
}

// Numeric reports whether column i is right-aligned.
func (t *table) IsNumeric(i int) bool { return i < len(t.Numeric) && t.Numeric[i] }
