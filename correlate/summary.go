package correlate

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/rules"
)

// What each verdict finding means, as the start of its summary.
var titles = map[string]string{
	string(Violation):   "Traffic the zone design forbids",
	string(PolicyDrift): "Firewall permitted traffic the conduit forbids (its rules are looser than the design)",
	string(WouldBlock):  "Monitor-mode firewall passed traffic that enforcement would block",
	string(Blocked):     "Firewall blocked traffic the design forbids",
	string(FalseBlock):  "Firewall blocked traffic the conduit allows (enforcement breaks legitimate traffic)",
	string(UnknownZone): "Traffic with an address in no zone (unmanaged asset)",
	TypeWouldFalseBlock: "Monitor-mode firewall would deny traffic the conduit allows once enforcing",
}

var reasonText = map[string]string{
	string(rules.NoConduit):            "no conduit joins these zones (a bypass)",
	string(rules.NotPermitted):         "no rule of the conduit permits this protocol or port",
	string(rules.WrongDirection):       "the conduit permits it only the other way",
	string(rules.FunctionNotPermitted): "the conduit does not permit this function",
	string(rules.AirGap):               "it touches an air-gapped zone",
	string(rules.DiodeReverse):         "it runs against a data diode's direction",
	string(rules.FunctionUnverified):   "the conduit restricts functions and otsiem cannot identify this one (fail closed)",
	string(rules.DiodeBypass):          "only the diode's own tx → rx pair may carry it, one way",
	string(rules.Monitoring):           "declare it on the conduit, or move the device's logging to a path the design has",
	"threat":                           "an IPS stopped a signature match inside traffic the conduit allows",
}

// reasonTitles replace the type's title where the reason says more.
var reasonTitles = map[string]string{
	string(rules.Monitoring):  "Monitoring traffic (otsiem's collection path) crosses a zone boundary no conduit rule documents",
	string(rules.DiodeBypass): "Session around a data diode: the conduit allows this protocol only through the diode",
}

func summary(f *event.Finding, ev *event.Event) string {
	var b strings.Builder
	title := titles[f.Type]
	if t, ok := reasonTitles[f.Reason]; ok {
		title = t + " (" + f.Type + ")"
	}
	b.WriteString(title)
	b.WriteString(": ")
	b.WriteString(endpoint(f.SrcAsset, f.SrcIP, f.SrcZone))
	b.WriteString(" → ")
	b.WriteString(endpoint(f.DstAsset, f.DstIP, f.DstZone))
	b.WriteString(service(f))
	if ev.Function != "" {
		b.WriteString(" function " + ev.Function)
	} else if f.FunctionCode.OK {
		b.WriteString(" function code " + strconv.Itoa(int(f.FunctionCode.V)))
	}
	if r := reasonText[f.Reason]; r != "" {
		b.WriteString("; " + r)
	}
	if f.Conduit != "" {
		b.WriteString(" (conduit " + f.Conduit + ")")
	}
	if f.Device != "" {
		b.WriteString("; reported by " + f.Device)
	}
	b.WriteByte('.')
	return b.String()
}

func endpoint(asset string, a netip.Addr, zone string) string {
	s := a.String()
	if asset != "" {
		s = asset + " " + s
	}
	if zone == "" {
		zone = "no zone"
	}
	return s + " [" + zone + "]"
}

func service(f *event.Finding) string {
	s := ""
	if f.Transport != "" || f.DstPort.OK {
		s = " " + f.Transport
		if f.DstPort.OK {
			if f.Transport != "" {
				s += "/"
			}
			s += strconv.Itoa(int(f.DstPort.V))
		}
	}
	if f.AppProtocol != "" {
		s += " (" + f.AppProtocol + ")"
	}
	return s
}

