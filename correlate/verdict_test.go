package correlate

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/otsiem/otsiem/ingest/event"
)

// TestEveryTwoEndpointEventGetsOneVerdict is the property test: random
// events over the refinery (assets, zone networks, unknown addresses, every
// action, every device, with and without ports and DPI) get exactly one
// verdict from the set when they name two endpoints, none otherwise, and a
// reason exactly when the policy forbids the flow (every verdict but
// allowed and false_block).
func TestEveryTwoEndpointEventGetsOneVerdict(t *testing.T) {
	m := refinery(t)
	r := rand.New(rand.NewPCG(1, 2))
	var addrs []netip.Addr
	for _, a := range m.Assets() {
		addrs = append(addrs, a.Addresses...)
	}
	for _, s := range []string{"10.10.9.9", "10.20.200.1", "10.30.99.9", "172.16.1.250", "10.100.3.3", "192.0.2.1", "fd00:30::7", "8.8.8.8"} {
		addrs = append(addrs, netip.MustParseAddr(s))
	}
	devices := []string{"", "isa3000-c1", "fgr-c2", "pa-c3", "ids-z2", "ids-z3", "dmz-dd-01", "unknown-fw"}
	actions := []event.Action{"", event.ActionAllow, event.ActionDeny, event.ActionDrop, event.ActionReset, event.ActionAlert, event.ActionClose, event.ActionUnknown}
	apps := []string{"", "modbus", "dnp3", "opcua", "https", "rdp", "s7", "pi", "http"}
	times := []time.Time{{}, time.Date(2026, 4, 15, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	for i := 0; i < 200_000; i++ {
		ev := event.Event{Device: devices[r.IntN(len(devices))], Action: actions[r.IntN(len(actions))],
			AppProtocol: apps[r.IntN(len(apps))], Time: times[r.IntN(len(times))]}
		if r.IntN(10) > 0 {
			ev.SrcIP = addrs[r.IntN(len(addrs))]
		}
		if r.IntN(10) > 0 {
			ev.DstIP = addrs[r.IntN(len(addrs))]
		}
		if r.IntN(4) > 0 {
			ev.DstPort = event.Some(uint16([]int{22, 102, 443, 502, 3389, 4840, 5450, 20000, r.IntN(65536)}[r.IntN(9)]))
			ev.Transport = []string{"", "tcp", "udp"}[r.IntN(3)]
		}
		if r.IntN(3) == 0 {
			ev.FunctionCode = event.Some(int32(r.IntN(30)))
		}
		if r.IntN(5) == 0 {
			ev.DeviceIP = addrs[r.IntN(len(addrs))]
		}
		j := Judge(m, &ev)
		two := ev.SrcIP.IsValid() && ev.DstIP.IsValid()
		switch {
		case !two && j.Verdict != None:
			t.Fatalf("verdict %s for an event without two endpoints: %+v", j.Verdict, ev)
		case two && !slices.Contains(Verdicts, j.Verdict):
			t.Fatalf("no verdict (%q) for %+v", j.Verdict, ev)
		case two && (j.Verdict == Allowed || j.Verdict == FalseBlock) != (j.Reason == ""):
			t.Fatalf("verdict %s with reason %q for %+v", j.Verdict, j.Reason, ev)
		}
	}
}

func TestObserve(t *testing.T) {
	for a, want := range map[event.Action]Observation{
		event.ActionAllow: Permitted, event.ActionClose: Permitted, event.ActionDeny: Denied, event.ActionDrop: Denied,
		event.ActionReset: Denied, event.ActionAlert: Seen, event.ActionUnknown: Seen, "": Seen,
	} {
		if got := Observe(a); got != want {
			t.Errorf("Observe(%q) = %v, want %v", a, got, want)
		}
	}
}

func TestDeviceByAddressWhenNoHostname(t *testing.T) {
	m := refinery(t)
	ev := event.Event{DeviceIP: netip.MustParseAddr("10.30.1.1"), Action: event.ActionAllow,
		SrcIP: netip.MustParseAddr("10.30.1.52"), DstIP: netip.MustParseAddr("10.20.1.12"), Transport: "tcp", DstPort: event.Some[uint16](102)}
	if j := Judge(m, &ev); j.Verdict != PolicyDrift || j.Device == nil || j.Device.Hostname != "isa3000-c1" {
		t.Fatalf("got %s via %v", j.Verdict, j.Device)
	}
}
