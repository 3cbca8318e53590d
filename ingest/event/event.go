// Package event defines the normalized event, the contract between the
// otsiem stages, and its JSON codec.
//
// An Event is a flat value: unknown fields are zero values (an empty string,
// a zero time, an invalid netip.Addr, an unset Opt) and are absent from the
// JSON form. Severity 0, port 0 and function code 0 are valid values, so the
// numeric fields that can legitimately be zero are Opt values whose zero is
// "unknown"; none of them costs a heap allocation.
package event

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"time"
)

// Kind is the class of an event.
type Kind string

// The event kinds.
const (
	KindFlow   Kind = "flow"   // a connection or packet seen by a firewall or sensor
	KindDPI    Kind = "dpi"    // an application-layer (industrial protocol) transaction
	KindAlert  Kind = "alert"  // an IDS/IPS signature or anomaly
	KindDiode  Kind = "diode"  // data diode health
	KindSystem Kind = "system" // device-internal events (configuration, failover, ...)
	KindRaw    Kind = "raw"    // a line no decoder understood; ParseError says why
)

// Action is what the reporting device did with the traffic.
type Action string

// The normalized actions.
const (
	ActionAllow   Action = "allow"
	ActionDeny    Action = "deny"
	ActionDrop    Action = "drop"
	ActionReset   Action = "reset"
	ActionAlert   Action = "alert"
	ActionClose   Action = "close"
	ActionUnknown Action = "unknown"
)

// Number is the set of types an Opt can hold.
type Number interface {
	~uint8 | ~uint16 | ~uint32 | ~uint64 | ~int | ~int32 | ~int64
}

// Opt is an optional number. Its zero value is unknown, so 0 stays a valid
// value (syslog severity 0, DNP3 function code 0).
type Opt[T Number] struct {
	V  T    // the value, meaningful only when OK
	OK bool // whether the value is known
}

// Some returns a known Opt holding v.
func Some[T Number](v T) Opt[T] { return Opt[T]{V: v, OK: true} }

// Get returns the value and whether it is known.
func (o Opt[T]) Get() (T, bool) { return o.V, o.OK }

// Attr is one vendor field that has no place of its own in Event.
type Attr struct {
	Key   string
	Value string
}

// ID identifies an event; see NewID. Its text form is 32 hex digits.
type ID [16]byte

// IsZero reports whether the id is unset.
func (id ID) IsZero() bool { return id == ID{} }

// String returns the id as 32 lowercase hex digits, or "" when unset.
func (id ID) String() string {
	if id.IsZero() {
		return ""
	}
	return hex.EncodeToString(id[:])
}

// ParseID parses the text form of an ID.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 2*len(id) {
		return id, errors.New("event id: want 32 hex digits")
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, errors.New("event id: want 32 hex digits")
	}
	return id, nil
}

// NewID derives the stable id of an event from the sender (the device
// address, or its name when the address is unknown), the time the line was
// received and the raw line: a retried publish of the same received line
// gets the same id (JetStream deduplicates it by Msg-Id, storage by key),
// while two identical lines received at different times stay two events.
// It is the first 128 bits of SHA-256 over those inputs.
func NewID(sender netip.Addr, device string, received time.Time, raw []byte) ID {
	h := sha256.New()
	var hdr [16 + 8 + 1]byte
	a := sender.As16()
	copy(hdr[:16], a[:])
	binary.BigEndian.PutUint64(hdr[16:24], uint64(received.UnixNano()))
	if sender.IsValid() {
		hdr[24] = 1
	}
	h.Write(hdr[:])
	if !sender.IsValid() {
		h.Write([]byte(device))
		h.Write([]byte{0})
	}
	h.Write(raw)
	var sum [sha256.Size]byte
	var id ID
	copy(id[:], h.Sum(sum[:0]))
	return id
}

