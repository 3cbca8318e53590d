package rules

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The document types hold a model as written, with positions, before it is
// checked and compiled. Several files merge into one document.
type document struct {
	facility, assessmentDate, standard, site text
	zones                                    []*zoneDoc
	conduits                                 []*conduitDoc
	networks                                 []*networkDoc
	assets                                   []*assetDoc
	devices                                  []*deviceDoc
	diodes                                   []*diodeDoc
	services                                 []*serviceDoc
}

type zoneDoc struct {
	pos             Pos
	id, name        text
	purdue          levelRange
	purdueSet       bool
	slt             int
	criticality     string
	assets          []string
	requirements    []string
	allowedConduits []text
	allowedGiven    bool
	networks        []text
}

type conduitDoc struct {
	pos      Pos
	id, name text
	connects []text
	sl       int
	rules    []*ruleDoc
	controls []string
}

type ruleDoc struct {
	pos          Pos
	protocol     text
	ports        []text // each a port or a range "lo-hi"
	direction    text
	securityMode string
	// The structured form; where given it wins over the free text.
	from, to      text
	transport     text
	functions     []text
	diode, diodeS bool
	bidirectional bool
}

type networkDoc struct {
	pos   Pos
	zone  text
	cidrs []text
	name  string
	vlan  int
}

type assetDoc struct {
	pos                         Pos
	name                        text
	addresses                   []text
	zone                        text
	role, vendor, product, desc string
}

type deviceDoc struct {
	pos             Pos
	hostname        text
	vendor, product string
	decoder         string
	role            text
	mode            text
	since           text
	addresses       []text
	conduits, zones []text
}

type diodeDoc struct {
	pos             Pos
	id              text
	name, vendor    string
	tx, rx          text
	heartbeat       text
	conduit         text
	protocol        text
	degradedLagSecs int
}

type serviceDoc struct {
	pos                 Pos
	name, role          text
	protocol, transport text
	ports, addresses    []text
}

// levelRange is a Purdue level or range of levels, such as 1, 3.5 or "1-2".
type levelRange struct{ lo, hi float64 }

func (l levelRange) String() string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	if l.lo == l.hi {
		return f(l.lo)
	}
	return f(l.lo) + "-" + f(l.hi)
}

// parseYAML reads one YAML file into doc.
func parseYAML(file string, data []byte, doc *document, d *diags) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		line, msg := yamlErrorLine(err)
		d.errorf(Pos{File: file, Line: line, Col: 1}, "syntax", "%s", msg)
		return
	}
	if len(root.Content) == 0 {
		return // an empty file
	}
	w := &walker{file: file, d: d}
	w.mapping(root.Content[0], "model", func(key string, v *yaml.Node) bool {
		switch key {
		case "facility":
			doc.facility = w.str(v, "facility")
		case "site":
			doc.site = w.str(v, "site")
		case "assessment_date":
			doc.assessmentDate = w.str(v, "assessment_date")
		case "standard":
			doc.standard = w.str(v, "standard")
		case "zones":
			w.sequence(v, "zones", func(n *yaml.Node) { doc.zones = append(doc.zones, w.zone(n)) })
		case "conduits":
			w.sequence(v, "conduits", func(n *yaml.Node) { doc.conduits = append(doc.conduits, w.conduit(n)) })
		case "networks":
			w.sequence(v, "networks", func(n *yaml.Node) { doc.networks = append(doc.networks, w.network(n)) })
		case "assets":
			w.sequence(v, "assets", func(n *yaml.Node) { doc.assets = append(doc.assets, w.asset(n)) })
		case "devices":
			w.sequence(v, "devices", func(n *yaml.Node) { doc.devices = append(doc.devices, w.device(n)) })
		case "diodes":
			w.sequence(v, "diodes", func(n *yaml.Node) { doc.diodes = append(doc.diodes, w.diode(n)) })
		case "infrastructure":
			w.sequence(v, "infrastructure", func(n *yaml.Node) { doc.services = append(doc.services, w.service(n)) })
		default:
			return false
		}
		return true
	})
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlErrorLine pulls the line number out of a YAML syntax error.
func yamlErrorLine(err error) (int, string) {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n, m[2]
	}
	return 1, strings.TrimPrefix(msg, "yaml: ")
}

