package simulate

import (
	"fmt"
	"strings"
	"time"
)

// The vendor formats below are written from each vendor's syslog
// reference; each returns one complete syslog line.

// flow is one connection as the generators describe it.
type flow struct {
	src, dst         string
	sport, dport     int
	proto            string // tcp, udp
	bytes, packets   int
	app              string // vendor application name, when the device names one
	rule             string
	srcZone, dstZone string // the device's interface or zone names
}

func bsdTime(t time.Time) string { return t.UTC().Format(time.Stamp) }

// Cisco ASA / ISA-3000, with `logging device-id hostname` and
// `logging timestamp`.
func asaHeader(pri int, t time.Time, host string) string {
	return fmt.Sprintf("<%d>%s %s : ", pri, t.UTC().Format("Jan 02 2006 15:04:05"), host)
}

func asaBuilt(t time.Time, host string, id int, f flow) string {
	return asaHeader(166, t, host) + fmt.Sprintf("%%ASA-6-302013: Built inbound %s connection %d for %s:%s/%d (%s/%d) to %s:%s/%d (%s/%d)",
		strings.ToUpper(f.proto), id, f.srcZone, f.src, f.sport, f.src, f.sport, f.dstZone, f.dst, f.dport, f.dst, f.dport)
}

func asaTeardown(t time.Time, host string, id int, f flow, dur time.Duration) string {
	h := int(dur.Hours())
	m := int(dur.Minutes()) % 60
	s := int(dur.Seconds()) % 60
	return asaHeader(166, t, host) + fmt.Sprintf("%%ASA-6-302014: Teardown TCP connection %d for %s:%s/%d to %s:%s/%d duration %d:%02d:%02d bytes %d TCP FINs",
		id, f.srcZone, f.src, f.sport, f.dstZone, f.dst, f.dport, h, m, s, f.bytes)
}

func asaPermit(t time.Time, host string, f flow) string {
	return asaHeader(166, t, host) + fmt.Sprintf("%%ASA-6-106100: access-list %s permitted %s %s/%s(%d) -> %s/%s(%d) hit-cnt 1 first hit [0x5a6e9f2d, 0x0]",
		f.rule, f.proto, f.srcZone, f.src, f.sport, f.dstZone, f.dst, f.dport)
}

func asaDeny(t time.Time, host string, f flow) string {
	return asaHeader(164, t, host) + fmt.Sprintf("%%ASA-4-106023: Deny %s src %s:%s/%d dst %s:%s/%d by access-group \"%s\" [0x8ed66b60, 0xf8852875]",
		f.proto, f.srcZone, f.src, f.sport, f.dstZone, f.dst, f.dport, f.rule)
}

// FortiGate / FortiGate Rugged, `set format default`.
func fortiTraffic(t time.Time, host string, session int, f flow, action string) string {
	pri, level := 189, "notice"
	if action == "deny" {
		pri, level = 188, "warning"
	}
	proto := 6
	if f.proto == "udp" {
		proto = 17
	}
	return fmt.Sprintf(`<%d>date=%s time=%s devname="%s" devid="FGR60FTK21000001" eventtime=%d tz="+0000" logid="0000000013" type="traffic" subtype="forward" level="%s" vd="root" srcip=%s srcport=%d srcintf="%s" dstip=%s dstport=%d dstintf="%s" sessionid=%d proto=%d action="%s" policyid=%d policytype="policy" policyname="%s" service="%s" duration=%d sentbyte=%d rcvdbyte=%d sentpkt=%d rcvdpkt=%d appcat="unscanned"`,
		pri, t.UTC().Format("2006-01-02"), t.UTC().Format("15:04:05"), host, t.UnixNano(), level, f.src, f.sport, f.srcZone,
		f.dst, f.dport, f.dstZone, session, proto, action, policyID(f.rule), f.rule, f.app, 5, f.bytes/2, f.bytes/2, f.packets/2, f.packets/2)
}

