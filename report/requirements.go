package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/rules"
)

// requirements judges the IEC 62443-3-3 system requirements a log-based
// tool has evidence for. Each says what was observed, a status, and the
// exceptions; the README says what each cannot prove.
func requirements(m *rules.Model, r *Report, paths []Path, byDevice []DeviceEvents, opts Options) []Requirement {
	return []Requirement{
		sr51(r, paths), sr52(paths), sr52re1(m, r, paths, byDevice), sr62(r), sr211(r, opts), sr113(m, paths),
	}
}

// status is NoEvidence without evidence, else Exceptions when there are any.
func status(evidence bool, exceptions []string) string {
	switch {
	case !evidence:
		return NoEvidence
	case len(exceptions) > 0:
		return Exceptions
	}
	return Supported
}

// SR 5.1 Network segmentation: cross-zone traffic runs on declared
// conduits, and air-gapped zones have no network contact at all.
func sr51(r *Report, paths []Path) Requirement {
	var cross, onConduit uint64
	for _, p := range paths {
		cross += p.Events
		if p.Conduit != "" {
			onConduit += p.Events
		}
	}
	ex := []string{}
	through := 0
	for _, c := range r.Evidence.UndeclaredPaths {
		if c.PolicyBreaking {
			through++
			ex = append(ex, "undeclared path "+contactLine(c))
		}
	}
	for _, c := range r.Evidence.AirGapContacts {
		ex = append(ex, "air-gap contact "+contactLine(c))
	}
	obs := fmt.Sprintf("%s cross-zone events, %s on declared conduits; %s (%d got through); %s",
		num(cross), pct(onConduit, cross), plural(len(r.Evidence.UndeclaredPaths), "undeclared path"), through,
		plural(len(r.Evidence.AirGapContacts), "air-gap contact"))
	return Requirement{ID: "SR 5.1", Title: "Network segmentation", Observed: obs,
		Status: status(cross > 0 || len(r.Evidence.AirGapContacts) > 0, ex), Exceptions: ex}
}

// SR 5.2 Zone boundary protection: what crossed a conduit kept to its
// declared protocols, directions and functions.
func sr52(paths []Path) Requirement {
	o := tally(paths, func(p Path) bool { return p.Conduit != "" })
	obs := fmt.Sprintf("%s events on declared conduits: %s allowed, %s blocked at the boundary, %s policy-breaking",
		num(o.total), num(o.allowed), num(o.blocked), num(o.breaking))
	return Requirement{ID: "SR 5.2", Title: "Zone boundary protection", Observed: obs, Status: status(o.total > 0, o.exceptions),
		Exceptions: o.exceptions}
}

// outcomes tallies path outcomes: all events, allowed, blocked, and the
// policy-breaking ones, each path of them an exception line.
type outcomes struct {
	total, allowed, blocked, breaking uint64
	exceptions                        []string
}

// tally adds up the paths keep selects.
func tally(paths []Path, keep func(Path) bool) outcomes {
	o := outcomes{exceptions: []string{}}
	for _, p := range paths {
		if !keep(p) {
			continue
		}
		o.total += p.Events
		switch {
		case p.Verdict == "allowed":
			o.allowed += p.Events
		case p.Verdict == "blocked":
			o.blocked += p.Events
		case p.PolicyBreaking:
			o.breaking += p.Events
			o.exceptions = append(o.exceptions, pathLine(p))
		}
	}
	return o
}

// SR 5.2 RE 1 Deny by default, allow by exception: the firewalls denied
// what the design forbids; an enforcing firewall permitting it (policy
// drift) or a monitor-mode one letting it through (would block) is an
// exception.
func sr52re1(m *rules.Model, r *Report, paths []Path, byDevice []DeviceEvents) Requirement {
	var fwEvents, drift, would uint64
	for _, d := range byDevice {
		if dev := m.Device(d.Device); dev != nil && dev.Role == rules.RoleFirewall {
			fwEvents += d.Events
		}
	}
	ex := []string{}
	for _, p := range paths {
		switch p.Verdict {
		case event.VerdictPolicyDrift:
			drift += p.Events
			ex = append(ex, "permitted by an enforcing firewall: "+pathLine(p))
		case event.VerdictWouldBlock:
			would += p.Events
			ex = append(ex, "let through in monitor mode: "+pathLine(p))
		}
	}
	pr := r.Validation.Prohibited
	obs := fmt.Sprintf("firewalls reported %s cross-zone events and denied %s of the %s the design forbids; %s permitted against the design by an enforcing firewall (policy drift), %s let through in monitor mode (would block)",
		num(fwEvents), num(pr.Blocked), num(pr.Attempts), num(drift), num(would))
	return Requirement{ID: "SR 5.2 RE 1", Title: "Deny by default, allow by exception", Observed: obs,
		Status: status(fwEvents > 0, ex), Exceptions: ex}
}

