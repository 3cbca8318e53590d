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

	"github.com/otsiem/otsiem/ingest/event"
)

// column is one column of a batch being built, appended to clickhouse-go
// as a whole slice (much cheaper than row-wise Append).
type column interface {
	send(driver.BatchColumn) error
	pick(idx []int) column
	reset()
}

type col[T any] []T

func (c *col[T]) add(v T)                         { *c = append(*c, v) }
func (c *col[T]) send(b driver.BatchColumn) error { return b.Append([]T(*c)) }
func (c *col[T]) reset()                          { clear(*c); *c = (*c)[:0] }
func (c *col[T]) pick(idx []int) column {
	out := make(col[T], len(idx))
	for i, j := range idx {
		out[i] = (*c)[j]
	}
	return &out
}

// Batch is rows of one table, held column by column, each row with a key
// (its stable identity: an event id, a finding id and revision, a dead
// letter id). Build one with [NewEvents], [NewFindings] or
// [NewDeadLetters]; insert it with [Insert].
type Batch struct {
	table string
	names []string
	cols  []column
	keys  col[string]
	// times are the rows' times, to bound [Existing]'s search.
	times col[time.Time]
	// raws are the rows' source records when the writer knows them, for
	// dead letters.
	raws [][]byte
}

func newBatch(table string, cols ...namedColumn) *Batch {
	b := &Batch{table: table}
	for _, c := range cols {
		b.names = append(b.names, c.name)
		b.cols = append(b.cols, c.col)
	}
	return b
}

type namedColumn struct {
	name string
	col  column
}

// Table is the table the batch's rows go to.
func (b *Batch) Table() string { return b.table }

// Len is the number of rows.
func (b *Batch) Len() int { return len(b.keys) }

// Key returns row i's key.
func (b *Batch) Key(i int) string { return b.keys[i] }

// Reset empties the batch for reuse.
func (b *Batch) Reset() {
	for _, c := range b.cols {
		c.reset()
	}
	b.keys.reset()
	b.times.reset()
	clear(b.raws)
	b.raws = b.raws[:0]
}

// pick returns a new batch of rows idx of b.
func (b *Batch) pick(idx []int) *Batch {
	out := &Batch{table: b.table, names: b.names, cols: make([]column, len(b.cols))}
	for i, c := range b.cols {
		out.cols[i] = c.pick(idx)
	}
	out.keys = *b.keys.pick(idx).(*col[string])
	out.times = *b.times.pick(idx).(*col[time.Time])
	if len(b.raws) == b.Len() {
		for _, j := range idx {
			out.raws = append(out.raws, b.raws[j])
		}
	}
	return out
}

