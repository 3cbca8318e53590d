package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Event is one row of the events table: a normalized event (issue 3's JSON
// keys) with the correlator's verdict. Absent addresses are the zero Addr.
type Event struct {
	EventID      string            `json:"event_id"`
	Time         time.Time         `json:"time"`
	ReceivedAt   time.Time         `json:"received_at"`
	Site         string            `json:"site,omitempty"`
	Kind         string            `json:"kind,omitempty"`
	Vendor       string            `json:"vendor,omitempty"`
	Product      string            `json:"product,omitempty"`
	Device       string            `json:"device,omitempty"`
	DeviceIP     netip.Addr        `json:"device_ip,omitzero"`
	MessageID    string            `json:"message_id,omitempty"`
	Severity     *uint8            `json:"severity,omitempty"`
	Action       string            `json:"action,omitempty"`
	SrcIP        netip.Addr        `json:"src_ip,omitzero"`
	SrcPort      uint16            `json:"src_port,omitempty"`
	DstIP        netip.Addr        `json:"dst_ip,omitzero"`
	DstPort      uint16            `json:"dst_port,omitempty"`
	Transport    string            `json:"transport,omitempty"`
	AppProtocol  string            `json:"app_protocol,omitempty"`
	FunctionCode *uint16           `json:"function_code,omitempty"`
	Function     string            `json:"function,omitempty"`
	Rule         string            `json:"rule,omitempty"`
	SrcInterface string            `json:"src_interface,omitempty"`
	DstInterface string            `json:"dst_interface,omitempty"`
	Bytes        uint64            `json:"bytes,omitempty"`
	Packets      uint64            `json:"packets,omitempty"`
	DiodeID      string            `json:"diode_id,omitempty"`
	DiodeStatus  string            `json:"diode_status,omitempty"`
	Message      string            `json:"message,omitempty"`
	Attrs        map[string]string `json:"attrs,omitempty"`
	ParseError   string            `json:"parse_error,omitempty"`
	SrcZone      string            `json:"src_zone,omitempty"`
	DstZone      string            `json:"dst_zone,omitempty"`
	Conduit      string            `json:"conduit,omitempty"`
	Verdict      string            `json:"verdict,omitempty"`
	Reason       string            `json:"reason,omitempty"`
}

// eventColumns is the events table's insert column list, in Event.values order.
const eventColumns = "event_id, time, received_at, site, kind, vendor, product, device, device_ip, message_id, " +
	"severity, action, src_ip, src_port, dst_ip, dst_port, transport, app_protocol, function_code, function, " +
	"rule, src_interface, dst_interface, bytes, packets, diode_id, diode_status, message, attrs, parse_error, " +
	"src_zone, dst_zone, conduit, verdict, reason"

func (e *Event) values() []any {
	attrs := e.Attrs
	if attrs == nil {
		attrs = map[string]string{}
	}
	return []any{e.EventID, e.Time, e.ReceivedAt, e.Site, e.Kind, e.Vendor, e.Product, e.Device, addr(e.DeviceIP),
		e.MessageID, e.Severity, e.Action, addr(e.SrcIP), e.SrcPort, addr(e.DstIP), e.DstPort, e.Transport,
		e.AppProtocol, e.FunctionCode, e.Function, e.Rule, e.SrcInterface, e.DstInterface, e.Bytes, e.Packets,
		e.DiodeID, e.DiodeStatus, e.Message, attrs, e.ParseError, e.SrcZone, e.DstZone, e.Conduit, e.Verdict, e.Reason}
}

// Finding is one row of the findings table (issue 4's JSON keys). Each
// update of a folded finding is a new row with the same FindingID.
type Finding struct {
	FindingID    string     `json:"finding_id"`
	Time         time.Time  `json:"time"`
	FirstSeen    time.Time  `json:"first_seen"`
	LastSeen     time.Time  `json:"last_seen"`
	Count        uint64     `json:"count"`
	Type         string     `json:"type"`
	Reason       string     `json:"reason,omitempty"`
	Severity     string     `json:"severity"`
	Site         string     `json:"site,omitempty"`
	SrcIP        netip.Addr `json:"src_ip,omitzero"`
	SrcZone      string     `json:"src_zone,omitempty"`
	DstIP        netip.Addr `json:"dst_ip,omitzero"`
	DstZone      string     `json:"dst_zone,omitempty"`
	DstPort      uint16     `json:"dst_port,omitempty"`
	Transport    string     `json:"transport,omitempty"`
	AppProtocol  string     `json:"app_protocol,omitempty"`
	FunctionCode *uint16    `json:"function_code,omitempty"`
	Conduit      string     `json:"conduit,omitempty"`
	Device       string     `json:"device,omitempty"`
	Mode         string     `json:"mode,omitempty"`
	Rule         string     `json:"rule,omitempty"`
	Summary      string     `json:"summary"`
	EventIDs     []string   `json:"event_ids,omitempty"`
}

const findingColumns = "finding_id, time, first_seen, last_seen, count, type, reason, severity, site, src_ip, " +
	"src_zone, dst_ip, dst_zone, dst_port, transport, app_protocol, function_code, conduit, device, mode, rule, " +
	"summary, event_ids"

func (f *Finding) values() []any {
	ids := f.EventIDs
	if ids == nil {
		ids = []string{}
	}
	return []any{f.FindingID, f.Time, f.FirstSeen, f.LastSeen, f.Count, f.Type, f.Reason, f.Severity, f.Site,
		addr(f.SrcIP), f.SrcZone, addr(f.DstIP), f.DstZone, f.DstPort, f.Transport, f.AppProtocol, f.FunctionCode,
		f.Conduit, f.Device, f.Mode, f.Rule, f.Summary, ids}
}

// DeadLetter is one row of the deadletter table: input that could not be
// decoded, kept raw.
type DeadLetter struct {
	ID         string     `json:"id"`
	ReceivedAt time.Time  `json:"received_at"`
	Site       string     `json:"site,omitempty"`
	Source     string     `json:"source,omitempty"`
	Sender     netip.Addr `json:"sender,omitzero"`
	Reason     string     `json:"reason"`
	Error      string     `json:"error,omitempty"`
	Raw        []byte     `json:"raw"`
}

const deadLetterColumns = "id, received_at, site, source, sender, reason, error, raw"

func (d *DeadLetter) values() []any {
	return []any{d.ID, d.ReceivedAt, d.Site, d.Source, addr(d.Sender), d.Reason, d.Error, string(d.Raw)}
}

// addr maps an absent address to '::' and IPv4 to IPv4-mapped IPv6.
func addr(a netip.Addr) netip.Addr {
	if !a.IsValid() {
		return netip.IPv6Unspecified()
	}
	return netip.AddrFrom16(a.As16())
}

// Row is what a table holds: *Event, *Finding or *DeadLetter.
type Row interface {
	// key is the row's stable id, from which a batch's deduplication
	// token is derived.
	key() string
	values() []any
}

func (e *Event) key() string { return e.EventID }
func (f *Finding) key() string {
	return f.FindingID + "@" + f.LastSeen.UTC().Format(time.RFC3339Nano) + "#" + strconv.FormatUint(f.Count, 10)
}
func (d *DeadLetter) key() string { return d.ID }

// table returns the table and insert columns for a row type.
func table(r Row) (string, string) {
	switch r.(type) {
	case *Event:
		return "events", eventColumns
	case *Finding:
		return "findings", findingColumns
	default:
		return "deadletter", deadLetterColumns
	}
}

// DedupToken is the insert deduplication token of a batch: a hash of its
// rows' ids in order, so the same batch retried is dropped by ClickHouse
// (and by the materialized views fed from it).
func DedupToken[R Row](rows []R) string {
	h := sha256.New()
	for _, r := range rows {
		h.Write([]byte(r.key()))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Insert writes rows, all of one type, as one batch deduplicated by
// [DedupToken]: inserting the same rows again is a no-op.
func Insert[R Row](ctx context.Context, conn driver.Conn, rows []R) error {
	if len(rows) == 0 {
		return nil
	}
	tbl, cols := table(rows[0])
	ctx = clickhouse.Context(ctx,
		clickhouse.WithSettings(clickhouse.Settings{
			"insert_deduplicate":                                 1,
			"insert_deduplication_token":                         DedupToken(rows),
			"deduplicate_blocks_in_dependent_materialized_views": 1,
		}))
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+tbl+" ("+cols+")")
	if err != nil {
		return fmt.Errorf("storage: insert into %s: %w", tbl, err)
	}
	for _, r := range rows {
		if err := b.Append(r.values()...); err != nil {
			_ = b.Abort()
			return fmt.Errorf("storage: insert into %s: %w", tbl, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("storage: insert into %s: %w", tbl, err)
	}
	return nil
}