// fortiIPS is a FortiGate IPS (utm/ips) entry: a signature match in a
// session the policy let through, with the action the sensor took
// (FortiOS Log Reference, type utm subtype ips).
func fortiIPS(t time.Time, host string, session int, f flow, action, severity, attack string, attackID int) string {
	return fmt.Sprintf(`<185>date=%s time=%s devname="%s" devid="FGR60FTK21000001" eventtime=%d tz="+0000" logid="0419016384" type="utm" subtype="ips" eventtype="signature" level="alert" vd="root" severity="%s" srcip=%s srcport=%d srcintf="%s" dstip=%s dstport=%d dstintf="%s" sessionid=%d action="%s" proto=6 service="%s" policyid=%d attack="%s" attackid=%d profile="OT-IPS" ref="http://www.fortinet.com/ids/VID%d" msg="web_app: %s,"`,
		t.UTC().Format("2006-01-02"), t.UTC().Format("15:04:05"), host, t.UnixNano(), severity, f.src, f.sport, f.srcZone,
		f.dst, f.dport, f.dstZone, session, action, f.app, policyID(f.rule), attack, attackID, attackID, attack)
}

func policyID(rule string) int {
	if rule == "" || rule == "implicit-deny" {
		return 0
	}
	return len(rule)%20 + 1
}

// Palo Alto PAN-OS TRAFFIC, BSD syslog format, the field order of the
// PAN-OS 10.x syslog field reference.
func panTraffic(t time.Time, host string, session int, f flow, action string) string {
	ts := t.UTC().Format("2006/01/02 15:04:05")
	subtype := "end"
	if action != "allow" {
		subtype = "deny"
	}
	fields := []string{
		"1", ts, "012801000003", "TRAFFIC", subtype, "2561", ts, f.src, f.dst, "0.0.0.0", "0.0.0.0", f.rule, "", "",
		f.app, "vsys1", f.srcZone, f.dstZone, "ethernet1/1", "ethernet1/2", "fwd-otsiem", ts, fmt.Sprint(session), "1",
		fmt.Sprint(f.sport), fmt.Sprint(f.dport), "0", "0", "0x400019", f.proto, action, fmt.Sprint(f.bytes),
		fmt.Sprint(f.bytes / 2), fmt.Sprint(f.bytes - f.bytes/2), fmt.Sprint(f.packets), ts, "5", "any", "",
		fmt.Sprint(7000000 + session), "0x0", "10.0.0.0-10.255.255.255", "172.16.0.0-172.31.255.255", "",
		fmt.Sprint(f.packets / 2), fmt.Sprint(f.packets - f.packets/2), "tcp-fin", "0", "0", "0", "0", "", host, "from-policy",
	}
	return fmt.Sprintf("<14>%s %s %s", bsdTime(t), host, strings.Join(fields, ","))
}

// Suricata EVE JSON with `filetype: syslog`.
func suricataHeader(t time.Time, host string) string {
	return fmt.Sprintf("<14>%s %s suricata[2121]: ", bsdTime(t), host)
}

func eveTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000+0000") }

// modbusNames are Suricata's names for Modbus function codes.
var modbusNames = map[int]string{1: "RdCoils", 2: "RdDiscInp", 3: "RdHoldRegs", 4: "RdInpRegs", 5: "WrSingleCoil",
	6: "WrSingleReg", 15: "WrMultCoils", 16: "WrMultRegs"}

func suricataModbus(t time.Time, host string, flowID int64, f flow, fc int) string {
	access := map[int]string{1: "READ | COILS", 2: "READ | DISCRETE", 3: "READ | HOLDING", 4: "READ | INPUT",
		5: "WRITE | COILS", 6: "WRITE | HOLDING", 15: "WRITE | COILS", 16: "WRITE | HOLDING"}[fc]
	return suricataHeader(t, host) + fmt.Sprintf(`{"timestamp":"%s","flow_id":%d,"in_iface":"eth1","event_type":"modbus","src_ip":"%s","src_port":%d,"dest_ip":"%s","dest_port":%d,"proto":"TCP","modbus":{"id":1,"request":{"transaction_id":%d,"protocol_id":0,"unit_id":1,"function_code":"%s","function_raw":%d,"access_type":"%s","category":"PUBLIC_ASSIGNED","error_flags":"NONE"}}}`,
		eveTime(t), flowID, f.src, f.sport, f.dst, f.dport, flowID%65536, modbusNames[fc], fc, access)
}