// DedupToken is the insert deduplication token of a batch: a hash of its
// row keys in order, so that the same batch inserted again (a retry after a
// lost response) is dropped by ClickHouse, and by the materialized views
// fed from it.
func (b *Batch) DedupToken() string {
	h := sha256.New()
	for _, k := range b.keys {
		h.Write([]byte(k))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// insertSettings are the settings of every insert.
func insertSettings(token string) clickhouse.Settings {
	return clickhouse.Settings{
		"insert_deduplicate":                                 1,
		"insert_deduplication_token":                         token,
		"deduplicate_blocks_in_dependent_materialized_views": 1,
		// ReplacingMergeTree would otherwise sort and collapse each block
		// on insert: 40% of the insert time, for duplicates the writer
		// never sends (see Existing). Merges still collapse any.
		"optimize_on_insert":       0,
		"parallel_view_processing": 1,
		// A batch of events from a device with a wild clock may touch many
		// days; that is worth a warning in the server log, not a refusal.
		"throw_on_max_partitions_per_insert_block": 0,
	}
}

// Insert writes the batch as one insert deduplicated by its
// [Batch.DedupToken]: inserting the same rows again is a no-op.
func Insert(ctx context.Context, conn driver.Conn, b *Batch) error {
	if b.Len() == 0 {
		return nil
	}
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(insertSettings(b.DedupToken())))
	pb, err := conn.PrepareBatch(ctx, "INSERT INTO "+b.table+" ("+joinNames(b.names)+")")
	if err != nil {
		return fmt.Errorf("storage: insert into %s: %w", b.table, err)
	}
	for i, c := range b.cols {
		if err := c.send(pb.Column(i)); err != nil {
			_ = pb.Abort()
			return fmt.Errorf("storage: insert into %s column %s: %w", b.table, b.names[i], err)
		}
	}
	if err := pb.Send(); err != nil {
		return fmt.Errorf("storage: insert into %s: %w", b.table, err)
	}
	return nil
}

func joinNames(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}

// existingQueries find which keys of a table are stored; {keys} are the
// keys, {lo} and {hi} bound the rows' times.
var existingQueries = map[string]string{
	"events": `SELECT event_id FROM events
WHERE time >= {lo:DateTime64(6, 'UTC')} AND time <= {hi:DateTime64(6, 'UTC')} AND event_id IN {keys:Array(String)}`,
	"finding_revisions": `SELECT concat(finding_id, '#', toString(revision)) AS k FROM finding_revisions
WHERE finding_id IN (SELECT splitByChar('#', arrayJoin({keys:Array(String)}))[1]) AND k IN {keys:Array(String)}`,
	"deadletter": `SELECT id FROM deadletter
WHERE received_at >= {lo:DateTime64(6, 'UTC')} AND received_at <= {hi:DateTime64(6, 'UTC')} AND id IN {keys:Array(String)}`,
}

// Existing returns the keys of rows of b that the table already holds.
// The writer asks it about redelivered messages only: their rows may have
// been committed by a writer that stopped before acknowledging them.
func Existing(ctx context.Context, conn driver.Conn, b *Batch) (map[string]bool, error) {
	found := map[string]bool{}
	if b.Len() == 0 {
		return found, nil
	}
	lo, hi := b.times[0], b.times[0]
	for _, t := range b.times {
		if t.Before(lo) {
			lo = t
		}
		if t.After(hi) {
			hi = t
		}
	}
	rows, err := conn.Query(ctx, existingQueries[b.table], clickhouse.Named("keys", []string(b.keys)),
		clickhouse.Named("lo", lo.UTC()), clickhouse.Named("hi", hi.UTC()))
	if err != nil {
		return nil, fmt.Errorf("storage: find stored %s: %w", b.table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("storage: find stored %s: %w", b.table, err)
		}
		found[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: find stored %s: %w", b.table, err)
	}
	return found, nil
}

// addr maps an absent address to '::' and IPv4 to IPv4-mapped IPv6.
func addr(a netip.Addr) netip.Addr {
	if !a.IsValid() {
		return netip.IPv6Unspecified()
	}
	return netip.AddrFrom16(a.As16())
}

// Time bounds of ClickHouse's DateTime64: rows outside them cannot be
// stored as they are (see Events.Add).
var (
	minTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
)

func timeOK(t time.Time) bool { return !t.Before(minTime) && t.Before(maxTime) }

// Events is a batch of rows of the events table.
type Events struct {
	*Batch
	id, site, kind, vendor, product, device, messageID, action, transport, appProtocol, function, rule,
	srcInterface, dstInterface, srcUser, dstUser, signature, signatureID, diodeID, diodeSide, diodeStatus,
	message, messageBytes, timeSource, parseError, srcZone, dstZone, conduit, verdict, reason col[string]
	time, receivedAt               col[time.Time]
	deviceIP, srcIP, dstIP         col[netip.Addr]
	srcMappedIP, dstMappedIP       col[netip.Addr]
	severity                       col[*uint8]
	srcPort, dstPort               col[uint16]
	srcMappedPort, dstMappedPort   col[*uint16]
	functionCode                   col[*int32]
	bytes, packets                 col[uint64]
	diodeSeq, diodeLagMS, diodeBPS col[*uint64]
	attrs                          col[map[string]string]
}

// NewEvents returns an empty batch of events.
func NewEvents() *Events {
	e := &Events{}
	e.Batch = newBatch("events",
		namedColumn{"event_id", &e.id}, namedColumn{"time", &e.time}, namedColumn{"time_source", &e.timeSource},
		namedColumn{"received_at", &e.receivedAt},
		namedColumn{"site", &e.site}, namedColumn{"kind", &e.kind}, namedColumn{"vendor", &e.vendor},
		namedColumn{"product", &e.product}, namedColumn{"device", &e.device}, namedColumn{"device_ip", &e.deviceIP},
		namedColumn{"message_id", &e.messageID}, namedColumn{"severity", &e.severity}, namedColumn{"action", &e.action},
		namedColumn{"src_ip", &e.srcIP}, namedColumn{"src_port", &e.srcPort}, namedColumn{"dst_ip", &e.dstIP},
		namedColumn{"dst_port", &e.dstPort}, namedColumn{"src_mapped_ip", &e.srcMappedIP},
		namedColumn{"src_mapped_port", &e.srcMappedPort}, namedColumn{"dst_mapped_ip", &e.dstMappedIP},
		namedColumn{"dst_mapped_port", &e.dstMappedPort}, namedColumn{"transport", &e.transport},
		namedColumn{"app_protocol", &e.appProtocol}, namedColumn{"function_code", &e.functionCode},
		namedColumn{"function", &e.function}, namedColumn{"rule", &e.rule},
		namedColumn{"src_interface", &e.srcInterface}, namedColumn{"dst_interface", &e.dstInterface},
		namedColumn{"src_user", &e.srcUser}, namedColumn{"dst_user", &e.dstUser},
		namedColumn{"bytes", &e.bytes}, namedColumn{"packets", &e.packets},
		namedColumn{"signature", &e.signature}, namedColumn{"signature_id", &e.signatureID},
		namedColumn{"diode_id", &e.diodeID}, namedColumn{"diode_side", &e.diodeSide},
		namedColumn{"diode_status", &e.diodeStatus}, namedColumn{"diode_seq", &e.diodeSeq},
		namedColumn{"diode_lag_ms", &e.diodeLagMS}, namedColumn{"diode_bps", &e.diodeBPS},
		namedColumn{"message", &e.message}, namedColumn{"message_bytes", &e.messageBytes},
		namedColumn{"attrs", &e.attrs}, namedColumn{"parse_error", &e.parseError},
		namedColumn{"src_zone", &e.srcZone}, namedColumn{"dst_zone", &e.dstZone}, namedColumn{"conduit", &e.conduit},
		namedColumn{"verdict", &e.verdict}, namedColumn{"reason", &e.reason},
	)
	return e
}

// severities and their pointers: Nullable columns take pointers, and these
// cost no allocation per row.
var severities = [8]uint8{0, 1, 2, 3, 4, 5, 6, 7}

var noAttrs = map[string]string{}

// Add appends an enriched event (the ingest contract plus the correlator's
// verdict). key is the row's identity, normally the event id. An event
// without a time takes its receive time (time_source 'received'). It
// refuses an event whose times ClickHouse cannot store (the caller
// dead-letters it).
func (e *Events) Add(ev *event.Event, key string) error {
	ev.DefaultTime()
	if !timeOK(ev.Time) || (!ev.ReceivedAt.IsZero() && !timeOK(ev.ReceivedAt)) {
		return fmt.Errorf("event time %s outside what ClickHouse stores (%d-%d)", ev.Time.UTC().Format(time.RFC3339), minTime.Year(), maxTime.Year()-1)
	}
	e.keys.add(key)
	e.times.add(ev.Time)
	e.id.add(key)
	e.time.add(ev.Time)
	if ev.TimeSource == "" {
		e.timeSource.add(event.TimeDevice)
	} else {
		e.timeSource.add(ev.TimeSource)
	}
	e.receivedAt.add(ev.ReceivedAt)
	e.site.add(ev.Site)
	e.kind.add(string(ev.Kind))
	e.vendor.add(ev.Vendor)
	e.product.add(ev.Product)
	e.device.add(ev.Device)
	e.deviceIP.add(addr(ev.DeviceIP))
	e.messageID.add(ev.MessageID)
	if v, ok := ev.Severity.Get(); ok && int(v) < len(severities) {
		e.severity.add(&severities[v])
	} else {
		e.severity.add(nil)
	}
	e.action.add(string(ev.Action))
	e.srcIP.add(addr(ev.SrcIP))
	e.srcPort.add(ev.SrcPort.V)
	e.dstIP.add(addr(ev.DstIP))
	e.dstPort.add(ev.DstPort.V)
	e.srcMappedIP.add(addr(ev.SrcMappedIP))
	e.srcMappedPort.add(optPtr(ev.SrcMappedPort))
	e.dstMappedIP.add(addr(ev.DstMappedIP))
	e.dstMappedPort.add(optPtr(ev.DstMappedPort))
	e.transport.add(ev.Transport)
	e.appProtocol.add(ev.AppProtocol)
	if v, ok := ev.FunctionCode.Get(); ok {
		e.functionCode.add(&v)
	} else {
		e.functionCode.add(nil)
	}
	e.function.add(ev.Function)
	e.rule.add(ev.Rule)
	e.srcInterface.add(ev.SrcInterface)
	e.dstInterface.add(ev.DstInterface)
	e.srcUser.add(ev.SrcUser)
	e.dstUser.add(ev.DstUser)
	e.bytes.add(ev.Bytes.V)
	e.packets.add(ev.Packets.V)
	e.signature.add(ev.Signature)
	e.signatureID.add(ev.SignatureID)
	e.diodeID.add(ev.DiodeID)
	e.diodeSide.add(ev.DiodeSide)
	e.diodeStatus.add(ev.DiodeStatus)
	e.diodeSeq.add(optPtr(ev.DiodeSeq))
	e.diodeLagMS.add(optPtr(ev.DiodeLagMS))
	e.diodeBPS.add(optPtr(ev.DiodeBPS))
	// The line as shown, and its exact bytes when they differ.
	if shown := event.ToValidUTF8(ev.Message); shown == ev.Message {
		e.message.add(ev.Message)
		e.messageBytes.add("")
	} else {
		e.message.add(shown)
		e.messageBytes.add(ev.Message)
	}
	if len(ev.Attrs) == 0 {
		e.attrs.add(noAttrs)
	} else {
		m := make(map[string]string, len(ev.Attrs))
		for _, a := range ev.Attrs {
			if _, dup := m[a.Key]; !dup {
				m[a.Key] = a.Value
			}
		}
		e.attrs.add(m)
	}
	e.parseError.add(ev.ParseError)
	e.srcZone.add(ev.SrcZone)
	e.dstZone.add(ev.DstZone)
	e.conduit.add(ev.Conduit)
	e.verdict.add(ev.Verdict)
	e.reason.add(ev.Reason)
	return nil
}

func optPtr[T event.Number](o event.Opt[T]) *T {
	if !o.OK {
		return nil
	}
	v := o.V
	return &v
}

// Findings is a batch of rows of the finding_revisions table: each
// published revision of a finding is one row.
type Findings struct {
	*Batch
	id, typ, reason, severity, status, site, srcZone, srcAsset, dstZone, dstAsset, transport, appProtocol,
	conduit, device, mode, rule, diodeID, summary col[string]
	revision, count       col[uint64]
	time, firstSeen, last col[time.Time]
	srcIP, dstIP          col[netip.Addr]
	dstPort               col[*uint16]
	functionCode          col[*int32]
	eventIDs              col[[]string]
	attrs                 col[map[string]string]
}

// NewFindings returns an empty batch of findings.
func NewFindings() *Findings {
	f := &Findings{}
	f.Batch = newBatch("finding_revisions",
		namedColumn{"finding_id", &f.id}, namedColumn{"revision", &f.revision}, namedColumn{"time", &f.time},
		namedColumn{"first_seen", &f.firstSeen}, namedColumn{"last_seen", &f.last}, namedColumn{"count", &f.count},
		namedColumn{"type", &f.typ}, namedColumn{"reason", &f.reason}, namedColumn{"severity", &f.severity},
		namedColumn{"status", &f.status}, namedColumn{"site", &f.site}, namedColumn{"src_ip", &f.srcIP},
		namedColumn{"src_zone", &f.srcZone}, namedColumn{"src_asset", &f.srcAsset}, namedColumn{"dst_ip", &f.dstIP},
		namedColumn{"dst_zone", &f.dstZone}, namedColumn{"dst_asset", &f.dstAsset}, namedColumn{"dst_port", &f.dstPort},
		namedColumn{"transport", &f.transport}, namedColumn{"app_protocol", &f.appProtocol},
		namedColumn{"function_code", &f.functionCode}, namedColumn{"conduit", &f.conduit},
		namedColumn{"device", &f.device}, namedColumn{"mode", &f.mode}, namedColumn{"rule", &f.rule},
		namedColumn{"diode_id", &f.diodeID}, namedColumn{"summary", &f.summary}, namedColumn{"event_ids", &f.eventIDs},
		namedColumn{"attrs", &f.attrs},
	)
	return f
}

// FindingRevision is the revision a finding is stored under: its
// revision, or its count when the producer sets none (counts only grow).
func FindingRevision(f *event.Finding) uint64 {
	if f.Revision > 0 {
		return f.Revision
	}
	return f.Count
}

// Add appends one revision of a finding.
func (f *Findings) Add(x *event.Finding) error {
	if x.FindingID == "" {
		return fmt.Errorf("finding without finding_id")
	}
	for _, t := range []time.Time{x.Time, x.FirstSeen, x.LastSeen} {
		if !t.IsZero() && !timeOK(t) {
			return fmt.Errorf("finding time %s outside what ClickHouse stores", t.UTC().Format(time.RFC3339))
		}
	}
	rev := FindingRevision(x)
	f.keys.add(x.FindingID + "#" + strconv.FormatUint(rev, 10))
	f.times.add(x.LastSeen)
	f.id.add(x.FindingID)
	f.revision.add(rev)
	f.time.add(x.Time)
	f.firstSeen.add(x.FirstSeen)
	f.last.add(x.LastSeen)
	f.count.add(x.Count)
	f.typ.add(x.Type)
	f.reason.add(x.Reason)
	f.severity.add(string(x.Severity))
	f.status.add(x.Status)
	f.site.add(x.Site)
	f.srcIP.add(addr(x.SrcIP))
	f.srcZone.add(x.SrcZone)
	f.srcAsset.add(x.SrcAsset)
	f.dstIP.add(addr(x.DstIP))
	f.dstZone.add(x.DstZone)
	f.dstAsset.add(x.DstAsset)
	f.dstPort.add(optPtr(x.DstPort))
	f.transport.add(x.Transport)
	f.appProtocol.add(x.AppProtocol)
	if v, ok := x.FunctionCode.Get(); ok {
		f.functionCode.add(&v)
	} else {
		f.functionCode.add(nil)
	}
	f.conduit.add(x.Conduit)
	f.device.add(x.Device)
	f.mode.add(x.Mode)
	f.rule.add(x.Rule)
	f.diodeID.add(x.DiodeID)
	f.summary.add(x.Summary)
	ids := make([]string, len(x.EventIDs))
	for i, id := range x.EventIDs {
		ids[i] = id.String()
	}
	f.eventIDs.add(ids)
	m := make(map[string]string, len(x.Attrs))
	for _, a := range x.Attrs {
		if _, dup := m[a.Key]; !dup {
			m[a.Key] = a.Value
		}
	}
	f.attrs.add(m)
	return nil
}

// DeadLetter is one row of the deadletter table: input that could not
// become an event (from ingest), or a record the store could not decode or
// ClickHouse refused (from the writer), kept raw with the reason.
type DeadLetter struct {
	ID         string
	ReceivedAt time.Time
	Site       string
	// Source is where it was refused: the ingest listener's name, or
	// "store".
	Source string
	Sender netip.Addr
	Reason string
	Error  string
	Raw    []byte
}

// DeadLetters is a batch of rows of the deadletter table.
type DeadLetters struct {
	*Batch
	id, site, source, reason, errText, raw col[string]
	receivedAt                             col[time.Time]
	sender                                 col[netip.Addr]
}

// NewDeadLetters returns an empty batch of dead letters.
func NewDeadLetters() *DeadLetters {
	d := &DeadLetters{}
	d.Batch = newBatch("deadletter",
		namedColumn{"id", &d.id}, namedColumn{"received_at", &d.receivedAt}, namedColumn{"site", &d.site},
		namedColumn{"source", &d.source}, namedColumn{"sender", &d.sender}, namedColumn{"reason", &d.reason},
		namedColumn{"error", &d.errText}, namedColumn{"raw", &d.raw},
	)
	return d
}

// Add appends a dead letter; a time ClickHouse cannot store becomes the
// current time.
func (d *DeadLetters) Add(x *DeadLetter) {
	t := x.ReceivedAt
	if !timeOK(t) {
		t = time.Now().UTC()
	}
	d.keys.add(x.ID)
	d.times.add(t)
	d.id.add(x.ID)
	d.receivedAt.add(t)
	d.site.add(x.Site)
	d.source.add(x.Source)
	d.sender.add(addr(x.Sender))
	d.reason.add(x.Reason)
	d.errText.add(x.Error)
	d.raw.add(string(x.Raw))
}
