package zeek_test

import (
	"testing"

	"github.com/otsiem/otsiem/ingest/decode/decodetest"
	"github.com/otsiem/otsiem/ingest/decode/zeek"
)

func TestGolden(t *testing.T) { decodetest.Golden(t, zeek.Decoder{}) }

func FuzzDecode(f *testing.F) { decodetest.Fuzz(f, zeek.Decoder{}) }

func BenchmarkDecode(b *testing.B) {
	decodetest.Bench(b, zeek.Decoder{}, "testdata/bench.txt")
}
