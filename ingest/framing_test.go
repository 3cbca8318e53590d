package ingest

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

type gotFrame struct {
	data string
	cut  bool
}

func readAll(t testing.TB, r io.Reader, limit int, mode Framing) []gotFrame {
	fr := newFrameReader(r, limit, mode)
	var out []gotFrame
	for i := 0; ; i++ {
		f, cut, err := fr.Next()
		if len(f) > 0 {
			if len(f) > limit {
				t.Fatalf("frame of %d bytes over the %d limit", len(f), limit)
			}
			out = append(out, gotFrame{string(f), cut})
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("err %v", err)
			}
			return out
		}
		if i > 1<<20 {
			t.Fatal("no progress")
		}
	}
}

func TestFrameReader(t *testing.T) {
	long := strings.Repeat("x", 40)
	tests := []struct {
		name, in string
		mode     Framing
		want     []gotFrame
	}{
		{"lf", "<13>a\n<13>b\n", FramingAuto, []gotFrame{{"<13>a", false}, {"<13>b", false}}},
		{"crlf and blank lines", "<13>a\r\n\r\n<13>b\r\n", FramingAuto, []gotFrame{{"<13>a", false}, {"<13>b", false}}},
		{"nul", "<13>a\x00<13>b\x00", FramingAuto, []gotFrame{{"<13>a", false}, {"<13>b", false}}},
		{"last without trailer", "<13>a\n<13>b", FramingAuto, []gotFrame{{"<13>a", false}, {"<13>b", false}}},
		{"octet counting", "5 <13>a6 <13>bc", FramingAuto, []gotFrame{{"<13>a", false}, {"<13>bc", false}}},
		{"octet with newlines inside and between", "7 <13>a\nb\n7 <13>c\nd", FramingAuto, []gotFrame{{"<13>a\nb", false}, {"<13>c\nd", false}}},
		{"octet message holding a blank line", "9 <13>a\n\nbc", FramingAuto, []gotFrame{{"<13>a\n\nbc", false}}},
		{"digits then no space is not octet", "2024-01-01 x\n12 y\n", FramingAuto, []gotFrame{{"2024-01-01 x", false}, {"12 y", false}}},
		{"forced trailer framing", "5 <13>a\n", FramingNonTransparent, []gotFrame{{"5 <13>a", false}}},
		{"lf oversize cut, rest skipped", "<1>" + long + "\n<13>ok\n", FramingAuto, []gotFrame{{("<1>" + long)[:32], true}, {"<13>ok", false}}},
		{"octet oversize cut, rest skipped", "43 <1>" + long + "6 <13>ok", FramingAuto, []gotFrame{{("<1>" + long)[:32], true}, {"<13>ok", false}}},
		{"octet stream ends early", "10 <13>a", FramingAuto, []gotFrame{{"<13>a", true}}},
		{"exactly the limit", "<13>" + long[:28] + "\n", FramingAuto, []gotFrame{{"<13>" + long[:28], false}}},
	}
	for _, tt := range tests {
		for _, slow := range []bool{false, true} {
			var r io.Reader = strings.NewReader(tt.in)
			if slow {
				r = iotest.OneByteReader(r)
			}
			got := readAll(t, r, 32, tt.mode)
			if len(got) != len(tt.want) {
				t.Errorf("%s (slow %v): got %+v, want %+v", tt.name, slow, got, tt.want)
				continue
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("%s (slow %v) frame %d: got %+v, want %+v", tt.name, slow, i, got[i], tt.want[i])
				}
			}
		}
	}
}

func TestFrameReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	fr := newFrameReader(io.MultiReader(strings.NewReader("<13>a\n<13>partial"), iotest.ErrReader(boom)), 64, FramingAuto)
	var frames []string
	var err error
	for err == nil {
		var f []byte
		f, _, err = fr.Next()
		if len(f) > 0 {
			frames = append(frames, string(f))
		}
	}
	if !errors.Is(err, boom) || strings.Join(frames, "|") != "<13>a|<13>partial" {
		t.Errorf("frames %q err %v", frames, err)
	}
}

// FuzzFrameReader: any byte stream, in any framing, splits without panics
// into frames no longer than the limit and no more bytes than it holds.
func FuzzFrameReader(f *testing.F) {
	f.Add([]byte("5 <13>a6 <13>bc"), uint8(0))
	f.Add([]byte("<13>a\r\n<13>b\x00"), uint8(1))
	f.Add([]byte("999999999 x"), uint8(2))
	f.Fuzz(func(t *testing.T, in []byte, mode uint8) {
		m := []Framing{FramingAuto, FramingNonTransparent, FramingOctetCounting}[mode%3]
		total := 0
		for _, fr := range readAll(t, bytes.NewReader(in), 16, m) {
			total += len(fr.data)
		}
		if total > len(in) {
			t.Fatalf("%d frame bytes from %d input bytes", total, len(in))
		}
	})
}