// Event is one normalized log line. Field comments give the JSON key.
type Event struct {
	ID         ID        // id: see NewID
	Time       time.Time // time: when the device says it happened, else when received (TimeSource)
	TimeSource string    // time_source: TimeReceived when the line had no time; empty (or TimeDevice) otherwise
	ReceivedAt time.Time // received_at: when otsiem received the line
	Site       string    // site
	Kind       Kind      // kind
	Vendor     string    // vendor, e.g. "cisco"
	Product    string    // product, e.g. "asa"
	Device     string    // device: reporting hostname
	DeviceIP   netip.Addr
	// MessageID is the vendor's message type: an ASA message id such as
	// "106023", a FortiGate logid, a PAN-OS log type, a Suricata event_type.
	MessageID string
	Severity  Opt[uint8] // severity: syslog severity 0-7
	Action    Action     // action

	// SrcIP, SrcPort, DstIP and DstPort are the flow's real endpoints,
	// initiator first: the addresses the hosts themselves use, which is
	// what zones are declared in. When a device translated an address
	// (NAT), the address seen on the other side of the translation is the
	// mapped one (Cisco's terms: real and mapped). A mapped field is
	// unknown when the device logged no translation of that endpoint.
	SrcIP         netip.Addr // src_ip
	SrcPort       Opt[uint16]
	DstIP         netip.Addr // dst_ip
	DstPort       Opt[uint16]
	SrcMappedIP   netip.Addr  // src_mapped_ip: the source as translated (source NAT, PAT)
	SrcMappedPort Opt[uint16] // src_mapped_port
	DstMappedIP   netip.Addr  // dst_mapped_ip: the destination the initiator addressed (a VIP, static NAT)
	DstMappedPort Opt[uint16] // dst_mapped_port
	Transport     string      // transport: tcp, udp, icmp, ...
	AppProtocol   string      // app_protocol: modbus, dnp3, opcua, enip, s7, iec104, bacnet, https, ...
	FunctionCode  Opt[int32]
	Function      string // function: name of the function or service, e.g. "write_single_register"
	Rule          string // rule: ACL or policy name or id
	SrcInterface  string // src_interface
	DstInterface  string // dst_interface
	SrcUser       string // src_user
	DstUser       string // dst_user
	Bytes         Opt[uint64]
	Packets       Opt[uint64]
	Signature     string      // signature: IDS/IPS signature name
	SignatureID   string      // signature_id
	DiodeID       string      // diode_id
	DiodeSide     string      // diode_side: tx or rx
	DiodeStatus   string      // diode_status: ok, degraded, down, ...
	DiodeSeq      Opt[uint64] // diode_seq: heartbeat sequence number
	DiodeLagMS    Opt[uint64] // diode_lag_ms
	DiodeBPS      Opt[uint64] // diode_bps: throughput in bits per second
	Message       string      // message: the original line, its bytes as received (see AppendJSON)
	Attrs         []Attr      // attrs: other vendor fields, in their order
	ParseError    string      // parse_error: why a raw event was not decoded

	// The correlator's judgement, set on enriched events (see package
	// correlate); empty on events straight from ingest.
	SrcZone string // src_zone: zone id of the source, "" when in none
	DstZone string // dst_zone: zone id of the destination
	Conduit string // conduit: conduit id the flow crosses or would cross
	Verdict string // verdict: allowed, violation, policy_drift, would_block, blocked, false_block, intra_zone, unknown_zone
	Reason  string // reason: why the declared policy forbids it (see rules.Reason)
}

// Where an event's time came from (Event.TimeSource).
const (
	// TimeDevice: the device's own timestamp, from the syslog header or
	// the log body.
	TimeDevice = "device"
	// TimeReceived: the line carried no time (an ASA without "logging
	// timestamp", a header-less line), so Time is the receive time.
	TimeReceived = "received"
)

// DefaultTime gives an event without a device time its receive time,
// marked with TimeSource TimeReceived. The parser calls it once the decoder
// is done, so every event is judged and stored with a time.
func (e *Event) DefaultTime() {
	if e.Time.IsZero() && !e.ReceivedAt.IsZero() {
		e.Time, e.TimeSource = e.ReceivedAt, TimeReceived
	}
}

// Attr returns the value of the first attribute named key.
func (e *Event) Attr(key string) (string, bool) { return getAttr(e.Attrs, key) }

