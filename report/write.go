package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/otsiem/otsiem/escape"
)

// Formats are the formats [Write] takes, with the file extension of each.
var Formats = map[string]string{"text": ".txt", "markdown": ".md", "html": ".html", "pdf": ".pdf", "json": ".json"}

// Write writes the report in a format of [Formats].
func Write(w io.Writer, r *Report, format string) error {
	switch format {
	case "text":
		return writeText(w, layout(r))
	case "markdown":
		return writeMarkdown(w, layout(r))
	case "html":
		return writeHTML(w, r, layout(r))
	case "pdf":
		return writePDF(w, r, layout(r))
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return fmt.Errorf("report: unknown format %q (want text, markdown, html, pdf or json)", format)
}

// writeText writes the seed's "Output Format" layout: a title underlined
// with "=", "Key: value" header lines, then upper-case section titles
// ending in ":", items indented by two spaces and their fields by four.
// Text a syslog sender controls (device names, rules, functions) is
// escaped for the terminal (package escape).
func writeText(w io.Writer, d *document) error {
	b := bufio.NewWriter(w)
	e := escape.Terminal
	fmt.Fprintf(b, "%s\n%s\n", d.Title, strings.Repeat("=", len(d.Title)+1))
	for _, f := range d.Header {
		fmt.Fprintf(b, "%s: %s\n", f.Key, e(f.Value))
	}
	if d.Notice != "" {
		fmt.Fprintf(b, "\n%s\n", d.Notice)
	}
	for _, s := range d.Sections {
		fmt.Fprintf(b, "\n%s:\n", strings.ToUpper(s.Title))
		for _, bl := range s.Blocks {
			indent := "  "
			if bl.Heading != "" {
				fmt.Fprintf(b, "  %s\n", e(bl.Heading))
				indent = "    "
			}
			for _, f := range bl.Fields {
				fmt.Fprintf(b, "%s%s: %s\n", indent, f.Key, e(f.Value))
				for _, item := range f.List {
					fmt.Fprintf(b, "%s  - %s\n", indent, e(item))
				}
			}
			if bl.Text != "" {
				fmt.Fprintf(b, "  %s\n", e(bl.Text))
			}
			if t := bl.Table; t != nil {
				if t.Caption != "" {
					fmt.Fprintf(b, "  %s:\n", t.Caption)
				}
				if len(t.Rows) == 0 {
					fmt.Fprintf(b, "    %s\n", t.Empty)
					continue
				}
				tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
				fmt.Fprintf(tw, "    %s\n", strings.ToUpper(strings.Join(t.Head, "\t")))
				for _, row := range t.Rows {
					cells := make([]string, len(row))
					for i, c := range row {
						cells[i] = e(c)
					}
					fmt.Fprintf(tw, "    %s\n", strings.Join(cells, "\t"))
				}
				tw.Flush()
			}
		}
	}
	return b.Flush()
}

// writeMarkdown writes the same document as CommonMark with GitHub tables.
func writeMarkdown(w io.Writer, d *document) error {
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "# %s\n\n", d.Title)
	for _, f := range d.Header {
		fmt.Fprintf(b, "- **%s:** %s\n", f.Key, mdEscape(f.Value))
	}
	if d.Notice != "" {
		fmt.Fprintf(b, "\n> **%s**\n", mdEscape(d.Notice))
	}
	for _, s := range d.Sections {
		fmt.Fprintf(b, "\n## %s\n", s.Title)
		for _, bl := range s.Blocks {
			if bl.Heading != "" {
				fmt.Fprintf(b, "\n### %s\n", mdEscape(bl.Heading))
			}
			if len(bl.Fields) > 0 {
				b.WriteString("\n")
			}
			for _, f := range bl.Fields {
				fmt.Fprintf(b, "- **%s:** %s\n", f.Key, mdEscape(f.Value))
				for _, item := range f.List {
					fmt.Fprintf(b, "  - %s\n", mdEscape(item))
				}
			}
			if bl.Text != "" {
				fmt.Fprintf(b, "\n%s\n", mdEscape(bl.Text))
			}
			if t := bl.Table; t != nil {
				if t.Caption != "" {
					fmt.Fprintf(b, "\n**%s**\n", mdEscape(t.Caption))
				}
				if len(t.Rows) == 0 {
					fmt.Fprintf(b, "\n%s\n", mdEscape(t.Empty))
					continue
				}
				b.WriteString("\n|")
				for _, h := range t.Head {
					fmt.Fprintf(b, " %s |", mdEscape(h))
				}
				b.WriteString("\n|")
				for i := range t.Head {
					if t.Numeric[i] {
						b.WriteString("---:|")
					} else {
						b.WriteString("---|")
					}
				}
				b.WriteString("\n")
				for _, row := range t.Rows {
					b.WriteString("|")
					for _, c := range row {
						fmt.Fprintf(b, " %s |", mdEscape(c))
					}
					b.WriteString("\n")
				}
			}
		}
	}
	return b.Flush()
}

// mdEscape keeps a value from being read as Markdown syntax or breaking a
// table cell.
var mdEscape = strings.NewReplacer("|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`", "<", `\<`, "&", `\&`, "[", `\[`, "\n", " ").Replace
