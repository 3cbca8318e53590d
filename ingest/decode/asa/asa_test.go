package asa_test

import (
	"testing"

	"github.com/otsiem/otsiem/ingest/decode/asa"
	"github.com/otsiem/otsiem/ingest/decode/decodetest"
)

func TestGolden(t *testing.T) { decodetest.Golden(t, asa.Decoder{}) }

func FuzzDecode(f *testing.F) { decodetest.Fuzz(f, asa.Decoder{}) }

// BenchmarkDecode measures header + decode + id of ASA 106023/106100 lines.
func BenchmarkDecode(b *testing.B) {
	decodetest.Bench(b, asa.Decoder{}, "testdata/bench_asa.txt")
}
