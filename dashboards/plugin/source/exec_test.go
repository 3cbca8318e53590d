package source_test

import (
	"context"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/grpcplugin"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// EnvExecutable names a built plugin executable to test (make plugin
// builds dist/gpx_otsiem_linux_amd64 and sets it); without it the test
// builds one with CGO_ENABLED=0 and the tag nochdb, as make plugin does.
const EnvExecutable = "OTSIEM_PLUGIN_EXECUTABLE"

// syncBuffer is a log written by one goroutine and read by another.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write is called under mu by hclog (LoggerOptions.Mutex).
func (s *syncBuffer) Write(p []byte) (int, error) { return s.b.Write(p) }

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func executable(t *testing.T) string {
	t.Helper()
	if exe := os.Getenv(EnvExecutable); exe != "" {
		abs, err := filepath.Abs(exe)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	exe := filepath.Join(t.TempDir(), "gpx_otsiem_linux_amd64")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-tags", "nochdb", "-o", exe, "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return exe
}

// The built executable, started the way Grafana starts a backend plugin:
// hashicorp go-plugin with the SDK's handshake (protocol version 2, magic
// cookie grafana_plugin_type=datasource) over gRPC, answering CheckHealth
// and a topology query, and stopping when killed.
func testExecutable(t *testing.T, p *plant) {
	exe := executable(t)
	// Static: Grafana's images (Alpine's musl among them) have no glibc
	// loader for it to ask for.
	if f, err := elf.Open(exe); err != nil {
		t.Fatal(err)
	} else {
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s asks for a dynamic loader: build it with CGO_ENABLED=0 -tags nochdb (make plugin)", exe)
			}
		}
		f.Close()
	}
	cmd := exec.Command(exe)
	var logs syncBuffer // written by go-plugin's goroutine copying the plugin's stderr
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: plugin.HandshakeConfig{ProtocolVersion: grpcplugin.ProtocolVersion,
			MagicCookieKey: grpcplugin.MagicCookieKey, MagicCookieValue: grpcplugin.MagicCookieValue},
		VersionedPlugins: map[int]plugin.PluginSet{grpcplugin.ProtocolVersion: {
			"diagnostics": &grpcplugin.DiagnosticsGRPCPlugin{}, "data": &grpcplugin.DataGRPCPlugin{},
			"resource": &grpcplugin.ResourceGRPCPlugin{}, "stream": &grpcplugin.StreamGRPCPlugin{}}},
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		StartTimeout:     30 * time.Second,
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "gpx_otsiem", Output: &logs, Level: hclog.Debug, Mutex: &logs.mu}),
	})
	defer client.Kill()
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("start %s: %v\n%s", exe, err, logs.String())
	}
	if v := client.NegotiatedVersion(); v != grpcplugin.ProtocolVersion {
		t.Errorf("negotiated protocol %d", v)
	}
	raw, err := rpc.Dispense("diagnostics")
	if err != nil {
		t.Fatal(err)
	}
	diag := raw.(grpcplugin.DiagnosticsClient)
	raw, err = rpc.Dispense("data")
	if err != nil {
		t.Fatal(err)
	}
	dc := raw.(grpcplugin.DataClient)

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	pc := backend.ToProto().PluginContext(p.defaultConfig("otsiem-exe").pluginContext(t))
	h, err := diag.CheckHealth(ctx, &pluginv2.CheckHealthRequest{PluginContext: pc})
	if err != nil {
		t.Fatalf("CheckHealth: %v\n%s", err, logs.String())
	}
	if h.Status != pluginv2.CheckHealthResponse_OK || !strings.Contains(h.Message, "5 zones, 3 conduits") {
		t.Errorf("CheckHealth: %v %q", h.Status, h.Message)
	}

	q := backend.ToProto().QueryDataRequest(&backend.QueryDataRequest{PluginContext: p.defaultConfig("otsiem-exe").pluginContext(t),
		Queries: []backend.DataQuery{{RefID: "A", JSON: json.RawMessage(`{"queryType":"topology"}`),
			TimeRange: backend.TimeRange{From: p.start, To: p.end}}}})
	pr, err := dc.QueryData(ctx, q)
	if err != nil {
		t.Fatalf("QueryData: %v\n%s", err, logs.String())
	}
	resp, err := backend.FromProto().QueryDataResponse(pr)
	if err != nil {
		t.Fatal(err)
	}
	r := response(t, resp, "A")
	if r.Error != nil || len(r.Frames) != 2 {
		t.Fatalf("topology: %s, %d frames", fmtErr(r), len(r.Frames))
	}
	nodes, edges := r.Frames[0], r.Frames[1]
	if nodes.Name != "nodes" || nodes.Rows() != 5 || edges.Name != "edges" || edges.Rows() < 3 ||
		nodes.Meta.PreferredVisualization != data.VisTypeNodeGraph {
		t.Errorf("topology from the executable: %s %d rows, %s %d rows", nodes.Name, nodes.Rows(), edges.Name, edges.Rows())
	}
	for _, secret := range []string{chReaderPassword, natsReaderPass} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the plugin logged a password")
		}
	}
	client.Kill()
	if !client.Exited() {
		t.Error("the plugin is still running after Kill")
	}
}
