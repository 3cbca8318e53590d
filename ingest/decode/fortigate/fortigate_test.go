package fortigate_test

import (
	"testing"

	"github.com/otsiem/otsiem/ingest/decode/decodetest"
	"github.com/otsiem/otsiem/ingest/decode/fortigate"
)

func TestGolden(t *testing.T) { decodetest.Golden(t, fortigate.Decoder{}) }

func FuzzDecode(f *testing.F) { decodetest.Fuzz(f, fortigate.Decoder{}) }

func BenchmarkDecode(b *testing.B) {
	decodetest.Bench(b, fortigate.Decoder{}, "testdata/bench.txt")
}