// SetAttr appends an attribute, or replaces the value of an existing one.
func (e *Event) SetAttr(key, value string) { setAttr(&e.Attrs, key, value) }

func getAttr(as []Attr, key string) (string, bool) {
	for _, a := range as {
		if a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

func setAttr(as *[]Attr, key, value string) {
	for i := range *as {
		if (*as)[i].Key == key {
			(*as)[i].Value = value
			return
		}
	}
	*as = append(*as, Attr{key, value})
}

// Reset clears the event for reuse, keeping the Attrs capacity.
func (e *Event) Reset() {
	attrs := e.Attrs[:0]
	*e = Event{Attrs: attrs}
}

// Attribute keys that decoders set and the correlator reads: the part of
// the contract about who opened a flow. Source is always the initiator;
// these say how a decoder knows, and mark records of a flow that are not
// its opening.
const (
	// AttrConnectionID is the reporting device's id for the connection
	// (ASA's connection id): the record that opens it has action allow,
	// the record that ends it the same id and action close.
	AttrConnectionID = "connection_id"
	// AttrInitiator says how the source was chosen when the record itself
	// does not name the initiator: InitiatorPorts (the side on a service
	// port is the responder, see the decoder), InitiatorUnknown (neither
	// side could be told; the order is the device's), InitiatorOpening
	// (the correlator oriented it like the record that opened the
	// connection) or InitiatorFlipped (the sensor said so itself, e.g.
	// Zeek's history). Absent when the record names the initiator.
	AttrInitiator = "initiator"
	// AttrMidFlow ("true") marks a record of a packet in the middle of a
	// flow whose opening the device did not track (ASA 106015 "no
	// connection": a reply or a late packet after the state was lost). It
	// is judged as part of that flow, never as a new one, and never counts
	// towards a scan.
	AttrMidFlow = "mid_flow"
)

// Values of AttrInitiator.
const (
	InitiatorPorts   = "ports"
	InitiatorUnknown = "unknown"
	InitiatorOpening = "opening"
	InitiatorFlipped = "flipped"
)

// SwapEndpoints exchanges source and destination: addresses, ports, mapped
// addresses and ports, interfaces and users. Decoders and the correlator
// use it to put the initiator first.
func (e *Event) SwapEndpoints() {
	e.SrcIP, e.DstIP = e.DstIP, e.SrcIP
	e.SrcPort, e.DstPort = e.DstPort, e.SrcPort
	e.SrcMappedIP, e.DstMappedIP = e.DstMappedIP, e.SrcMappedIP
	e.SrcMappedPort, e.DstMappedPort = e.DstMappedPort, e.SrcMappedPort
	e.SrcInterface, e.DstInterface = e.DstInterface, e.SrcInterface
	e.SrcUser, e.DstUser = e.DstUser, e.SrcUser
	src, hasSrc := e.Attr(AttrSrcHost)
	dst, hasDst := e.Attr(AttrDstHost)
	if hasSrc || hasDst {
		e.setHost(AttrSrcHost, dst, hasDst)
		e.setHost(AttrDstHost, src, hasSrc)
	}
}

// setHost sets a host name attr, or removes it when the other side had none.
func (e *Event) setHost(key, name string, ok bool) {
	if ok {
		e.SetAttr(key, name)
		return
	}
	for i, a := range e.Attrs {
		if a.Key == key {
			e.Attrs = append(e.Attrs[:i], e.Attrs[i+1:]...)
			return
		}
	}
}

// Attribute keys of the event contract that decoders set and later stages
// read.
const (
	// AttrSrcHost and AttrDstHost keep a host name a device printed in
	// place of an address (Cisco's "names", object names): the endpoint is
	// known by name only until the correlator resolves the name against
	// the model's assets.
	AttrSrcHost = "src_host"
	AttrDstHost = "dst_host"
	// AttrDeviceTime keeps, in RFC 3339 (or epoch seconds past year 9999),
	// an event time the device gave that was not plausible; the event's
	// time is then the receive time.
	AttrDeviceTime = "device_time"
)
