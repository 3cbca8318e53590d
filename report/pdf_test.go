package report_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// pdftotext reads a PDF back as text with poppler's pdftotext (Debian's
// poppler-utils, which `make test` installs when missing).
func pdftotext(t *testing.T, pdf []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("REPORT_TOOLS_REQUIRED") != "" {
			t.Fatal("pdftotext not found: install poppler-utils (make test does)")
		}
		t.Skip("pdftotext not found: install poppler-utils (apt-get install -y poppler-utils) to read the PDF back")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "report.pdf")
	if err := os.WriteFile(in, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-layout", in, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out)
}

// The PDF parses, and its text holds every section and the key figures.
func TestWeekPDF(t *testing.T) {
	r := weekReport(t)
	pdf := render(t, r, "pdf")
	if !strings.HasPrefix(string(pdf), "%PDF-") {
		t.Fatalf("not a PDF: %.20q", pdf)
	}
	text := pdftotext(t, pdf)
	if dir := os.Getenv("REPORT_ARTIFACTS"); dir != "" {
		os.WriteFile(filepath.Join(dir, "week.pdf"), pdf, 0o644)
	}
	flat := strings.Join(strings.Fields(text), " ")
	for _, want := range []string{
		"IEC 62443 Zone Implementation Report", "Facility: Petrochemical Refinery - Unit 3",
		"Implementation Date: 2026-02-23", "Standard: IEC 62443-3-2/3-3", "Model version: " + r.Model.Short,
		"Period: 2026-03-02 00:00 to 2026-03-09 00:00 UTC (7 days)",
		"Zone architecture", "Zone Z1-SIS: Safety Instrumented Systems (SL-T: 3)",
		"Conduit configuration", "Conduit C1-BPCS-OPS: Z2-BPCS <-> Z3-OPS", "Firewall Rules: 2 allow / 2 deny",
		"Validation results", "Cross-zone tests: 7 pass / 3 fail",
		"Prohibited path tests: 3 exceptions (10 of 16 attempts got through)",
		"function code filtering verified (4 write attempts",
		"Conduit traffic over time", "Undeclared paths and air-gap contacts", "Enforcement coverage",
		"1,336 of 1,726 cross-zone events (77.4%)", "Diode availability", "85.7%",
		"Log-source coverage and clock skew", "Open findings", "IEC 62443-3-3 evidence",
		"SR 5.1", "SR 5.2 RE 1", "SR 6.2", "SR 2.11", "SR 1.13", "exceptions found",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
}
