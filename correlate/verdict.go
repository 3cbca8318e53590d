// Package correlate judges every event against the plant's declared zone
// and conduit model (a verdict per event), and keeps the state that turns
// verdicts and diode health reports into findings: folded repeats, scans,
// diode down or degraded, new communication pairs. Engine is the stateful
// core, driven by event time so a replay gives the same findings; Service
// runs it against NATS JetStream.
package correlate

import (
	"net/netip"

	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/rules"
)

// Verdict is the one judgement an event with two endpoints gets.
type Verdict string

// The verdicts, typed from event's vocabulary. See Judge for the table.
const (
	None        Verdict = "" // the event names fewer than two endpoints
	Allowed     Verdict = event.VerdictAllowed
	Violation   Verdict = event.VerdictViolation   // seen by a sensor or a device not on the path; policy forbids
	PolicyDrift Verdict = event.VerdictPolicyDrift // an enforcing firewall permitted what the policy forbids
	WouldBlock  Verdict = event.VerdictWouldBlock  // a monitor-mode firewall saw what the policy forbids
	Blocked     Verdict = event.VerdictBlocked     // a firewall denied what the policy forbids
	FalseBlock  Verdict = event.VerdictFalseBlock  // a firewall denied what the policy allows
	IntraZone   Verdict = event.VerdictIntraZone
	UnknownZone Verdict = event.VerdictUnknownZone
)

// Verdicts lists every verdict, for metrics and tests.
var Verdicts = []Verdict{Allowed, Violation, PolicyDrift, WouldBlock, Blocked, FalseBlock, IntraZone, UnknownZone}

// Observation is what the reporting device says happened to the traffic.
type Observation uint8

// Observations, from the event's action.
const (
	// Seen: a sensor observation, an alert, or an action otsiem cannot
	// read as permit or deny (alert, unknown, none).
	Seen Observation = iota
	// Permitted: allow, or close (a connection ending was a connection).
	Permitted
	// Denied: deny, drop, reset.
	Denied
)

// Observe maps an event action.
func Observe(a event.Action) Observation {
	switch a {
	case event.ActionAllow, event.ActionClose:
		return Permitted
	case event.ActionDeny, event.ActionDrop, event.ActionReset:
		return Denied
	}
	return Seen
}

// Judgement is the verdict on one event and what it was based on.
type Judgement struct {
	Verdict  Verdict
	Reason   rules.Reason // empty for allowed
	Decision rules.Decision
	Device   *rules.Device // the reporting device, nil when not in the model
	Mode     rules.Mode    // the device's mode at the event's time, "" when none applies
	// OnPath is true when Device is a firewall on the path: it enforces the
	// conduit, or (for a path with no conduit) a conduit of either zone.
	OnPath bool
	Seen   Observation
	// DeniedInMonitor marks a monitor-mode firewall's deny of traffic the
	// policy allows: nothing was blocked, but enforcing the firewall's
	// rules would break legitimate traffic (see Engine's would_false_block).
	DeniedInMonitor bool
}

// Flow returns the rules.Flow an event describes: a DPI record (kind dpi)
// is one transaction, so it performs a function even when it names none.
func Flow(ev *event.Event) rules.Flow {
	f := rules.Flow{Src: ev.SrcIP, Dst: ev.DstIP, Transport: ev.Transport, App: ev.AppProtocol,
		FunctionCode: -1, Function: ev.Function, Transaction: ev.Kind == event.KindDPI}
	if ev.DstPort.OK {
		f.Port = ev.DstPort.V
	}
	if ev.FunctionCode.OK {
		f.FunctionCode = int(ev.FunctionCode.V)
	}
	return f
}

// ReasonThreat is the reason of a blocked verdict on traffic the policy
// allows that an IPS stopped for a signature match: a blocked attack, not
// a false block.
const ReasonThreat rules.Reason = "threat"

