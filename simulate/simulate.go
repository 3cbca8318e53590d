// Package simulate generates realistic syslog for the refinery example
// (examples/refinery) in every vendor format otsiem decodes: Cisco ASA
// from the C1 firewall isa3000-c1, FortiGate from fgr-c2 on C2, PAN-OS from
// pa-c3 on C3 (monitor mode), Suricata and Zeek from the sensors ids-z2 and
// ids-z3, and heartbeats of the data diode DMZ-DD-01. Most traffic is what
// the conduits allow; named scenarios inject every verdict and finding
// otsiem raises. A seed makes a run reproducible.
package simulate

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"
)

// Line is one generated syslog line.
type Line struct {
	Time     time.Time // the event time it carries
	Device   string    // the reporting device's hostname
	Text     string
	Scenario string // the scenario it belongs to; "" for normal traffic
}

// Config configures a Generator.
type Config struct {
	// Start is the event time of the first line; default now.
	Start time.Time
	// Rate is lines per second of event time (and of sending); default 100.
	Rate float64
	Seed uint64
	// Scenarios to inject, by name (see Scenarios), or "all".
	Scenarios []string
	// ScenarioEvery spaces injected scenarios in event time; default 20s.
	ScenarioEvery time.Duration
}

// Generator produces lines in event-time order.
type Generator struct {
	cfg       Config
	rng       *rand.Rand
	n         uint64
	queue     []Line
	scenarios []string
	nextScen  time.Time
	scenIdx   int
	nextBeat  time.Time
	muteUntil time.Time // diode heartbeats stop until then
	newPairs  int       // new-pair scenarios so far: each takes the next HMI
	seq       uint64
	connID    int
	at        time.Time // event time of the lines being emitted
}

// Scenarios are the injectable scenarios and what each shows.
var Scenarios = map[string]string{
	"modbus-write":    "a Modbus write (FC 6) from the historian to a PLC over read-only C1, seen by Suricata: violation, function_not_permitted",
	"wrong-direction": "Modbus from a PLC to the historian (C1 allows Z3 -> Z2 only), seen by Suricata: violation, wrong_direction",
	"policy-drift":    "the C1 firewall builds that wrong-direction Modbus connection: policy_drift, wrong_direction",
	"blocked":         "the C1 firewall denies S7 from operations to a PLC: blocked, not_permitted",
	"false-block":     "the C2 firewall denies a patch download the conduit allows: false_block",
	"diode-reverse":   "traffic from the diode's RX side back to its TX, denied by the C2 firewall: blocked, diode_reverse",
	"would-block":     "SSH from the enterprise to the jump server, permitted by pa-c3 in monitor mode: would_block, not_permitted",
	"would-false-block": "pa-c3 in monitor mode logs a deny of RDP from an enterprise workstation to the jump server, which C3 allows: " +
		"allowed (forwarded anyway), and a would_false_block finding: enforcing its rules would break it",
	"enterprise-scan": "an nmap sweep from the enterprise over the PLC subnet (10.20.1.1-30, ports 502, 44818, 102, 4840), seen by pa-c3: would_block, no_conduit, then a scan",
	"sis-breach":      "Modbus from the MES server to a safety controller, seen by Zeek: violation, air_gap",
	"no-conduit":      "HTTPS from operations straight to the enterprise, seen by Zeek: violation, no_conduit",
	"unknown-zone":    "an unmanaged address talking to the historian, seen by Zeek: unknown_zone",
	"new-pair":        "an HMI reaching the historian over OPC UA for the first time (the next of the six HMIs each time): allowed, new_pair",
	"diode-outage":    "the diode's heartbeats stop for 45 s, then resume: diode_down, then recovery",
	"diode-bypass":    "the C2 firewall lets the historian run PI-to-PI straight to the DMZ historian, around the diode: policy_drift, diode_bypass",
	"ips-block":       "the C2 firewall's IPS resets an exploit inside an allowed patch download: blocked, threat, and an alert finding",
	"monitoring-path": "pa-c3 sends its syslog to the collector across C2, which has no syslog rule: policy_drift, monitoring (low)",
}

