package review

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/otsiem/otsiem/rules"
)

// Plant is a compiled model with the files it came from and what rule
// proposals need beyond the model: which zones are isolated by design.
type Plant struct {
	Model   *rules.Model
	Path    string         // the model directory or file, as given
	Sources []rules.Source // every file of the model, as read
	// isolated maps each zone isolated by design to why.
	isolated map[*rules.Zone]string
}

// LoadPlant reads and compiles the model at path (a directory or one file,
// as rules.Load) and keeps its files for editing.
func LoadPlant(path string) (*Plant, error) {
	srcs, err := rules.ReadSources(path)
	if err != nil {
		return nil, err
	}
	return NewPlant(path, srcs)
}

// NewPlant compiles a model from its sources.
func NewPlant(path string, srcs []rules.Source) (*Plant, error) {
	m, err := rules.Compile(srcs...)
	if err != nil {
		return nil, err
	}
	p := &Plant{Model: m, Path: path, Sources: srcs, isolated: map[*rules.Zone]string{}}
	declared := declaredIsolated(srcs)
	for _, z := range m.Zones() {
		if !z.AirGapped() {
			continue
		}
		switch {
		case declared[z.ID]:
			p.isolated[z] = "declared with no allowed conduits (allowed_conduits: [])"
		case z.Safety():
			p.isolated[z] = "a safety zone with no conduits"
		default:
			for _, s := range append([]string{z.Name, z.Criticality}, z.Requirements...) {
				if l := strings.ToLower(s); strings.Contains(l, "air-gap") || strings.Contains(l, "air gap") ||
					strings.Contains(l, "airgap") || strings.Contains(l, "isolated") {
					p.isolated[z] = fmt.Sprintf("isolated by its requirements (%q)", s)
					break
				}
			}
		}
	}
	return p, nil
}

// declaredIsolated finds the zones whose document gives allowed_conduits
// as an empty list.
func declaredIsolated(srcs []rules.Source) map[string]bool {
	out := map[string]bool{}
	for _, s := range srcs {
		root := parseDoc(s.Data)
		for _, z := range items(value(root, "zones")) {
			id, ac := value(z, "zone_id"), value(z, "allowed_conduits")
			if id == nil {
				id = value(z, "id")
			}
			if id != nil && ac != nil && (ac.Kind == yaml.SequenceNode && len(ac.Content) == 0 || ac.Tag == "!!null") {
				out[strings.TrimSpace(id.Value)] = true
			}
		}
	}
	return out
}

// Isolated says why a zone is isolated by design (air-gapped: it must
// never get a conduit), "" when it is not. A zone with no conduits is
// isolated when its document declares allowed_conduits: [], when it is a
// safety zone (SIS), or when its name or requirements say so; otherwise it
// merely has no conduits yet, as in a flat network being zoned.
func (p *Plant) Isolated(z *rules.Zone) string { return p.isolated[z] }

// Skipped returns the zones whose Purdue level lies strictly between two
// zones' levels: traffic between a and b skips them. Nil when either level
// is unknown or the levels touch or overlap.
func (p *Plant) Skipped(a, b *rules.Zone) []*rules.Zone {
	if a.Purdue.Lo < 0 || b.Purdue.Lo < 0 {
		return nil
	}
	if a.Purdue.Lo > b.Purdue.Lo {
		a, b = b, a
	}
	var out []*rules.Zone
	for _, z := range p.Model.Zones() {
		if z != a && z != b && z.Purdue.Lo >= 0 && z.Purdue.Lo > a.Purdue.Hi && z.Purdue.Hi < b.Purdue.Lo {
			out = append(out, z)
		}
	}
	return out
}

// Control reports whether a zone is a control zone: Purdue level 2 or
// below (basic and supervisory control, the process itself).
func Control(z *rules.Zone) bool { return z.Purdue.Lo >= 0 && z.Purdue.Lo <= 2 }

// LowerTrust reports whether zone a is less trusted than zone b: a lower
// security level target, or a higher Purdue level (further from the
// process).
func LowerTrust(a, b *rules.Zone) bool {
	return a.SLT >= 0 && b.SLT >= 0 && a.SLT < b.SLT || a.Purdue.Lo >= 0 && b.Purdue.Lo >= 0 && a.Purdue.Lo > b.Purdue.Hi
}

// accessApps are protocols that give interactive access or file transfer:
// from a lower-trust zone into a control zone they can change the process
// as surely as a write function.
var accessApps = []string{"rdp", "vnc", "ssh", "telnet", "smb", "ftp"}

// Refusal is why a flow must never become a conduit rule.
type Refusal string

// Refusals, most serious first.
const (
	RefuseUnzoned      Refusal = "unknown_zone"  // an endpoint in no zone: declare it first
	RefuseIsolated     Refusal = "air_gap"       // touches a zone isolated by design
	RefuseDiode        Refusal = "diode_reverse" // against a data diode's one direction
	RefuseDiodeBypass  Refusal = "diode_bypass"  // around a data diode, two-way
	RefusePurdueSkip   Refusal = "purdue_skip"   // skips a Purdue level
	RefuseControlWrite Refusal = "control_write" // a write from a lower-trust zone into a control zone
)

