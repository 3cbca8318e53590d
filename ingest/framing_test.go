package ingest

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

type gotFrame struct {
	data string
	kind frameKind
}

// Short names for the table.
const (
	whole = frameWhole
	cut   = frameCut
	part  = frameIncomplete
	bad   = frameBad
)

// readAll splits r into frames, and also returns the bytes discarded.
func readAll(t testing.TB, r io.Reader, limit int, mode Framing) ([]gotFrame, int64) {
	fr := newFrameReader(r, limit, mode)
	var out []gotFrame
	for i := 0; ; i++ {
		f, kind, err := fr.Next()
		if len(f) > 0 {
			if len(f) > limit {
				t.Fatalf("frame of %d bytes over the %d limit", len(f), limit)
			}
			out = append(out, gotFrame{string(f), kind})
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("err %v", err)
			}
			return out, fr.discarded
		}
		if i > 1<<20 {
			t.Fatal("no progress")
		}
	}
}

func TestFrameReader(t *testing.T) {
	long := strings.Repeat("x", 40)
	tests := []struct {
		name, in  string
		mode      Framing
		want      []gotFrame
		discarded int64
	}{
		{"lf", "<13>a\n<13>b\n", FramingAuto, []gotFrame{{"<13>a", whole}, {"<13>b", whole}}, 0},
		{"crlf and blank lines", "<13>a\r\n\r\n<13>b\r\n", FramingAuto, []gotFrame{{"<13>a", whole}, {"<13>b", whole}}, 0},
		{"nul", "<13>a\x00<13>b\x00", FramingAuto, []gotFrame{{"<13>a", whole}, {"<13>b", whole}}, 0},
		{"last without trailer", "<13>a\n<13>b", FramingAuto, []gotFrame{{"<13>a", whole}, {"<13>b", whole}}, 0},
		{"octet counting", "5 <13>a6 <13>bc", FramingAuto, []gotFrame{{"<13>a", whole}, {"<13>bc", whole}}, 0},
		{"octet with newlines inside and between", "7 <13>a\nb\n7 <13>c\nd", FramingAuto, []gotFrame{{"<13>a\nb", whole}, {"<13>c\nd", whole}}, 0},
		{"octet message holding a blank line", "9 <13>a\n\nbc", FramingAuto, []gotFrame{{"<13>a\n\nbc", whole}}, 0},
		{"digits then no space is not octet", "2024-01-01 x\n12 y\n", FramingAuto, []gotFrame{{"2024-01-01 x", whole}, {"12 y", whole}}, 0},
		{"forced trailer framing", "5 <13>a\n", FramingNonTransparent, []gotFrame{{"5 <13>a", whole}}, 0},
		{"lf oversize cut, rest skipped", "<1>" + long + "\n<13>ok\n", FramingAuto, []gotFrame{{("<1>" + long)[:32], cut}, {"<13>ok", whole}}, 11},
		{"octet oversize cut, rest skipped", "43 <1>" + long + "6 <13>ok", FramingAuto, []gotFrame{{("43 <1>" + long)[:32], cut}, {"<13>ok", whole}}, 14},
		{"octet stream ends early", "10 <13>a", FramingAuto, []gotFrame{{"<13>a", part}}, 0},
		{"exactly the limit", "<13>" + long[:28] + "\n", FramingAuto, []gotFrame{{"<13>" + long[:28], whole}}, 0},
		// A count no message can have: that prefix is one cut frame, and
		// every frame after it is read.
		{"lying count first", "9999999999 5 <13>a6 <13>bc", FramingAuto, []gotFrame{{"9999999999 ", cut}, {"<13>a", whole}, {"<13>bc", whole}}, 0},
		{"lying count between", "5 <13>a99999 xyz6 <13>bc", FramingAuto, []gotFrame{{"<13>a", whole}, {"99999 xyz", cut}, {"<13>bc", whole}}, 0},
		{"lying count in a forced octet listener", "99 5 <13>a", FramingOctetCounting, []gotFrame{{"99 ", cut}, {"<13>a", whole}}, 0},
		// A count that fits but is wrong swallows what it covers; the
		// garbage after it is one bad frame, then the next frame is read.
		{"not a number after frames", "5 <13>ajunk!6 <13>bc", FramingAuto, []gotFrame{{"<13>a", whole}, {"junk!", bad}, {"<13>bc", whole}}, 0},
		{"not a number in a forced octet listener", "<13>x\n5 <13>a", FramingOctetCounting, []gotFrame{{"<13>x\n", bad}, {"<13>a", whole}}, 0},
		// A digit run before a frame: the boundary is where the announced
		// frame is followed by another.
		{"digits run into the next count", "5 <13>aport 805 <13>b6 <13>cd", FramingAuto, []gotFrame{{"<13>a", whole}, {"port 80", bad}, {"<13>b", whole}, {"<13>cd", whole}}, 0},
		{"garbage longer than the limit", "5 <13>a" + long + long + "5 <13>b", FramingAuto, []gotFrame{{"<13>a", whole}, {(long + long)[:32], bad}, {"<13>b", whole}}, 48},
		{"lying count at the end of the stream", "5 <13>a99999999 zz", FramingAuto, []gotFrame{{"<13>a", whole}, {"99999999 zz", cut}}, 0},
	}
	for _, tt := range tests {
		for _, slow := range []bool{false, true} {
			var r io.Reader = strings.NewReader(tt.in)
			if slow {
				r = iotest.OneByteReader(r)
			}
			got, discarded := readAll(t, r, 32, tt.mode)
			if discarded != tt.discarded {
				t.Errorf("%s (slow %v): %d bytes discarded, want %d", tt.name, slow, discarded, tt.discarded)
			}
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
// into frames no longer than the limit; frame bytes and discarded bytes
// never add up to more than the input.
func FuzzFrameReader(f *testing.F) {
	f.Add([]byte("5 <13>a6 <13>bc"), uint8(0))
	f.Add([]byte("<13>a\r\n<13>b\x00"), uint8(1))
	f.Add([]byte("999999999 x"), uint8(2))
	f.Add([]byte("5 <13>ajunk!6 <13>bc"), uint8(0))
	f.Add([]byte("9999999999 5 <13>a6 <13>bc"), uint8(2))
	f.Fuzz(func(t *testing.T, in []byte, mode uint8) {
		m := []Framing{FramingAuto, FramingNonTransparent, FramingOctetCounting}[mode%3]
		frames, discarded := readAll(t, bytes.NewReader(in), 16, m)
		total := discarded
		for _, fr := range frames {
			total += int64(len(fr.data))
		}
		if total > int64(len(in)) {
			t.Fatalf("%d frame and discarded bytes from %d input bytes", total, len(in))
		}
	})
}

// TestFrameReaderResyncAccounting replays the probe: a lying octet
// count, then 10,000 framed lines. Every line after the lie is read.
func TestFrameReaderResyncAccounting(t *testing.T) {
	var in strings.Builder
	in.WriteString("9999999999 ")
	for i := range 10000 {
		msg := "<134>%ASA-6-302013: line " + strconv.Itoa(i)
		in.WriteString(strconv.Itoa(len(msg)) + " " + msg)
	}
	frames, discarded := readAll(t, strings.NewReader(in.String()), 64<<10, FramingAuto)
	if len(frames) != 10001 || frames[0].kind != cut || discarded != 0 {
		t.Fatalf("%d frames (first %+v), %d bytes discarded; want the cut prefix and 10000 lines", len(frames), frames[0], discarded)
	}
	for i, f := range frames[1:] {
		if want := "<134>%ASA-6-302013: line " + strconv.Itoa(i); f.data != want || f.kind != whole {
			t.Fatalf("frame %d: %+v, want %q", i+1, f, want)
		}
	}
}