// SR 6.2 Continuous monitoring: every declared log source reported
// throughout the period and the diodes' health was heard.
func sr62(r *Report) Requirement {
	ex := []string{}
	var declared, everyDay int
	for _, ls := range r.Evidence.LogSources {
		if !ls.Declared {
			continue
		}
		declared++
		if int(ls.DaysWithLogs) == r.Period.Days {
			everyDay++
		}
		if ls.Silent {
			ex = append(ex, fmt.Sprintf("%s silent for %s from %s (logs on %d of %d days)", ls.Device,
				duration(ls.LongestSilence), stamp(ls.SilenceFrom), ls.DaysWithLogs, r.Period.Days))
		}
	}
	var diodes []string
	for _, d := range r.Evidence.Diodes {
		diodes = append(diodes, fmt.Sprintf("%s %s", d.ID, ratio(d.Availability)))
		if d.Availability < r.Evidence.Tolerances.DiodeAvailability {
			ex = append(ex, fmt.Sprintf("diode %s available %s (silence counted as down; %s)", d.ID, ratio(d.Availability), plural(d.SilentDays, "silent day")))
		}
	}
	if len(diodes) == 0 {
		diodes = []string{"none declared"}
	}
	obs := fmt.Sprintf("%d of %d declared log sources reported on every day of the period; diode availability: %s",
		everyDay, declared, strings.Join(diodes, ", "))
	return Requirement{ID: "SR 6.2", Title: "Continuous monitoring", Observed: obs, Status: status(!r.Empty, ex), Exceptions: ex}
}

// SR 2.11 Timestamps: the devices' clocks agree with the collector's.
func sr211(r *Report, opts Options) Requirement {
	ex := []string{}
	var heard, within int
	for _, ls := range r.Evidence.LogSources {
		if ls.Events == 0 {
			continue
		}
		heard++
		if ls.ClockOutside {
			ex = append(ex, fmt.Sprintf("%s: receive time minus device time %s (median; %s to %s)", deviceName(ls.Device),
				millis(ls.SkewP50), millis(ls.SkewMin), millis(ls.SkewMax)))
		} else {
			within++
		}
	}
	obs := fmt.Sprintf("%d of %d reporting devices within ±%s of the collector's clock (median receive minus device time)",
		within, heard, opts.ClockSkew)
	return Requirement{ID: "SR 2.11", Title: "Timestamps", Observed: obs, Status: status(heard > 0, ex), Exceptions: ex}
}

// SR 1.13 Access via untrusted networks: interactive remote access from
// zones at Purdue level 4 and above arrives only over the declared path.
func sr113(m *rules.Model, paths []Path) Requirement {
	untrusted := map[string]bool{}
	var names []string
	for _, z := range m.Zones() {
		if z.Purdue.Lo >= 4 {
			untrusted[z.ID] = true
			names = append(names, z.ID)
		}
	}
	var declared []string
	for _, c := range m.Conduits() {
		for _, rl := range c.Rules {
			if rl.From != nil && untrusted[rl.From.ID] && slices.Contains(remoteApps, rl.App) {
				declared = append(declared, fmt.Sprintf("%s %s to %s", c.ID, rl.Name, rl.To.ID))
			}
		}
	}
	req := Requirement{ID: "SR 1.13", Title: "Access via untrusted networks", Exceptions: []string{}}
	if len(names) == 0 {
		req.Observed, req.Status = "no untrusted zone (Purdue level 4 or above) is declared", NoEvidence
		return req
	}
	if len(declared) == 0 {
		declared = []string{"none"}
	}
	o := tally(paths, func(p Path) bool {
		return untrusted[p.SrcZone] && (slices.Contains(remoteApps, p.AppProtocol) || slices.Contains(remotePorts, p.Port))
	})
	req.Exceptions = o.exceptions
	req.Observed = fmt.Sprintf("%s remote-access events (RDP, SSH, VNC, Telnet) from %s: %s over the declared path (%s), %s blocked, %s outside it",
		num(o.total), strings.Join(names, ", "), num(o.allowed), strings.Join(declared, "; "), num(o.blocked), plural(len(req.Exceptions), "path"))
	req.Status = status(o.total > 0, req.Exceptions)
	return req
}

// pathLine describes a path outcome in one line.
func pathLine(p Path) string {
	s := fmt.Sprintf("%s -> %s", p.SrcZone, p.DstZone)
	if p.Conduit != "" {
		s += " on " + p.Conduit
	}
	s += " " + service(p.Transport, p.Port, p.AppProtocol)
	if p.Function != "" {
		s += " " + p.Function
	}
	return fmt.Sprintf("%s: %s (%s), %s, %s .. %s", s, p.Verdict, p.Reason, events(p.Events), stamp(p.FirstSeen), stamp(p.LastSeen))
}

// contactLine describes an undeclared path or air-gap contact in one line.
func contactLine(c Contact) string {
	return fmt.Sprintf("%s -> %s %s: %s, %s, %s .. %s", endpoint(c.SrcZone, c.SrcIP, c.Sources), endpoint(c.DstZone, c.DstIP, c.Destinations),
		service(c.Transport, c.Port, c.AppProtocol), c.Verdict, events(c.Events), stamp(c.FirstSeen), stamp(c.LastSeen))
}

// endpoint is a zone with its one address, or with how many it had.
func endpoint(zone, ip string, n uint64) string {
	if n > 1 {
		return fmt.Sprintf("%s (%d addresses)", zone, n)
	}
	return zone + " " + ip
}

// service is "tcp/502 modbus", leaving out what is unknown.
func service(transport string, port uint16, app string) string {
	var parts []string
	switch {
	case transport != "" && port != 0:
		parts = append(parts, fmt.Sprintf("%s/%d", transport, port))
	case transport != "":
		parts = append(parts, transport)
	case port != 0:
		parts = append(parts, fmt.Sprintf("port %d", port))
	}
	if app != "" {
		parts = append(parts, app)
	}
	return strings.Join(parts, " ")
}

func deviceName(d string) string {
	if d == "" {
		return "(no hostname)"
	}
	return d
}
