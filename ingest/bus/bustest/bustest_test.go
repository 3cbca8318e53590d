package bustest_test

import (
	"fmt"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/ingest/bus/bustest"
	"github.com/otsiem/otsiem/ingest/event"
)

// Events published as ingest publishes them (NDJSON batches) read back
// whole, by stream and by subject.
func TestReadBack(t *testing.T) {
	b := bustest.Open(t)
	pub, err := b.NewPublisher(bus.PublisherConfig{Stage: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for i, kind := range []event.Kind{event.KindFlow, event.KindDPI, event.KindFlow} {
		var data []byte
		for k := range 3 {
			ev := event.Event{Site: "refinery", Kind: kind, Device: fmt.Sprintf("fw-%d-%d", i, k)}
			data = append(ev.AppendJSON(data), '\n')
		}
		if err := pub.Publish(ctx, bus.SubjectEvents+".refinery."+string(kind), fmt.Sprint("m", i), data); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(bustest.Messages(t, b, bus.StreamEvents)); got != 3 {
		t.Errorf("%d messages, want 3", got)
	}
	if got := len(bustest.Messages(t, b, bus.StreamEnriched)); got != 0 {
		t.Errorf("%d messages in an empty stream", got)
	}
	dpi := bustest.Events(t, b, bus.StreamEvents, bus.SubjectEvents+".*.dpi")
	if len(dpi) != 3 || dpi[0].Device != "fw-1-0" || dpi[2].Device != "fw-1-2" {
		t.Errorf("dpi events %+v", dpi)
	}
	var subjects []string
	n := bustest.Records(t, b, bus.StreamEvents, func(m jetstream.Msg, _ []byte) { subjects = append(subjects, m.Subject()) })
	if n != 9 || subjects[0] != "otsiem.events.refinery.flow" || subjects[3] != "otsiem.events.refinery.dpi" {
		t.Errorf("%d records, subjects %v", n, subjects)
	}
}
