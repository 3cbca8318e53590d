package source_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/experimental/datasourcetest"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/otsiem/otsiem/dashboards/plugin/source"
	"github.com/otsiem/otsiem/dashboards/sample/sampletest"
	"github.com/otsiem/otsiem/dashboards/zones"
	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/ingest/bus/bustest"
	"github.com/otsiem/otsiem/storage/chdb"
	"github.com/otsiem/otsiem/storage/chdb/chdbtest"
	"github.com/otsiem/otsiem/storage/embedded"
)

var update = flag.Bool("update", false, "rewrite the golden frames in testdata")

// TestMain finds libchdb.so in the main module's cache (this module's
// root is dashboards/plugin, where `make chdb` installs nothing) unless
// CHDB_LIB_PATH names it, runs the tests and closes the engine.
func TestMain(m *testing.M) {
	if os.Getenv(chdb.EnvLibPath) == "" {
		lib, _ := filepath.Abs("../../../.cache/chdb/node_modules/@chdb/lib-linux-x64-gnu/libchdb.so")
		if _, err := os.Stat(lib); err == nil {
			_ = os.Setenv(chdb.EnvLibPath, lib)
		}
	}
	chdbtest.Main(m)
}

// Accounts of the test plant: the ClickHouse HTTP interface's reader and
// writer, and on NATS otsiem's own identity and a reader (subscribe to
// otsiem.> only, publish nothing), as `otsiem run` serves them.
const (
	chReader, chReaderPassword = "grafana", "reader-password"
	chWriter, chWriterPassword = "otsiem", "writer-password"
	natsOwn, natsOwnPassword   = "otsiem", "own-password"
	natsReader, natsReaderPass = "grafana", "nats-reader-password"
)

// plant is 30 minutes of the refinery simulator with every scenario,
// stored the way otsiem's pipeline stores it into an embedded engine
// served on a loopback socket behind the HTTP interface's guard; a NATS
// server with JetStream and otsiem's streams; and the plugin served over
// real gRPC by the SDK's test harness, reached as Grafana reaches it.
type plant struct {
	start, end time.Time
	chAddr, db string
	nats       *server.Server
	bus        *bus.Bus // otsiem's own connection, publishing as the correlator
	plugin     datasourcetest.TestPlugin
	grpcAddr   string
}

