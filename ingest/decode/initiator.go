package decode

import "github.com/otsiem/otsiem/ingest/event"

// registeredServicePorts are ports above 1023 where servers of the
// protocols otsiem meets in plants listen (IANA registrations, and vendor
// defaults where IANA has none): industrial protocols, historians, remote
// access and the databases and brokers behind them.
var registeredServicePorts = map[uint16]bool{
	1089: true, 1090: true, 1091: true, // Foundation Fieldbus HSE
	1433: true, 1521: true, 3306: true, 5432: true, // SQL Server, Oracle, MySQL, PostgreSQL
	1883: true, 8883: true, // MQTT, MQTT over TLS
	1911: true, 4911: true, // Niagara Fox, Fox over TLS
	2222: true,             // EtherNet/IP implicit (class 1) I/O
	2404: true,             // IEC 60870-5-104
	3389: true,             // RDP
	4840: true, 4843: true, // OPC UA binary, over TLS
	5450: true, 5457: true, 5459: true, // OSIsoft PI Data Archive, PI AF, PI notifications
	5900: true,             // VNC
	5985: true, 5986: true, // WinRM
	6514: true,             // syslog over TLS
	8080: true, 8443: true, // HTTP and HTTPS alternates
	9600:  true,              // OMRON FINS
	18245: true, 18246: true, // GE SRTP
	20000: true,                           // DNP3
	34962: true, 34963: true, 34964: true, // PROFINET
	44818: true, // EtherNet/IP explicit messaging
	47808: true, // BACnet/IP
}

// ServicePort reports whether a server conventionally listens on port p:
// every well-known port (1-1023, RFC 6335) and the registered ports of
// the industrial and IT services above. A client's ephemeral port is any
// other port from 1024 up.
func ServicePort(p uint16) bool {
	return p > 0 && p < 1024 || registeredServicePorts[p]
}

// OrientByPorts puts the initiator first in a record that does not say who
// opened its flow (an ASA teardown, a packet of a connection the firewall
// no longer tracked), judging from the ports alone: a side on a service
// port with the other on an ephemeral port is the responder. It swaps the
// endpoints when the source is that responder and sets
// event.AttrInitiator to event.InitiatorPorts when the ports told,
// event.InitiatorUnknown when they did not (both or neither on a service
// port, or a port unknown): the order is then the device's.
func OrientByPorts(ev *event.Event) {
	switch byPorts(ev) {
	case sourceResponds:
		ev.SwapEndpoints()
		ev.SetAttr(event.AttrInitiator, event.InitiatorPorts)
	case sourceInitiates:
		ev.SetAttr(event.AttrInitiator, event.InitiatorPorts)
	default:
		ev.SetAttr(event.AttrInitiator, event.InitiatorUnknown)
	}
}

// ReverseIfResponder swaps the endpoints of a sensor's record whose source
// is, by its ports, the responder (a service port talking to an ephemeral
// one): a flow the sensor picked up from the server's side, or a DPI
// record that follows such a flow. It marks the record
// (event.AttrInitiator = event.InitiatorPorts) and reports whether it
// swapped; any other record is left as the sensor wrote it.
func ReverseIfResponder(ev *event.Event) bool {
	if byPorts(ev) != sourceResponds {
		return false
	}
	ev.SwapEndpoints()
	ev.SetAttr(event.AttrInitiator, event.InitiatorPorts)
	return true
}

type portsSay uint8

const (
	portsUndecided portsSay = iota
	sourceInitiates
	sourceResponds
)

func byPorts(ev *event.Event) portsSay {
	s, sok := ev.SrcPort.Get()
	d, dok := ev.DstPort.Get()
	switch {
	case !sok || !dok || s == 0 || d == 0 || ServicePort(s) == ServicePort(d):
		return portsUndecided
	case ServicePort(s):
		return sourceResponds
	}
	return sourceInitiates
}
