package report

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"codeberg.org/go-fonts/liberation/liberationsansbold"
	"codeberg.org/go-fonts/liberation/liberationsansregular"
	"codeberg.org/go-pdf/fpdf"
)

// PDF page geometry, millimetres (A4 portrait).
const (
	pdfMargin = 15.0
	pdfWidth  = 210 - 2*pdfMargin
	pdfMaxCol = 80.0 // widest a table column may grow before its text is cut
)

// writePDF writes the document as a PDF made in Go (no browser), with
// the Liberation Sans fonts embedded for Unicode text and the charts as
// PNG images.
func writePDF(w io.Writer, r *Report, d *document) error {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	pdf.SetAutoPageBreak(true, pdfMargin)
	pdf.AddUTF8FontFromBytes("sans", "", liberationsansregular.TTF)
	pdf.AddUTF8FontFromBytes("sans", "B", liberationsansbold.TTF)
	pdf.SetTitle(d.Title+" — "+r.Facility, true)
	pdf.SetCreator("otsiem "+r.Version, true)
	pdf.SetCreationDate(r.GeneratedAt)
	pdf.SetModificationDate(r.GeneratedAt)
	pdf.AliasNbPages("{nb}")
	pdf.SetFooterFunc(func() {
		pdf.SetY(-10)
		pdf.SetFont("sans", "", 7)
		pdf.SetTextColor(110, 120, 128)
		pdf.CellFormat(0, 4, fmt.Sprintf("%s · %s · model %s · %s to %s UTC · page %d of {nb}", r.Facility, d.Title,
			r.Model.Short, stamp(r.Period.From), stamp(r.Period.To), pdf.PageNo()), "", 0, "C", false, 0, "")
	})
	pdf.AddPage()

	pdf.SetFont("sans", "B", 16)
	pdf.SetTextColor(29, 35, 41)
	pdf.CellFormat(0, 9, d.Title, "B", 1, "L", false, 0, "")
	pdf.Ln(2)
	for _, f := range d.Header {
		pdfField(pdf, 0, f)
	}
	if d.Notice != "" {
		pdf.Ln(3)
		pdf.SetFont("sans", "B", 10)
		pdf.SetDrawColor(198, 40, 40)
		pdf.SetFillColor(253, 236, 234)
		pdf.MultiCell(0, 5, d.Notice, "1", "L", true)
	}
	for _, s := range d.Sections {
		pdf.Ln(4)
		if pdf.GetY() > 250 {
			pdf.AddPage()
		}
		pdf.Bookmark(s.Title, 0, -1)
		pdf.SetFont("sans", "B", 13)
		pdf.SetTextColor(29, 35, 41)
		pdf.SetDrawColor(213, 219, 224)
		pdf.CellFormat(0, 7, s.Title, "B", 1, "L", false, 0, "")
		pdf.Ln(1)
		for _, b := range s.Blocks {
			indent := 0.0
			if b.Heading != "" {
				pdf.Ln(1)
				pdf.SetFont("sans", "B", 10)
				pdfStatusColor(pdf, b.Status)
				pdf.MultiCell(0, 5, b.Heading, "", "L", false)
				pdf.SetTextColor(29, 35, 41)
				indent = 4
			}
			for _, f := range b.Fields {
				pdfField(pdf, indent, f)
			}
			if b.Text != "" {
				pdf.SetFont("sans", "", 8)
				pdf.MultiCell(0, 4, b.Text, "", "L", false)
			}
			if b.Chart != chartNone {
				png, err := renderChart(r, b.Chart, "png")
				if err != nil {
					return err
				}
				if png != nil {
					pdfImage(pdf, string(b.Chart), png)
				}
			}
			if b.Table != nil {
				pdfTable(pdf, b.Table)
			}
		}
	}
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("report: pdf: %w", err)
	}
	return pdf.Output(w)
}

// pdfField writes "Key: value" with the value wrapped, and its list.
func pdfField(pdf *fpdf.Fpdf, indent float64, f field) {
	pdf.SetX(pdfMargin + indent)
	pdf.SetFont("sans", "B", 9)
	kw := pdf.GetStringWidth(f.Key+": ") + 1
	pdf.CellFormat(kw, 4.6, f.Key+":", "", 0, "L", false, 0, "")
	pdf.SetFont("sans", "", 9)
	pdf.MultiCell(pdfWidth-indent-kw, 4.6, f.Value, "", "L", false)
	pdf.SetFont("sans", "", 8)
	for _, item := range f.List {
		pdf.SetX(pdfMargin + indent + 4)
		pdf.MultiCell(pdfWidth-indent-4, 4, "• "+item, "", "L", false)
	}
}

