package bus

import (
	"context"
	"net/netip"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Dead-letter headers: why the bytes could not become an event, and where
// they came from. The payload is the bytes as received.
const (
	HeaderReason   = "Otsiem-Reason"
	HeaderListener = "Otsiem-Listener"
	HeaderSender   = "Otsiem-Sender"   // address:port, as netip.AddrPort writes it
	HeaderReceived = "Otsiem-Received" // RFC 3339 with nanoseconds, UTC
)

// DeadLetter is input that could not become an event (cut at the size
// limit, badly framed, from a sender not allowed), kept as it was received
// on otsiem.deadletter.<site>.<reason>: ingest writes it, storage reads it
// into the deadletter table.
type DeadLetter struct {
	Site     string
	Reason   string // ingest's reason (oversize, incomplete, framing, sender_not_allowed)
	Listener string // the listener's name
	Sender   netip.AddrPort
	Received time.Time
	Data     []byte
	// ID is its Msg-Id (DeadLetterMsgID when written); read back, "" for
	// a message published without one.
	ID string
}

// msg builds the message: subject, headers, Msg-Id. Data is not copied.
func (d *DeadLetter) msg() *nats.Msg {
	m := &nats.Msg{Subject: DeadLetterSubject(d.Site, d.Reason), Data: d.Data, Header: nats.Header{}}
	m.Header.Set(HeaderReason, d.Reason)
	m.Header.Set(HeaderListener, d.Listener)
	m.Header.Set(HeaderSender, d.Sender.String())
	m.Header.Set(HeaderReceived, d.Received.UTC().Format(time.RFC3339Nano))
	id := d.ID
	if id == "" {
		id = DeadLetterMsgID(d.Sender.Addr(), d.Received, d.Data)
	}
	m.Header.Set(jetstream.MsgIDHeader, id)
	return m
}

// PublishDeadLetter publishes d (see PublishMsg); d.Data is copied.
func (p *Publisher) PublishDeadLetter(ctx context.Context, d DeadLetter) error {
	d.Data = append([]byte(nil), d.Data...)
	return p.PublishMsg(ctx, d.msg())
}

// ReadDeadLetter reads a dead letter from a message of OTSIEM_DEADLETTER.
// What its headers lack is taken from the subject (site, reason) and the
// stream (the time it was stored stands for the time received); a sender
// header with an address and no port gives port 0. Data is the message's.
func ReadDeadLetter(m *Msg) DeadLetter {
	d := DeadLetter{Data: m.Data(), Reason: m.Header(HeaderReason), Listener: m.Header(HeaderListener), ID: m.ID()}
	if s, err := ParseSubject(m.Subject()); err == nil {
		d.Site = s.Site
		if d.Reason == "" {
			d.Reason = s.Tail
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, m.Header(HeaderReceived)); err == nil {
		d.Received = t
	} else {
		d.Received = m.Stored()
	}
	if s := m.Header(HeaderSender); s != "" {
		if ap, err := netip.ParseAddrPort(s); err == nil {
			d.Sender = ap
		} else if a, err := netip.ParseAddr(s); err == nil {
			d.Sender = netip.AddrPortFrom(a, 0)
		}
	}
	return d
}
