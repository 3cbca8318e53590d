package diode_test

import (
	"testing"

	"github.com/otsiem/otsiem/ingest/decode/decodetest"
	"github.com/otsiem/otsiem/ingest/decode/diode"
)

func TestGolden(t *testing.T) { decodetest.Golden(t, diode.Decoder{}) }

func FuzzDecode(f *testing.F) { decodetest.Fuzz(f, diode.Decoder{}) }

func BenchmarkDecode(b *testing.B) {
	decodetest.Bench(b, diode.Decoder{}, "testdata/bench.txt")
}
