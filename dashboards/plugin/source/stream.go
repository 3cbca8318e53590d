package source

import (
	"context"
	"fmt"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/nats-io/nats.go"

	"github.com/otsiem/otsiem/dashboards/zones"
	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/ingest/event"
)

// SubscribeStream admits a subscription to a findings channel
// ("findings", "findings/<severity>" or the filters of
// zones.Query.Channel) and refuses any other path as not found.
func (s *Source) SubscribeStream(_ context.Context, req *backend.SubscribeStreamRequest) (*backend.SubscribeStreamResponse, error) {
	if _, err := zones.ParseChannel(req.Path); err != nil {
		return &backend.SubscribeStreamResponse{Status: backend.SubscribeStreamStatusNotFound}, nil
	}
	return &backend.SubscribeStreamResponse{Status: backend.SubscribeStreamStatusOK}, nil
}

// PublishStream is refused: findings come from the correlator only.
func (s *Source) PublishStream(context.Context, *backend.PublishStreamRequest) (*backend.PublishStreamResponse, error) {
	return &backend.PublishStreamResponse{Status: backend.PublishStreamStatusPermissionDenied}, nil
}

// streamBuffer is how many findings may wait for Grafana; past it NATS
// reports the subscription as a slow consumer and drops, which is logged.
const streamBuffer = 4096

// RunStream sends every finding the correlator publishes
// (otsiem.findings.<severity>, each new revision) that passes the
// channel's filters, as a one-row frame of the findings query's fields,
// until ctx ends; it then unsubscribes and returns nil. Grafana runs one
// stream per channel, whatever the number of panels watching it.
func (s *Source) RunStream(ctx context.Context, req *backend.RunStreamRequest, sender *backend.StreamSender) error {
	q, err := zones.ParseChannel(req.Path)
	if err != nil {
		return err
	}
	nc, err := s.natsConn()
	if err != nil {
		return err
	}
	subject := bus.Filter(bus.StreamFindings)
	if len(q.Severities) == 1 {
		subject = bus.FindingsSubject(q.Severities[0])
	}
	msgs := make(chan *nats.Msg, streamBuffer)
	sub, err := nc.ChanSubscribe(subject, msgs)
	if err != nil {
		return fmt.Errorf("NATS subscribe %s: %w", subject, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := nc.Flush(); err != nil {
		return fmt.Errorf("NATS subscribe %s: %w", subject, err)
	}
	var f event.Finding
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-msgs:
			f = event.Finding{}
			if err := event.DecodeFinding(m.Data, &f); err != nil {
				s.log.Warn("a finding on NATS could not be read", "subject", m.Subject, "error", err.Error())
				continue
			}
			if !q.Matches(&f) {
				continue
			}
			frame := findingsFrame()
			appendFinding(frame, streamedRow(&f))
			if err := sender.SendFrame(frame, data.IncludeAll); err != nil {
				return err
			}
		}
	}
}

// streamedRow is a finding revision from NATS as a findings row. Its
// analyst state is "open": a revision is published when the finding
// changes, and acknowledgements live in ClickHouse, where the next
// refresh reads them.
func streamedRow(f *event.Finding) findingRow {
	var port *uint16
	if f.DstPort.OK {
		p := f.DstPort.V
		port = &p
	}
	return findingRow{LastSeen: f.LastSeen.UTC(), Severity: string(f.Severity), State: event.StateOpen, Type: f.Type,
		Reason: f.Reason, Status: f.Status, Count: f.Count, Summary: f.Summary, Conduit: f.Conduit,
		Source: endpoint(f.SrcAsset, f.SrcIP), SrcZone: f.SrcZone, Destination: endpoint(f.DstAsset, f.DstIP),
		DstZone: f.DstZone, DstPort: port, AppProtocol: f.AppProtocol, Device: f.Device, FirstSeen: f.FirstSeen.UTC(),
		Revision: f.Revision, FindingID: f.FindingID}
}