func newPlant(t testing.TB) *plant {
	t.Helper()
	users := embedded.Users{Reader: embedded.Credentials{User: chReader, Password: chReaderPassword},
		Writer: embedded.Credentials{User: chWriter, Password: chWriterPassword}}
	sp := sampletest.Serve(t, "../../../examples/refinery", time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), 30*time.Minute, users)
	p := &plant{start: sp.Start, end: sp.End, chAddr: sp.Addr, db: sp.DB}
	p.nats = startNATS(t)
	p.bus = bustest.OpenConfig(t, bus.Config{URL: p.nats.ClientURL(), Name: "otsiem-correlate", User: natsOwn, Password: natsOwnPassword})

	p.grpcAddr = freeAddr(t)
	var err error
	p.plugin, err = datasourcetest.Manage(source.New, datasourcetest.ManageOpts{Address: p.grpcAddr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.plugin.Shutdown(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// startNATS starts a NATS server with JetStream on a loopback port with
// two users: otsiem's own (everything) and a reader with the permissions
// of `otsiem run`'s reader role.
func startNATS(t testing.TB) *server.Server {
	t.Helper()
	reader := &server.Permissions{
		Publish:   &server.SubjectPermission{Deny: []string{">"}},
		Subscribe: &server.SubjectPermission{Allow: []string{"otsiem.>", "_INBOX.>"}},
	}
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		NoLog: true, NoSigs: true, Users: []*server.User{{Username: natsOwn, Password: natsOwnPassword},
			{Username: natsReader, Password: natsReaderPass, Permissions: reader}}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats: not ready")
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	return srv
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// config is a data source instance's configuration as Grafana sends it.
type config struct {
	UID      string
	JSONData map[string]any
	Secure   map[string]string
}

// defaultConfig is the plant's data source with the readers' accounts.
func (p *plant) defaultConfig(uid string) config {
	return config{UID: uid,
		JSONData: map[string]any{"clickhouseAddress": p.chAddr, "clickhouseDatabase": p.db, "clickhouseUser": chReader,
			"natsURL": p.nats.ClientURL(), "natsUser": natsReader},
		Secure: map[string]string{"clickhousePassword": chReaderPassword, "natsPassword": natsReaderPass}}
}

func (c config) pluginContext(t testing.TB) backend.PluginContext {
	t.Helper()
	js, err := json.Marshal(c.JSONData)
	if err != nil {
		t.Fatal(err)
	}
	return backend.PluginContext{OrgID: 1, PluginID: zones.PluginID, DataSourceInstanceSettings: &backend.DataSourceInstanceSettings{
		ID: 1, UID: c.UID, Type: zones.PluginID, Name: "otsiem zones", JSONData: js, DecryptedSecureJSONData: c.Secure,
		Updated: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}}
}

// query sends one QueryData request over gRPC with a query per JSON
// text, refIds A, B, … in order, over the plant's time range widened by
// ten minutes each way.
func (p *plant) query(t testing.TB, c config, queries ...string) *backend.QueryDataResponse {
	t.Helper()
	req := &backend.QueryDataRequest{PluginContext: c.pluginContext(t)}
	for i, q := range queries {
		req.Queries = append(req.Queries, backend.DataQuery{RefID: string(rune('A' + i)), JSON: json.RawMessage(q),
			Interval: time.Minute, MaxDataPoints: 1000,
			TimeRange: backend.TimeRange{From: p.start.Add(-10 * time.Minute), To: p.end.Add(10 * time.Minute)}})
	}
	resp, err := p.plugin.Client.QueryData(t.Context(), req)
	if err != nil {
		t.Fatalf("QueryData: %v", err)
	}
	return resp
}

// response returns refId's response, failing when it is missing.
func response(t testing.TB, resp *backend.QueryDataResponse, refID string) backend.DataResponse {
	t.Helper()
	r, ok := resp.Responses[refID]
	if !ok {
		t.Fatalf("no response for %s", refID)
	}
	return r
}

// column returns a frame's field by name.
func column(t *testing.T, r backend.DataResponse, frame, name string) []any {
	t.Helper()
	for _, f := range r.Frames {
		if f.Name != frame {
			continue
		}
		for _, fd := range f.Fields {
			if fd.Name == name {
				out := make([]any, fd.Len())
				for i := range out {
					out[i], _ = fd.ConcreteAt(i)
				}
				return out
			}
		}
		t.Fatalf("frame %s has no field %s", frame, name)
	}
	t.Fatalf("no frame %s in %d frames", frame, len(r.Frames))
	return nil
}

func sum(t *testing.T, vals []any) uint64 {
	t.Helper()
	var s uint64
	for _, v := range vals {
		u, ok := v.(uint64)
		if !ok {
			t.Fatalf("%v (%T) is not a count", v, v)
		}
		s += u
	}
	return s
}

func fmtErr(r backend.DataResponse) string {
	if r.Error == nil {
		return "no error"
	}
	return fmt.Sprintf("status %d: %v", r.Status, r.Error)
}

// BenchmarkQuery is each query type over gRPC on the plant, as a panel
// asks for it: the range's figures read from ClickHouse's HTTP interface
// and framed.
func BenchmarkQuery(b *testing.B) {
	p := newPlant(b)
	c := p.defaultConfig("otsiem-zones")
	for _, q := range []struct{ name, query string }{
		{"topology", `{"queryType":"topology"}`},
		{"matrix", `{"queryType":"matrix"}`},
		{"conduit", `{"queryType":"conduit","conduit":"C1-BPCS-OPS"}`},
		{"findings", `{"queryType":"findings"}`},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if r := response(b, p.query(b, c, q.query), "A"); r.Error != nil {
					b.Fatal(r.Error)
				}
			}
		})
	}
}
