package suricata_test

import (
	"testing"

	"github.com/otsiem/otsiem/ingest/decode/decodetest"
	"github.com/otsiem/otsiem/ingest/decode/suricata"
)

func TestGolden(t *testing.T) { decodetest.Golden(t, suricata.Decoder{}) }

func FuzzDecode(f *testing.F) { decodetest.Fuzz(f, suricata.Decoder{}) }

func BenchmarkDecode(b *testing.B) {
	decodetest.Bench(b, suricata.Decoder{}, "testdata/bench.txt")
}