// ScenarioNames returns the scenario names, sorted.
func ScenarioNames() []string {
	names := make([]string, 0, len(Scenarios))
	for n := range Scenarios {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// New returns a generator.
func New(cfg Config) (*Generator, error) {
	if cfg.Start.IsZero() {
		cfg.Start = time.Now()
	}
	if cfg.Rate <= 0 {
		cfg.Rate = 100
	}
	if cfg.ScenarioEvery <= 0 {
		cfg.ScenarioEvery = 20 * time.Second
	}
	g := &Generator{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5eed)), seq: 1000}
	for _, s := range cfg.Scenarios {
		switch {
		case s == "all":
			g.scenarios = append(g.scenarios, ScenarioNames()...)
		case Scenarios[s] != "":
			g.scenarios = append(g.scenarios, s)
		default:
			return nil, fmt.Errorf("unknown scenario %q (have: all, %s)", s, strings.Join(ScenarioNames(), ", "))
		}
	}
	g.scenarios = slices.Compact(g.scenarios)
	g.nextScen = cfg.Start.Add(cfg.ScenarioEvery / 2)
	g.nextBeat = cfg.Start
	return g, nil
}

// Now is the event time of the next line.
func (g *Generator) Now() time.Time {
	return g.cfg.Start.Add(time.Duration(float64(g.n) / g.cfg.Rate * float64(time.Second)))
}

// Next returns the next line.
func (g *Generator) Next() Line {
	t := g.Now()
	g.n++
	g.at = t
	for len(g.queue) == 0 {
		switch {
		case !t.Before(g.nextBeat):
			g.heartbeats(g.nextBeat)
			g.nextBeat = g.nextBeat.Add(10 * time.Second)
			g.at = t
		case len(g.scenarios) > 0 && !t.Before(g.nextScen):
			name := g.scenarios[g.scenIdx%len(g.scenarios)]
			g.scenIdx++
			g.nextScen = g.nextScen.Add(g.cfg.ScenarioEvery)
			g.inject(name, t)
		default:
			g.normal(t)
		}
	}
	l := g.queue[0]
	g.queue = g.queue[1:]
	return l
}

func (g *Generator) emit(scenario, device string, texts ...string) {
	for _, s := range texts {
		g.queue = append(g.queue, Line{Time: g.at, Device: device, Text: s, Scenario: scenario})
	}
}

// The refinery's hosts (examples/refinery/assets.csv).
const (
	historian = "10.30.1.50"
	opcServer = "10.30.1.51"
	mes       = "10.30.1.52"
	diodeTX   = "10.30.1.100"
	diodeRX   = "172.16.1.100"
	dmzHist   = "172.16.1.10"
	wsus      = "172.16.1.20"
	jump      = "172.16.1.30"
)

func plc(i int) string { return fmt.Sprintf("10.20.1.%d", 10+i%12) }
func hmi(i int) string { return fmt.Sprintf("10.20.2.%d", 10+i%6) }

func (g *Generator) port() int { return 49152 + g.rng.IntN(16000) }

func (g *Generator) heartbeats(t time.Time) {
	g.at = t
	g.seq++
	if t.Before(g.muteUntil) {
		return // the outage: nothing arrives; the sequence still runs on
	}
	lag := 20 + g.rng.IntN(40)
	g.emit("", "dmz-dd-01", diodeHeartbeat(t, "dmz-dd-01", "DMZ-DD-01", "tx", "ok", g.seq, 4_000_000+g.rng.IntN(2_000_000), lag),
		diodeHeartbeat(t, "dmz-dd-01", "DMZ-DD-01", "rx", "ok", g.seq, 4_000_000+g.rng.IntN(2_000_000), lag))
}