func pdfStatusColor(pdf *fpdf.Fpdf, status string) {
	switch status {
	case Supported:
		pdf.SetTextColor(46, 125, 50)
	case Exceptions:
		pdf.SetTextColor(198, 40, 40)
	case NoEvidence:
		pdf.SetTextColor(109, 119, 128)
	default:
		pdf.SetTextColor(29, 35, 41)
	}
}

func pdfImage(pdf *fpdf.Fpdf, name string, png []byte) {
	opts := fpdf.ImageOptions{ImageType: "PNG"}
	info := pdf.RegisterImageOptionsReader(name, opts, bytes.NewReader(png))
	if info == nil {
		return
	}
	h := pdfWidth * info.Height() / info.Width()
	if pdf.GetY()+h > 297-pdfMargin {
		pdf.AddPage()
	}
	pdf.ImageOptions(name, pdfMargin, pdf.GetY(), pdfWidth, h, true, opts, 0, "")
	pdf.Ln(2)
}

// pdfTable writes a table at 7.5 pt; a table wider than the page repeats
// its first column and continues with the columns that did not fit.
func pdfTable(pdf *fpdf.Fpdf, t *table) {
	const rowH = 4.2
	if len(t.Rows) > 0 && pdf.GetY()+4.6+rowH*float64(min(len(t.Rows), 4)+1) > 297-pdfMargin-6 {
		pdf.AddPage() // keep the caption, the header and a few rows together
	}
	pdf.SetFont("sans", "B", 8.5)
	if t.Caption != "" {
		pdf.MultiCell(0, 4.6, t.Caption, "", "L", false)
	}
	if len(t.Rows) == 0 {
		pdf.SetFont("sans", "", 8.5)
		pdf.SetTextColor(109, 119, 128)
		pdf.CellFormat(0, 5, t.Empty, "", 1, "L", false, 0, "")
		pdf.SetTextColor(29, 35, 41)
		pdf.Ln(1)
		return
	}
	widths := make([]float64, len(t.Head))
	pdf.SetFont("sans", "B", 7.5)
	for i, h := range t.Head {
		widths[i] = pdf.GetStringWidth(h) + 3
	}
	pdf.SetFont("sans", "", 7.5)
	for i := range t.Head {
		for _, row := range t.Rows {
			widths[i] = max(widths[i], pdf.GetStringWidth(row[i])+3)
		}
		widths[i] = min(widths[i], pdfMaxCol)
	}
	for start := 1; start < len(t.Head) || start == 1; {
		cols := []int{0}
		used := widths[0]
		end := start
		for ; end < len(t.Head) && used+widths[end] <= pdfWidth; end++ {
			cols = append(cols, end)
			used += widths[end]
		}
		if end == start && end < len(t.Head) { // one column wider than the page
			cols = append(cols, end)
			end++
		}
		header := func() {
			pdf.SetFont("sans", "B", 7.5)
			pdf.SetTextColor(91, 102, 112)
			for _, c := range cols {
				pdf.CellFormat(widths[c], rowH+0.6, fit(pdf, t.Head[c], widths[c]), "B", 0, align(t, c), false, 0, "")
			}
			pdf.Ln(-1)
			pdf.SetFont("sans", "", 7.5)
			pdf.SetTextColor(29, 35, 41)
		}
		header()
		for i, row := range t.Rows {
			if pdf.GetY()+rowH > 297-pdfMargin-6 {
				pdf.AddPage()
				header()
			}
			pdf.SetFillColor(243, 245, 247)
			for _, c := range cols {
				pdfStatusColor(pdf, row[c])
				pdf.CellFormat(widths[c], rowH, fit(pdf, row[c], widths[c]), "", 0, align(t, c), i%2 == 1, 0, "")
			}
			pdf.SetTextColor(29, 35, 41)
			pdf.Ln(-1)
		}
		pdf.Ln(2)
		if end >= len(t.Head) {
			break
		}
		start = end
	}
}

func align(t *table, col int) string {
	if t.IsNumeric(col) {
		return "R"
	}
	return "L"
}

// fit cuts s with an ellipsis to fit a cell of width w.
func fit(pdf *fpdf.Fpdf, s string, w float64) string {
	if pdf.GetStringWidth(s)+2.5 <= w {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && pdf.GetStringWidth(string(r)+"…")+2.5 > w {
		r = r[:len(r)-1]
	}
	return strings.TrimSpace(string(r)) + "…"
}
