package review_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/otsiem/otsiem/correlate"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/review"
	"github.com/otsiem/otsiem/rules"
	"github.com/otsiem/otsiem/storage"
	"github.com/otsiem/otsiem/storage/chdb/chdbtest"
)

func TestMain(m *testing.M) { chdbtest.Main(m) }

// traffic builds events as the decoders would give them and judges them
// under a model, as the correlator does, before they are stored.
type traffic struct {
	m   *rules.Model
	evs []*event.Event
}

// line is one event: a device's flow (or, with src "", a line that is no
// flow, such as a system message).
type line struct {
	device   string
	kind     event.Kind
	action   event.Action
	src, dst string
	port     uint16
	app      string
	fc       int32 // -1: none
	fn       string
}

func (tr *traffic) add(t time.Time, l line) {
	ev := &event.Event{Time: t, ReceivedAt: t.Add(time.Second), Site: "refinery", Kind: l.kind, Device: l.device, Action: l.action,
		Transport: "tcp", AppProtocol: l.app, Function: l.fn}
	if ev.Kind == "" {
		ev.Kind = event.KindFlow
	}
	if l.src != "" {
		ev.SrcIP, ev.DstIP = netip.MustParseAddr(l.src), netip.MustParseAddr(l.dst)
		ev.SrcPort, ev.DstPort = event.Some(uint16(40000+len(tr.evs)%20000)), event.Some(l.port)
	}
	if l.fc >= 0 {
		ev.FunctionCode = event.Some(l.fc)
	}
	ev.Message = fmt.Sprintf("%s %d %+v", l.device, len(tr.evs), l)
	ev.ID = event.NewID(netip.Addr{}, l.device, ev.ReceivedAt, []byte(ev.Message))
	correlate.Enrich(tr.m, ev)
	tr.evs = append(tr.evs, ev)
}

// daily adds n events of a line on each day in [from, to), spread over the
// working hours.
func (tr *traffic) daily(from, to time.Time, n int, l line) {
	for d := from; d.Before(to); d = d.Add(24 * time.Hour) {
		for i := range n {
			tr.add(d.Add(8*time.Hour+time.Duration(i)*time.Hour/time.Duration(max(n, 1))), l)
		}
	}
}

// store inserts the events and waits for the device rollups to hold them.
func (tr *traffic) store(t *testing.T, conn driver.Conn) {
	t.Helper()
	b := storage.NewEvents()
	for _, ev := range tr.evs {
		if err := b.Add(ev, ev.ID.String()); err != nil {
			t.Fatal(err)
		}
	}
	if err := storage.Insert(t.Context(), conn, b.Batch); err != nil {
		t.Fatal(err)
	}
	chdbtest.WaitUint(t, conn, "SELECT sum(events) FROM device_daily", uint64(len(tr.evs)))
	chdbtest.WaitUint(t, conn, "SELECT toUInt64(count() > 0) FROM device_flows_hourly", 1)
}

// migrated returns a connection to a fresh database with the schema.
func migrated(t *testing.T) driver.Conn {
	t.Helper()
	conn, _ := chdbtest.ClickHouse(t)
	if _, err := storage.Migrate(t.Context(), conn, storage.MigrateOptions{}); err != nil {
		t.Fatal(err)
	}
	return conn
}

func refinery(t *testing.T) *review.Plant {
	t.Helper()
	p, err := review.LoadPlant("../examples/refinery")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func storageMigrate(t *testing.T, conn driver.Conn) ([]storage.Migration, error) {
	return storage.Migrate(t.Context(), conn, storage.MigrateOptions{})
}