func (w *walker) zone(n *yaml.Node) *zoneDoc {
	z := &zoneDoc{pos: w.pos(n), slt: -1}
	w.mapping(n, "zone", func(key string, v *yaml.Node) bool {
		switch key {
		case "zone_id", "id":
			z.id = w.str(v, "zone_id")
		case "name":
			z.name = w.str(v, "zone name")
		case "purdue_level":
			z.purdue, z.purdueSet = w.purdue(v)
		case "security_level_target", "sl_t":
			z.slt = w.securityLevel(v, "security_level_target")
		case "criticality":
			z.criticality = w.str(v, "criticality").s
		case "assets":
			z.assets = plain(w.strs(v, "zone assets"))
		case "security_requirements":
			z.requirements = plain(w.strs(v, "security_requirements"))
		case "allowed_conduits":
			z.allowedConduits, z.allowedGiven = w.strs(v, "allowed_conduits"), true
		case "networks":
			z.networks = w.strOrStrs(v, "zone networks")
		default:
			return false
		}
		return true
	})
	if z.id.s == "" {
		w.errorf(n, "missing", "zone has no zone_id")
	}
	return z
}

func (w *walker) conduit(n *yaml.Node) *conduitDoc {
	c := &conduitDoc{pos: w.pos(n), sl: -1}
	w.mapping(n, "conduit", func(key string, v *yaml.Node) bool {
		switch key {
		case "conduit_id", "id":
			c.id = w.str(v, "conduit_id")
		case "name":
			c.name = w.str(v, "conduit name")
		case "connects":
			c.connects = w.strs(v, "connects")
		case "security_level", "sl":
			c.sl = w.securityLevel(v, "security_level")
		case "protocols_allowed", "rules":
			w.sequence(v, key, func(n *yaml.Node) { c.rules = append(c.rules, w.rule(n)) })
		case "controls":
			c.controls = plain(w.strs(v, "controls"))
		default:
			return false
		}
		return true
	})
	if c.id.s == "" {
		w.errorf(n, "missing", "conduit has no conduit_id")
	}
	return c
}

func (w *walker) rule(n *yaml.Node) *ruleDoc {
	r := &ruleDoc{pos: w.pos(n)}
	w.mapping(n, "protocol rule", func(key string, v *yaml.Node) bool {
		switch key {
		case "protocol":
			r.protocol = w.str(v, "protocol")
		case "port", "ports":
			r.ports = w.strOrStrs(v, key)
		case "direction":
			r.direction = w.str(v, "direction")
		case "security_mode":
			r.securityMode = w.str(v, "security_mode").s
		case "from":
			r.from = w.str(v, "from")
		case "to":
			r.to = w.str(v, "to")
		case "transport":
			r.transport = w.str(v, "transport")
		case "functions", "function_codes":
			r.functions = append(r.functions, w.strOrStrs(v, key)...)
		case "diode":
			r.diode, r.diodeS = w.boolean(v, "diode"), true
		case "bidirectional":
			r.bidirectional = w.boolean(v, "bidirectional")
		default:
			return false
		}
		return true
	})
	if r.protocol.s == "" {
		w.errorf(n, "missing", "protocol rule has no protocol")
	}
	return r
}

func (w *walker) network(n *yaml.Node) *networkDoc {
	nw := &networkDoc{pos: w.pos(n)}
	w.mapping(n, "network", func(key string, v *yaml.Node) bool {
		switch key {
		case "zone":
			nw.zone = w.str(v, "network zone")
		case "cidr", "cidrs":
			nw.cidrs = w.strOrStrs(v, key)
		case "name":
			nw.name = w.str(v, "network name").s
		case "vlan":
			nw.vlan, _ = w.integer(v, "vlan", 1, 4094)
		default:
			return false
		}
		return true
	})
	if nw.zone.s == "" {
		w.errorf(n, "missing", "network has no zone")
	}
	return nw
}

func (w *walker) asset(n *yaml.Node) *assetDoc {
	a := &assetDoc{pos: w.pos(n)}
	w.mapping(n, "asset", func(key string, v *yaml.Node) bool {
		switch key {
		case "name":
			a.name = w.str(v, "asset name")
		case "address", "addresses":
			a.addresses = w.strOrStrs(v, key)
		case "zone":
			a.zone = w.str(v, "asset zone")
		case "role":
			a.role = w.str(v, "asset role").s
		case "vendor":
			a.vendor = w.str(v, "asset vendor").s
		case "product", "model":
			a.product = w.str(v, "asset product").s
		case "description":
			a.desc = w.str(v, "asset description").s
		default:
			return false
		}
		return true
	})
	if a.name.s == "" {
		w.errorf(n, "missing", "asset has no name")
	}
	return a
}