// Judge gives an event its verdict. Events without both a source and a
// destination address get None. Otherwise, after intra_zone and
// unknown_zone (which the model decides alone):
//
//	observed \ declared policy                 allows        forbids
//	permitted by an on-path enforce firewall   allowed       policy_drift
//	permitted or denied, on-path monitor mode  allowed       would_block
//	seen by a sensor, an alert, an off-path
//	  or unknown device, an unknown action,
//	  a firewall before its mode's since date  allowed       violation
//	denied by a firewall not in monitor mode   false_block   blocked
//
// The reporting device is found by hostname, then by sender address. A
// firewall's mode applies from its Since date; before it the mode is
// unknown and its permits and denies alike are observations. A deny from
// a device in monitor mode blocked nothing (PAN-OS on a TAP or
// virtual-wire deployment logs the action its rule names, deny included,
// and forwards the packet anyway), so it is judged like a permit by that
// device. A deny from any other firewall, on the path or not, or from a
// device not in the model, stopped the traffic; a passive sensor's "drop"
// stopped nothing.
//
// Two denies are not judgements of the flow: an IPS's threat action (an
// alert with a signature whose action is deny, drop or reset) inside
// traffic the policy allows is blocked (reason threat), and a denied
// packet of a flow the firewall no longer tracked (attr mid_flow, e.g. ASA
// "no connection") is allowed when the policy allows the flow and blocked
// when it forbids it, never a false block.
func Judge(m *rules.Model, ev *event.Event) Judgement {
	var j Judgement
	if !ev.SrcIP.IsValid() || !ev.DstIP.IsValid() {
		ResolveNames(m, ev)
		if !ev.SrcIP.IsValid() || !ev.DstIP.IsValid() {
			return j
		}
	}
	if ev.Device != "" {
		j.Device = m.Device(ev.Device)
	}
	if j.Device == nil && ev.DeviceIP.IsValid() {
		j.Device = m.DeviceByAddr(ev.DeviceIP)
	}
	f := Flow(ev)
	f.Reporter = j.Device
	j.Decision = m.Evaluate(f)
	d := &j.Decision
	j.Seen = Observe(ev.Action)
	beforeSince := false
	if dev := j.Device; dev != nil && dev.Role == rules.RoleFirewall {
		if dev.Since.IsZero() || !ev.Time.Before(dev.Since) {
			j.Mode = dev.Mode
		} else {
			beforeSince = true
		}
		j.OnPath = onPath(dev, d)
	}
	switch d.Reason {
	case rules.IntraZone:
		j.Verdict, j.Reason = IntraZone, rules.IntraZone
		return j
	case rules.UnknownZone:
		j.Verdict, j.Reason = UnknownZone, rules.UnknownZone
		return j
	}
	if !d.Allowed {
		j.Reason = d.Reason
	}
	monitor := j.Mode == rules.ModeMonitor
	// Sensors and diodes cannot block; a device otsiem does not know is
	// taken at its word; a firewall before its mode took effect is only
	// observed.
	canBlock := (j.Device == nil || j.Device.Role == rules.RoleFirewall) && !beforeSince
	_, midFlow := ev.Attr(event.AttrMidFlow)
	threat := ev.Kind == event.KindAlert && ev.Signature != ""
	switch {
	case j.Seen == Denied && !monitor && canBlock && midFlow:
		j.Verdict = pick(d.Allowed, Allowed, Blocked)
	case j.Seen == Denied && !monitor && canBlock && d.Allowed && threat:
		j.Verdict, j.Reason = Blocked, ReasonThreat
	case j.Seen == Denied && !monitor && canBlock:
		j.Verdict = pick(d.Allowed, FalseBlock, Blocked)
	case j.Seen != Seen && j.OnPath && monitor:
		j.Verdict = pick(d.Allowed, Allowed, WouldBlock)
		// Enforcing would stop an attack, or a stray packet: no
		// legitimate traffic would break.
		j.DeniedInMonitor = j.Seen == Denied && d.Allowed && !midFlow && !threat
	case j.Seen == Permitted && j.OnPath && j.Mode == rules.ModeEnforce:
		j.Verdict = pick(d.Allowed, Allowed, PolicyDrift)
	default:
		j.Verdict = pick(d.Allowed, Allowed, Violation)
	}
	return j
}

func pick(allowed bool, yes, no Verdict) Verdict {
	if allowed {
		return yes
	}
	return no
}

// onPath reports whether a firewall stands on a flow's path: it enforces
// the conduit the flow crosses, or, when no conduit joins the zones, a
// conduit of the source or destination zone (the firewall at that zone's
// edge saw a bypass).
func onPath(dev *rules.Device, d *rules.Decision) bool {
	if d.Conduit != nil {
		return dev.OnConduit(d.Conduit)
	}
	for _, c := range dev.Conduits {
		for _, z := range c.Zones {
			if z == d.SrcZone || z == d.DstZone {
				return true
			}
		}
	}
	return false
}

// ResolveNames gives an endpoint a device printed by name (attrs src_host,
// dst_host: Cisco's "names" and object display) the address of the model's
// asset of that name, so the event can be judged; the name stays. An
// endpoint whose name is no asset stays without an address and the event
// without a verdict. Only events missing an address are looked at.
func ResolveNames(m *rules.Model, ev *event.Event) {
	resolve := func(addr *netip.Addr, key string) {
		if addr.IsValid() {
			return
		}
		if name, ok := ev.Attr(key); ok {
			if a := m.AssetNamed(name); a != nil && len(a.Addresses) > 0 {
				*addr = a.Addresses[0]
			}
		}
	}
	resolve(&ev.SrcIP, event.AttrSrcHost)
	resolve(&ev.DstIP, event.AttrDstHost)
}

// Enrich judges an event and writes the verdict into it (src_zone,
// dst_zone, conduit, verdict, reason).
//
// Enrich judges the event as it is; callers that see a device's records in
// order orient ASA teardowns by their builds first (Connections.Orient).
func Enrich(m *rules.Model, ev *event.Event) Judgement {
	j := Judge(m, ev)
	Apply(&j, ev)
	return j
}

// Apply writes a judgement into its event.
func Apply(j *Judgement, ev *event.Event) {
	ev.SrcZone, ev.DstZone, ev.Conduit = "", "", ""
	ev.Verdict, ev.Reason = string(j.Verdict), string(j.Reason)
	if j.Verdict == None {
		return
	}
	d := &j.Decision
	if d.SrcZone != nil {
		ev.SrcZone = d.SrcZone.ID
	}
	if d.DstZone != nil {
		ev.DstZone = d.DstZone.ID
	}
	if d.Conduit != nil {
		ev.Conduit = d.Conduit.ID
	}
}