// normal emits allowed traffic: historian Modbus reads, OPC UA, PI
// replication, patch downloads, enterprise access through the DMZ, and
// traffic within the control zone.
func (g *Generator) normal(t time.Time) {
	g.connID++
	id := g.connID
	switch r := g.rng.IntN(100); {
	case r < 25: // historian polls a PLC: Suricata sees the Modbus read
		f := flow{src: historian, sport: g.port(), dst: plc(id), dport: 502, proto: "tcp"}
		g.emit("", "ids-z2", suricataModbus(t, "ids-z2", int64(id), f, 3+g.rng.IntN(2)))
	case r < 40: // the C1 firewall builds and tears down the polling connection
		f := flow{src: historian, sport: g.port(), dst: plc(id), dport: 502, proto: "tcp", bytes: 2000 + g.rng.IntN(4000), srcZone: "zone-ops", dstZone: "zone-bpcs"}
		g.emit("", "isa3000-c1", asaBuilt(t, "isa3000-c1", id, f), asaTeardown(t, "isa3000-c1", id, f, 30*time.Second))
	case r < 50: // PLCs publish to the historian over OPC UA (C1, Z2 -> Z3)
		f := flow{src: plc(id), sport: g.port(), dst: historian, dport: 4840, proto: "tcp", rule: "BPCS-to-OPS", srcZone: "zone-bpcs", dstZone: "zone-ops"}
		g.emit("", "isa3000-c1", asaPermit(t, "isa3000-c1", f))
	case r < 58: // Zeek in operations sees the same OPC UA sessions
		f := flow{src: plc(id), sport: g.port(), dst: historian, dport: 4840, proto: "tcp", bytes: 8000 + g.rng.IntN(8000), packets: 40}
		g.emit("", "ids-z3", zeekConn(t, "ids-z3", uid(g, "C"), f, "", "SF"))
	case r < 66: // PI-to-PI replication through the diode (C2, Z3 -> Z4): the diode's own tx → rx pair
		f := flow{src: diodeTX, sport: g.port(), dst: diodeRX, dport: 5450, proto: "tcp", bytes: 1 << 20, packets: 900, srcZone: "ops", dstZone: "dmz", rule: "PI-to-PI replication", app: "PI-to-PI"}
		g.emit("", "fgr-c2", fortiTraffic(t, "fgr-c2", id, f, "close"))
	case r < 72: // patch downloads from the DMZ (C2, Z4 -> Z3)
		f := flow{src: wsus, sport: g.port(), dst: []string{historian, opcServer, mes}[id%3], dport: 443, proto: "tcp", bytes: 500_000, packets: 400, srcZone: "dmz", dstZone: "ops", rule: "WSUS patches", app: "HTTPS"}
		g.emit("", "fgr-c2", fortiTraffic(t, "fgr-c2", id, f, "close"))
	case r < 80: // enterprise users on the DMZ historian (C3, Z5 -> Z4)
		f := flow{src: fmt.Sprintf("10.100.%d.%d", 10+id%20, 10+id%200), sport: g.port(), dst: dmzHist, dport: 443, proto: "tcp", bytes: 30_000, packets: 60, srcZone: "ent", dstZone: "dmz", rule: "ent-to-historian", app: "ssl"}
		g.emit("", "pa-c3", panTraffic(t, "pa-c3", id, f, "allow"))
	case r < 85: // remote access through the jump server (C3)
		f := flow{src: fmt.Sprintf("10.100.7.%d", 10+id%5), sport: g.port(), dst: jump, dport: 3389, proto: "tcp", bytes: 2_000_000, packets: 3000, srcZone: "ent", dstZone: "dmz", rule: "rdp-jump", app: "ms-rdp"}
		g.emit("", "pa-c3", panTraffic(t, "pa-c3", id, f, "allow"))
	default: // HMIs and PLCs within the control zone, seen by Suricata
		f := flow{src: hmi(id), sport: g.port(), dst: plc(id), dport: 44818, proto: "tcp", bytes: 4000, packets: 20}
		g.emit("", "ids-z2", suricataFlow(t, "ids-z2", int64(id), f, "enip"))
	}
}

func uid(g *Generator, prefix string) string {
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := []byte(prefix)
	for i := 0; i < 17; i++ {
		b = append(b, chars[g.rng.IntN(len(chars))])
	}
	return string(b)
}