func (w *walker) device(n *yaml.Node) *deviceDoc {
	dv := &deviceDoc{pos: w.pos(n)}
	w.mapping(n, "device", func(key string, v *yaml.Node) bool {
		switch key {
		case "hostname":
			dv.hostname = w.str(v, "device hostname")
		case "vendor":
			dv.vendor = w.str(v, "device vendor").s
		case "product":
			dv.product = w.str(v, "device product").s
		case "decoder":
			dv.decoder = w.str(v, "device decoder").s
		case "role":
			dv.role = w.str(v, "device role")
		case "mode":
			dv.mode = w.str(v, "device mode")
		case "since":
			dv.since = w.str(v, "since")
		case "address", "addresses":
			dv.addresses = w.strOrStrs(v, key)
		case "conduits":
			dv.conduits = w.strOrStrs(v, "device conduits")
		case "zones":
			dv.zones = w.strOrStrs(v, "device zones")
		default:
			return false
		}
		return true
	})
	if dv.hostname.s == "" {
		w.errorf(n, "missing", "device has no hostname")
	}
	return dv
}

func (w *walker) diode(n *yaml.Node) *diodeDoc {
	dd := &diodeDoc{pos: w.pos(n)}
	w.mapping(n, "diode", func(key string, v *yaml.Node) bool {
		switch key {
		case "id":
			dd.id = w.str(v, "diode id")
		case "name":
			dd.name = w.str(v, "diode name").s
		case "vendor":
			dd.vendor = w.str(v, "diode vendor").s
		case "tx":
			dd.tx = w.str(v, "diode tx")
		case "rx":
			dd.rx = w.str(v, "diode rx")
		case "heartbeat":
			dd.heartbeat = w.str(v, "diode heartbeat")
		case "conduit":
			dd.conduit = w.str(v, "diode conduit")
		case "protocol":
			dd.protocol = w.str(v, "diode protocol")
		default:
			return false
		}
		return true
	})
	if dd.id.s == "" {
		w.errorf(n, "missing", "diode has no id")
	}
	return dd
}

func (w *walker) service(n *yaml.Node) *serviceDoc {
	sd := &serviceDoc{pos: w.pos(n)}
	w.mapping(n, "infrastructure service", func(key string, v *yaml.Node) bool {
		switch key {
		case "name":
			sd.name = w.str(v, "service name")
		case "role":
			sd.role = w.str(v, "service role")
		case "protocol":
			sd.protocol = w.str(v, "service protocol")
		case "transport":
			sd.transport = w.str(v, "service transport")
		case "port", "ports":
			sd.ports = w.strOrStrs(v, key)
		case "address", "addresses":
			sd.addresses = w.strOrStrs(v, key)
		default:
			return false
		}
		return true
	})
	if sd.name.s == "" {
		w.errorf(n, "missing", "infrastructure service has no name")
	}
	return sd
}

// purdue reads a Purdue level: 0 to 5 in halves (3.5 is the DMZ), or a range
// "lo-hi" such as "1-2".
func (w *walker) purdue(n *yaml.Node) (levelRange, bool) {
	t := w.str(n, "purdue_level")
	if t.s == "" {
		return levelRange{}, false
	}
	lo, hi, isRange := strings.Cut(strings.ReplaceAll(t.s, "–", "-"), "-")
	if !isRange {
		hi = lo
	}
	a, errA := parseLevel(lo)
	b, errB := parseLevel(hi)
	if errA != nil || errB != nil || a > b {
		w.d.errorf(t.pos, "value", "purdue_level %q is not a level from 0 to 5 (halves allowed, e.g. 3.5) or a range such as \"1-2\"", t.s)
		return levelRange{}, false
	}
	return levelRange{a, b}, true
}

func parseLevel(s string) (float64, error) {
	s = strings.TrimPrefix(strings.TrimSpace(strings.ToUpper(s)), "L")
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || v < 0 || v > 5 || v*2 != float64(int(v*2)) {
		return 0, fmt.Errorf("bad level %q", s)
	}
	return v, nil
}

var slRE = regexp.MustCompile(`^(?i:SL[-\s]?(?:T[-\s]?)?)?([0-4])$`)

// securityLevel reads "SL 0".."SL 4" (or the bare number).
func (w *walker) securityLevel(n *yaml.Node, what string) int {
	t := w.str(n, what)
	m := slRE.FindStringSubmatch(t.s)
	if m == nil {
		w.d.errorf(t.pos, "value", "%s %q is not a security level \"SL 0\" to \"SL 4\"", what, t.s)
		return -1
	}
	return int(m[1][0] - '0')
}

func plain(ts []text) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.s
	}
	return out
}
