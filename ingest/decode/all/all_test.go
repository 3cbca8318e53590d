package all_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otsiem/otsiem/ingest/decode"
	_ "github.com/otsiem/otsiem/ingest/decode/all"
	"github.com/otsiem/otsiem/ingest/decode/decodetest"
)

// TestDetectionAcrossVendors runs every vendor's golden cases through the
// full registry: detection by content must pick the same decoder as when
// that decoder is alone, so the events equal the golden ones.
func TestDetectionAcrossVendors(t *testing.T) {
	logs, _ := filepath.Glob("../*/testdata/*.log")
	raw, _ := filepath.Glob("../testdata/*.log")
	logs = append(logs, raw...)
	if len(logs) < 5 {
		t.Fatalf("found only %d golden cases", len(logs))
	}
	p := &decode.Parser{Site: decodetest.Site}
	for _, path := range logs {
		lines, err := decodetest.ReadLog(path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(strings.TrimSuffix(path, ".log") + ".golden.jsonl")
		if err != nil {
			t.Fatal(err)
		}
		decodetest.Compare(t, path, lines, decodetest.Encode(p, lines), want)
	}
}

func TestAllRegistered(t *testing.T) {
	got := strings.Join(decode.Default.Names(), ",")
	for _, name := range []string{"asa", "diode", "fortigate", "panos", "raw", "suricata", "zeek"} {
		if !strings.Contains(got, name) {
			t.Errorf("%s not registered: %s", name, got)
		}
	}
}