// refuse judges one flow the model does not allow: why it must never
// become a rule, with a sentence saying so, or "" when it may.
func (p *Plant) refuse(f rules.Flow, d rules.Decision) (Refusal, string) {
	sz, dz := d.SrcZone, d.DstZone
	switch {
	case sz == nil && dz == nil:
		return RefuseUnzoned, fmt.Sprintf("%s and %s are in no zone: declare their networks or assets first", f.Src.Unmap(), f.Dst.Unmap())
	case sz == nil:
		return RefuseUnzoned, fmt.Sprintf("%s is in no zone: declare its network or asset first", f.Src.Unmap())
	case dz == nil:
		return RefuseUnzoned, fmt.Sprintf("%s is in no zone: declare its network or asset first", f.Dst.Unmap())
	}
	for _, z := range []*rules.Zone{sz, dz} {
		if why := p.isolated[z]; why != "" {
			return RefuseIsolated, fmt.Sprintf("%s is air-gapped: %s", z.ID, why)
		}
	}
	switch d.Reason {
	case rules.DiodeReverse:
		return RefuseDiode, fmt.Sprintf("against the one-way data diode path of %s (%s -> %s only)", conduitID(d.Conduit), dz.ID, sz.ID)
	case rules.DiodeBypass:
		return RefuseDiodeBypass, fmt.Sprintf("around the data diode of %s: its protocol may cross only through the diode", conduitID(d.Conduit))
	}
	if sk := p.Skipped(sz, dz); len(sk) > 0 {
		var names []string
		for _, z := range sk {
			names = append(names, fmt.Sprintf("%s (level %s)", z.ID, z.Purdue))
		}
		return RefusePurdueSkip, fmt.Sprintf("%s (level %s) to %s (level %s) skips %s", sz.ID, sz.Purdue, dz.ID, dz.Purdue, strings.Join(names, ", "))
	}
	if !Control(dz) || !LowerTrust(sz, dz) {
		return "", ""
	}
	into := fmt.Sprintf("from lower-trust %s into control zone %s", sz.ID, dz.ID)
	app := appOf(f)
	if slices.Contains(accessApps, app) {
		return RefuseControlWrite, fmt.Sprintf("%s is interactive access or file transfer %s", displayName(app), into)
	}
	info, ok := rules.LookupProtocol(app)
	switch {
	case !ok:
		return RefuseControlWrite, fmt.Sprintf("%s/%d is no protocol otsiem knows, so nothing says it only reads, %s", f.Transport, f.Port, into)
	case info.Functions:
		if ro, known := rules.ReadOnlyFunction(app, normCode(app, f.FunctionCode), f.Function); known && !ro {
			return RefuseControlWrite, fmt.Sprintf("%s %s is a write %s", displayName(app), functionLabel(app, f.FunctionCode, f.Function), into)
		}
	}
	return "", ""
}

// needsFunctions reports whether a rule for this zone pair and protocol
// must restrict functions: a protocol with functions, from a lower-trust
// zone into a control zone.
func needsFunctions(sz, dz *rules.Zone, app string) bool {
	info, ok := rules.LookupProtocol(app)
	return ok && info.Functions && Control(dz) && LowerTrust(sz, dz)
}

// appOf is a flow's protocol: what DPI named, or the catalogue's protocol
// for its transport and port.
func appOf(f rules.Flow) string {
	if f.App != "" {
		if info, ok := rules.LookupProtocol(f.App); ok {
			return info.Name
		}
		return strings.ToLower(f.App)
	}
	if info, ok := rules.ProtocolByPort(f.Transport, f.Port); ok {
		return info.Name
	}
	return ""
}

// normCode folds a Modbus exception response (code + 0x80) onto its
// function.
func normCode(app string, code int) int {
	if app == "modbus" && code >= 0x80 && code < 0x100 {
		return code - 0x80
	}
	return code
}

func functionLabel(app string, code int, name string) string {
	info, _ := rules.LookupProtocol(app)
	switch {
	case info.NamedFunctions || code < 0:
		return name
	case name == "":
		return fmt.Sprintf("FC %d", normCode(app, code))
	}
	return fmt.Sprintf("FC %d %s", normCode(app, code), name)
}

func conduitID(c *rules.Conduit) string {
	if c == nil {
		return "(no conduit)"
	}
	return c.ID
}

// endpoint names an address by its asset, or by itself.
func (p *Plant) endpoint(a netip.Addr) string {
	a = a.Unmap()
	if as := p.Model.AssetOf(a); as != nil {
		return as.Name
	}
	return a.String()
}

// displayNames are the protocol names the seed's zone document writes, by
// canonical name.
var displayNames = map[string]string{
	"modbus": "Modbus/TCP", "dnp3": "DNP3", "opcua": "OPC UA", "enip": "EtherNet/IP", "s7": "S7comm",
	"iec104": "IEC 60870-5-104", "bacnet": "BACnet/IP", "https": "HTTPS", "http": "HTTP", "rdp": "RDP", "ssh": "SSH",
	"pi": "PI-to-PI", "dns": "DNS", "ntp": "NTP", "syslog": "Syslog", "snmp": "SNMP", "smb": "SMB", "ftp": "FTP",
	"telnet": "Telnet", "mqtt": "MQTT", "vnc": "VNC", "icmp": "ICMP",
}

// displayName is how a zone document writes a protocol.
func displayName(app string) string {
	if n, ok := displayNames[app]; ok {
		return n
	}
	return app
}
