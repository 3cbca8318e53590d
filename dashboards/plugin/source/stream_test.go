package source_test

import (
	"context"
	"encoding/json"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/ingest/event"
)

// publish publishes a finding revision exactly as the correlator does
// (correlate.Service): JetStream, subject otsiem.findings.<severity>,
// the finding's JSON, a message id of finding id and revision.
func (p *plant) publish(t *testing.T, f *event.Finding) {
	t.Helper()
	m := &nats.Msg{Subject: bus.SubjectFindings + "." + bus.Token(string(f.Severity)), Data: f.AppendJSON(nil), Header: nats.Header{}}
	m.Header.Set(jetstream.MsgIDHeader, f.FindingID+"/"+strconv.FormatUint(f.Revision, 10))
	if _, err := p.bus.JS.PublishMsg(t.Context(), m); err != nil {
		t.Fatal(err)
	}
}

func testFinding(id string, sev event.Severity, typ string) *event.Finding {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return &event.Finding{FindingID: id, Revision: 1, Time: now, FirstSeen: now.Add(-time.Second), LastSeen: now, Count: 2,
		Type: typ, Reason: "air_gap", Severity: sev, Status: event.StatusOpen, Site: "refinery-01",
		SrcIP: netip.MustParseAddr("10.30.1.15"), SrcZone: "Z3-OPS", DstIP: netip.MustParseAddr("10.10.1.5"), DstZone: "Z1-SIS",
		DstAsset: "SIS-LOGIC-01", DstPort: event.Opt[uint16]{V: 502, OK: true}, Transport: "tcp", AppProtocol: "modbus",
		Device: "sensor-z1", Summary: "Z3-OPS host 10.30.1.15 reached the air-gapped SIS (modbus tcp/502)"}
}

// waitSubs polls the NATS server until it holds want subscriptions.
func (p *plant) waitSubs(t *testing.T, want uint32) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for p.nats.NumSubscriptions() != want {
		if time.Now().After(deadline) {
			t.Fatalf("NATS holds %d subscriptions, want %d", p.nats.NumSubscriptions(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Subscribe, publish a finding as the correlator does, and receive its
// frame within a second, over Grafana's stream protocol (real gRPC) and a
// real NATS server; a finding the channel's filters exclude never
// arrives; cancelling ends the stream and its NATS subscription.
func testStream(t *testing.T, p *plant) {
	conn, err := grpc.NewClient(p.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sc := pluginv2.NewStreamClient(conn)
	pc := backend.ToProto().PluginContext(p.defaultConfig("otsiem-zones").pluginContext(t))

	for path, want := range map[string]pluginv2.SubscribeStreamResponse_Status{
		"findings":                                 pluginv2.SubscribeStreamResponse_OK,
		"findings/critical":                        pluginv2.SubscribeStreamResponse_OK,
		"findings/severity=high/type=scan":         pluginv2.SubscribeStreamResponse_OK,
		"findings/zone=Z1-SIS/conduit=C1-BPCS-OPS": pluginv2.SubscribeStreamResponse_OK,
		"findings/urgent":                          pluginv2.SubscribeStreamResponse_NOT_FOUND,
		"findings/type=scan/severity=high":         pluginv2.SubscribeStreamResponse_NOT_FOUND,
		"topology":                                 pluginv2.SubscribeStreamResponse_NOT_FOUND,
	} {
		r, err := sc.SubscribeStream(t.Context(), &pluginv2.SubscribeStreamRequest{PluginContext: pc, Path: path})
		if err != nil || r.Status != want {
			t.Errorf("subscribe %s: %v %v, want %v", path, r.GetStatus(), err, want)
		}
	}
	pr, err := sc.PublishStream(t.Context(), &pluginv2.PublishStreamRequest{PluginContext: pc, Path: "findings", Data: []byte(`{"x":1}`)})
	if err != nil || pr.Status != pluginv2.PublishStreamResponse_PERMISSION_DENIED {
		t.Errorf("publish: %v %v, want permission denied", pr.GetStatus(), err)
	}

	for _, tc := range []struct {
		path          string
		skip, deliver *event.Finding
	}{
		{"findings/critical", testFinding("aa01", event.SeverityHigh, event.VerdictViolation),
			testFinding("aa02", event.SeverityCritical, event.VerdictViolation)},
		{"findings/type=scan/zone=Z1-SIS", testFinding("bb01", event.SeverityCritical, event.VerdictViolation),
			testFinding("bb02", event.SeverityHigh, event.TypeScan)},
	} {
		t.Run(tc.path, func(t *testing.T) {
			// Settle the plugin's NATS connection first (its first use connects).
			before := p.nats.NumSubscriptions()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			st, err := sc.RunStream(ctx, &pluginv2.RunStreamRequest{PluginContext: pc, Path: tc.path})
			if err != nil {
				t.Fatal(err)
			}
			p.waitSubs(t, before+1)
			packets := make(chan *pluginv2.StreamPacket)
			ended := make(chan error, 1)
			go func() {
				for {
					pkt, err := st.Recv()
					if err != nil {
						ended <- err
						return
					}
					packets <- pkt
				}
			}()
			p.publish(t, tc.skip)
			p.publish(t, tc.deliver)
			sent := time.Now()
			var pkt *pluginv2.StreamPacket
			select {
			case pkt = <-packets:
			case err := <-ended:
				t.Fatalf("stream ended: %v", err)
			case <-time.After(time.Second):
				t.Fatal("no frame within 1 s of the publication")
			}
			t.Logf("frame %v after the publication", time.Since(sent))
			var f data.Frame
			if err := json.Unmarshal(pkt.Data, &f); err != nil {
				t.Fatalf("frame %s: %v", pkt.Data, err)
			}
			row := map[string]any{}
			for _, fd := range f.Fields {
				row[fd.Name], _ = fd.ConcreteAt(0)
			}
			if f.Name != "findings" || f.Rows() != 1 || row["finding_id"] != tc.deliver.FindingID ||
				row["severity"] != string(tc.deliver.Severity) || row["summary"] != tc.deliver.Summary ||
				row["destination"] != "SIS-LOGIC-01" || row["source"] != "10.30.1.15" || row["dst_port"] != uint16(502) ||
				row["state"] != "open" {
				t.Errorf("frame %s %d rows: %v", f.Name, f.Rows(), row)
			}
			// The streamed frame has the query's fields, so Grafana appends it.
			q := response(t, p.query(t, p.defaultConfig("otsiem-zones"), `{"queryType":"findings","limit":1}`), "A").Frames[0]
			if len(q.Fields) != len(f.Fields) {
				t.Fatalf("streamed frame has %d fields, the query's %d", len(f.Fields), len(q.Fields))
			}
			for i := range q.Fields {
				if q.Fields[i].Name != f.Fields[i].Name || q.Fields[i].Type() != f.Fields[i].Type() {
					t.Errorf("field %d: streamed %s %v, queried %s %v", i, f.Fields[i].Name, f.Fields[i].Type(),
						q.Fields[i].Name, q.Fields[i].Type())
				}
			}

			cancel()
			select {
			case err := <-ended:
				if status.Code(err) != codes.Canceled {
					t.Errorf("stream ended with %v, want cancelled", err)
				}
			case pkt := <-packets:
				t.Errorf("a second frame: %s", pkt.Data)
			case <-time.After(10 * time.Second):
				t.Fatal("the stream did not end on cancel")
			}
			p.waitSubs(t, before)
		})
	}
}