// inject queues one scenario's lines.
func (g *Generator) inject(name string, t time.Time) {
	g.connID++
	id := g.connID
	switch name {
	case "modbus-write":
		f := flow{src: historian, sport: g.port(), dst: plc(3), dport: 502, proto: "tcp"}
		g.emit(name, "ids-z2", suricataModbus(t, "ids-z2", int64(id), f, 6))
	case "wrong-direction":
		f := flow{src: plc(5), sport: g.port(), dst: historian, dport: 502, proto: "tcp"}
		g.emit(name, "ids-z2", suricataModbus(t, "ids-z2", int64(id), f, 3))
	case "policy-drift":
		f := flow{src: plc(5), sport: g.port(), dst: historian, dport: 502, proto: "tcp", srcZone: "zone-bpcs", dstZone: "zone-ops"}
		g.emit(name, "isa3000-c1", asaBuilt(t, "isa3000-c1", id, f))
	case "blocked":
		f := flow{src: "10.30.1.77", sport: g.port(), dst: plc(1), dport: 102, proto: "tcp", rule: "OPS-to-BPCS", srcZone: "zone-ops", dstZone: "zone-bpcs"}
		g.emit(name, "isa3000-c1", asaDeny(t, "isa3000-c1", f))
	case "false-block":
		f := flow{src: wsus, sport: g.port(), dst: mes, dport: 443, proto: "tcp", srcZone: "dmz", dstZone: "ops", rule: "implicit-deny", app: "HTTPS"}
		g.emit(name, "fgr-c2", fortiTraffic(t, "fgr-c2", id, f, "deny"))
	case "diode-reverse":
		f := flow{src: diodeRX, sport: g.port(), dst: diodeTX, dport: 5450, proto: "tcp", srcZone: "dmz", dstZone: "ops", rule: "implicit-deny", app: "PI-to-PI"}
		g.emit(name, "fgr-c2", fortiTraffic(t, "fgr-c2", id, f, "deny"))
	case "would-block":
		f := flow{src: "10.100.7.7", sport: g.port(), dst: jump, dport: 22, proto: "tcp", bytes: 5000, packets: 30, srcZone: "ent", dstZone: "dmz", rule: "monitor-any", app: "ssh"}
		g.emit(name, "pa-c3", panTraffic(t, "pa-c3", id, f, "allow"))
	case "would-false-block":
		// A workstation the rule set forgot: its interzone default denies it.
		f := flow{src: fmt.Sprintf("10.100.7.%d", 20+g.rng.IntN(3)), sport: g.port(), dst: jump, dport: 3389, proto: "tcp", bytes: 0, packets: 1,
			srcZone: "ent", dstZone: "dmz", rule: "interzone-default", app: "ms-rdp"}
		g.emit(name, "pa-c3", panTraffic(t, "pa-c3", id, f, "deny"))
	case "enterprise-scan":
		// nmap -sT -p 502,44818,102,4840 over the PLCs, as the seed's
		// validation step runs it; pa-c3 only logs.
		for _, p := range []int{502, 44818, 102, 4840} {
			for i := 1; i <= 30; i++ {
				f := flow{src: "10.100.66.6", sport: g.port(), dst: fmt.Sprintf("10.20.1.%d", i), dport: p, proto: "tcp", bytes: 120, packets: 2, srcZone: "ent", dstZone: "dmz", rule: "monitor-any", app: "incomplete"}
				g.emit(name, "pa-c3", panTraffic(t, "pa-c3", id+i, f, "allow"))
			}
		}
	case "sis-breach":
		f := flow{src: mes, sport: g.port(), dst: "10.10.1.10", dport: 502, proto: "tcp", bytes: 300, packets: 6}
		g.emit(name, "ids-z3", zeekConn(t, "ids-z3", uid(g, "C"), f, "modbus", "SF"))
	case "no-conduit":
		f := flow{src: mes, sport: g.port(), dst: "10.100.20.20", dport: 443, proto: "tcp", bytes: 9000, packets: 20}
		g.emit(name, "ids-z3", zeekConn(t, "ids-z3", uid(g, "C"), f, "ssl", "SF"))
	case "unknown-zone":
		f := flow{src: "192.168.99.5", sport: g.port(), dst: historian, dport: 443, proto: "tcp", bytes: 700, packets: 8}
		g.emit(name, "ids-z3", zeekConn(t, "ids-z3", uid(g, "C"), f, "ssl", "SF"))
	case "new-pair":
		// The next HMI each time, so pairs stay new after a learning
		// period that saw the first ones (six HMIs, then all are known).
		f := flow{src: hmi(5 + g.newPairs), sport: g.port(), dst: historian, dport: 4840, proto: "tcp", rule: "BPCS-to-OPS", srcZone: "zone-bpcs", dstZone: "zone-ops"}
		g.newPairs++
		g.emit(name, "isa3000-c1", asaPermit(t, "isa3000-c1", f))
	case "diode-bypass":
		f := flow{src: historian, sport: g.port(), dst: dmzHist, dport: 5450, proto: "tcp", bytes: 1 << 20, packets: 900, srcZone: "ops", dstZone: "dmz", rule: "any-to-dmz", app: "PI-to-PI"}
		g.emit(name, "fgr-c2", fortiTraffic(t, "fgr-c2", id, f, "close"))
	case "ips-block":
		f := flow{src: wsus, sport: g.port(), dst: mes, dport: 443, proto: "tcp", srcZone: "dmz", dstZone: "ops", rule: "WSUS patches", app: "HTTPS"}
		g.emit(name, "fgr-c2", fortiIPS(t, "fgr-c2", id, f, "reset", "critical", "Apache.Struts.Jakarta.Multipart.Parser.Code.Execution", 43726))
	case "monitoring-path":
		f := flow{src: "172.16.1.2", sport: g.port(), dst: "10.30.1.60", dport: 514, proto: "udp", bytes: 400, packets: 1, srcZone: "dmz", dstZone: "ops", rule: "mgmt-syslog", app: "SYSLOG"}
		g.emit(name, "fgr-c2", fortiTraffic(t, "fgr-c2", id, f, "accept"))
	case "diode-outage":
		g.muteUntil = t.Add(45 * time.Second)
		g.normal(t) // nothing to say now: the silence is the scenario
		for i := range g.queue {
			g.queue[i].Scenario = name
		}
	}
}