func scanSummary(f *event.Finding) string {
	p, _ := f.Attr("distinct_ports")
	h, _ := f.Attr("distinct_hosts")
	w, _ := f.Attr("window")
	into := "other zones"
	if f.DstZone != "" {
		into = f.DstZone
	}
	s := "Scan from " + endpoint(f.SrcAsset, f.SrcIP, f.SrcZone) + ": " + counted(p, "distinct port") + " and " +
		counted(h, "distinct host") + " in " + into + " within " + w
	if probes := scanProbes(f); probes != "" {
		s += " (probes: " + probes + ")"
	}
	return s + "; find out who runs it."
}

// counted is a count and its noun, singular for one: "1 distinct port".
func counted(n, noun string) string {
	if n == "1" {
		return n + " " + noun
	}
	return n + " " + noun + "s"
}

func diodeSummary(f *event.Finding, hb time.Duration) string {
	side, _ := f.Attr("side")
	what := "Data diode " + f.DiodeID + " " + side + " side "
	switch {
	case f.Type == TypeDiodeDown && f.Reason == "missed_heartbeats":
		return what + "silent: heartbeats (every " + hb.String() + ") stopped; replication across " + f.Conduit + " is likely broken."
	case f.Type == TypeDiodeDown:
		status, _ := f.Attr("last_status")
		return what + "reports status " + status + "; replication across " + f.Conduit + " has stopped or cannot be trusted."
	case f.Reason == "stuck_starting":
		timeout, _ := f.Attr("timeout")
		return what + "stuck starting for more than " + timeout + "; replication across " + f.Conduit + " has not resumed."
	case f.Reason == "lag":
		lag, _ := f.Attr("max_lag_ms")
		return what + "degraded: replication lag up to " + lag + " ms; historian data across " + f.Conduit + " is late."
	default:
		return what + "reports itself degraded; historian replication across " + f.Conduit + " is lagging."
	}
}

func rejectedSummary(f *event.Finding, md *rules.Diode) string {
	side, _ := f.Attr("side")
	from := f.Device
	if f.SrcIP.IsValid() {
		from += " (" + f.SrcIP.String() + ")"
	}
	s := "Diode health report for " + f.DiodeID
	if side != "" {
		s += " " + side + " side"
	}
	s += " from " + from + " not taken: "
	switch f.Reason {
	case "undeclared_diode":
		return s + "the model declares no such diode; a misnamed diode, or a forged report."
	case "no_side":
		return s + "it names no side and its sender is neither declared side's address."
	case "second_reporter":
		return s + "another reporter already speaks for that side (a script labelling the wrong side?)."
	}
	want := ""
	if md != nil {
		want = md.TX.String()
		if side == "rx" {
			want = md.RX.String()
		}
	}
	return s + "its sender is not the side's declared address " + want + " (a forged report, or a relay the model does not declare)."
}

func clockSummary(f *event.Finding, dev string) string {
	if dev == "" {
		dev = "(unnamed)"
	}
	ahead, _ := f.Attr("ahead_seconds")
	d := time.Duration(parseSeconds(ahead) * float64(time.Second))
	return "Clock of device " + dev + " runs " + d.String() + " ahead of otsiem's time (time zone or NTP misconfigured): " +
		"its events are judged but do not move otsiem's time; fix its clock so that its logs line up."
}

func alertSummary(f *event.Finding, ev *event.Event) string {
	what := "IDS/IPS alert"
	if f.Reason == "prevented" {
		what = "IPS prevented"
	}
	sig := ev.Signature
	if ev.SignatureID != "" {
		sig += " (" + ev.SignatureID + ")"
	}
	s := what + " " + sig + ": " + endpoint(f.SrcAsset, f.SrcIP, f.SrcZone) + " → " + endpoint(f.DstAsset, f.DstIP, f.DstZone) + service(f)
	if f.Conduit != "" {
		s += " (conduit " + f.Conduit + ")"
	}
	if f.Device != "" {
		s += "; reported by " + f.Device
	}
	return s + "."
}
