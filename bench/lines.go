package bench

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/otsiem/otsiem/simulate"
)

// asaDevice is the simulator's Cisco ASA (the C1 firewall isa3000-c1).
const asaDevice = "isa3000-c1"

// otherEvery keeps one in this many of the simulator's lines from the
// other devices (FortiGate, PAN-OS, Suricata, Zeek, the diode): about seven
// in ten of the set are ASA lines, as on a plant whose boundary firewall
// logs every connection it builds and tears down.
const otherEvery = 4

// Lines is a deterministic set of syslog lines in the refinery's address
// plan (examples/refinery), framed once for TCP: octet counting (RFC 6587
// §3.4.1), which rsyslog's imtcp and otsiem's collectors both read.
type Lines struct {
	N        int            // lines
	ByDevice map[string]int // lines per reporting device
	Framed   []byte         // the whole set, octet-counted, ready to send
}

// GenerateLines returns n lines from the refinery simulator with seed 42,
// every scenario injected, event time starting at start: mostly Cisco ASA
// (isa3000-c1), one in otherEvery of the other vendors' lines kept. The
// same n and start give the same bytes.
func GenerateLines(n int, start time.Time) (*Lines, error) {
	if n <= 0 {
		return nil, fmt.Errorf("bench: %d lines: want at least one", n)
	}
	g, err := simulate.New(simulate.Config{Start: start, Rate: 10_000, Seed: 42, Scenarios: []string{"all"}})
	if err != nil {
		return nil, err
	}
	l := &Lines{ByDevice: map[string]int{}}
	var buf bytes.Buffer
	buf.Grow(n * 300)
	other := 0
	for l.N < n {
		line := g.Next()
		if line.Device != asaDevice {
			if other++; other%otherEvery != 0 {
				continue
			}
		}
		buf.WriteString(strconv.Itoa(len(line.Text)))
		buf.WriteByte(' ')
		buf.WriteString(line.Text)
		l.N++
		l.ByDevice[line.Device]++
	}
	l.Framed = buf.Bytes()
	return l, nil
}
