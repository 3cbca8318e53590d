package rules

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTestdata loads every testdata/*.good.yaml and *.bad.yaml model. Each
// file ends with "# want: LINE:COL: SEVERITY: MESSAGE" lines listing exactly
// the diagnostics it must produce; good files must load, bad ones must not.
func TestTestdata(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.yaml")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			sc := bufio.NewScanner(bytes.NewReader(data))
			for sc.Scan() {
				if w, ok := strings.CutPrefix(sc.Text(), "# want: "); ok {
					want = append(want, w)
				}
			}
			m, err := Load(f)
			var diags []Diagnostic
			switch {
			case strings.HasSuffix(f, ".good.yaml"):
				if err != nil {
					t.Fatalf("good model failed to load: %v", err)
				}
				diags = m.Diagnostics()
			case strings.HasSuffix(f, ".bad.yaml"):
				if err == nil {
					t.Fatalf("bad model loaded")
				}
				if diags = Diagnostics(err); diags == nil {
					t.Fatalf("error carries no diagnostics: %v", err)
				}
			default:
				t.Fatalf("name must end in .good.yaml or .bad.yaml")
			}
			var got []string
			for _, d := range diags {
				if d.File != f {
					t.Errorf("diagnostic names file %q, want %q", d.File, f)
				}
				got = append(got, fmt.Sprintf("%d:%d: %s: %s", d.Line, d.Col, d.Severity, d.Message))
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("diagnostics:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
			}
		})
	}
}