func suricataFlow(t time.Time, host string, flowID int64, f flow, app string) string {
	appField := ""
	if app != "" {
		appField = fmt.Sprintf(`"app_proto":"%s",`, app)
	}
	return suricataHeader(t, host) + fmt.Sprintf(`{"timestamp":"%s","flow_id":%d,"in_iface":"eth1","event_type":"flow","src_ip":"%s","src_port":%d,"dest_ip":"%s","dest_port":%d,"proto":"%s",%s"flow":{"pkts_toserver":%d,"pkts_toclient":%d,"bytes_toserver":%d,"bytes_toclient":%d,"start":"%s","end":"%s","age":1,"state":"closed","reason":"timeout","alerted":false}}`,
		eveTime(t), flowID, f.src, f.sport, f.dst, f.dport, strings.ToUpper(f.proto), appField, f.packets/2, f.packets-f.packets/2,
		f.bytes/2, f.bytes-f.bytes/2, eveTime(t.Add(-time.Second)), eveTime(t))
}

// Zeek JSON logs (LogAscii::use_json) forwarded by rsyslog, with _path.
func zeekHeader(t time.Time, host string) string {
	return fmt.Sprintf("<134>%s %s zeek: ", bsdTime(t), host)
}

func zeekTS(t time.Time) string { return fmt.Sprintf("%.6f", float64(t.UnixMicro())/1e6) }

func zeekConn(t time.Time, host, uid string, f flow, service, state string) string {
	svc := "null"
	if service != "" {
		svc = `"` + service + `"`
	}
	return zeekHeader(t, host) + fmt.Sprintf(`{"_path":"conn","ts":%s,"uid":"%s","id.orig_h":"%s","id.orig_p":%d,"id.resp_h":"%s","id.resp_p":%d,"proto":"%s","service":%s,"duration":0.52,"orig_bytes":%d,"resp_bytes":%d,"conn_state":"%s","local_orig":true,"local_resp":true,"missed_bytes":0,"history":"ShADadFf","orig_pkts":%d,"orig_ip_bytes":%d,"resp_pkts":%d,"resp_ip_bytes":%d}`,
		zeekTS(t), uid, f.src, f.sport, f.dst, f.dport, f.proto, svc, f.bytes/2, f.bytes-f.bytes/2, state, f.packets/2, f.bytes/2+40*f.packets/2,
		f.packets-f.packets/2, f.bytes-f.bytes/2+40*(f.packets-f.packets/2))
}

// zeekModbusFuncs are Zeek's names for Modbus function codes.
var zeekModbusFuncs = map[int]string{3: "READ_HOLDING_REGISTERS", 4: "READ_INPUT_REGISTERS", 6: "WRITE_SINGLE_REGISTER", 16: "WRITE_MULTIPLE_REGISTERS"}

func zeekModbus(t time.Time, host, uid string, f flow, fc int) string {
	return zeekHeader(t, host) + fmt.Sprintf(`{"_path":"modbus","ts":%s,"uid":"%s","id.orig_h":"%s","id.orig_p":%d,"id.resp_h":"%s","id.resp_p":%d,"func":"%s"}`,
		zeekTS(t), uid, f.src, f.sport, f.dst, f.dport, zeekModbusFuncs[fc])
}

// The diode health format of ingest/decode/diode.
func diodeHeartbeat(t time.Time, host, id, side, status string, seq uint64, bps, lagMS int) string {
	return fmt.Sprintf("<14>%s %s diode: diode=%s side=%s status=%s seq=%d bps=%d lag_ms=%d ts=%s",
		bsdTime(t), host, id, side, status, seq, bps, lagMS, t.UTC().Format(time.RFC3339Nano))
}
