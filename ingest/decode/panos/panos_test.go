package panos_test

import (
	"testing"

	"github.com/otsiem/otsiem/ingest/decode/decodetest"
	"github.com/otsiem/otsiem/ingest/decode/panos"
)

func TestGolden(t *testing.T) { decodetest.Golden(t, panos.Decoder{}) }

func FuzzDecode(f *testing.F) { decodetest.Fuzz(f, panos.Decoder{}) }

func BenchmarkDecode(b *testing.B) {
	decodetest.Bench(b, panos.Decoder{}, "testdata/bench.txt")
}
