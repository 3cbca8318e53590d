package source_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/experimental"

	"github.com/otsiem/otsiem/dashboards/plugin/source"
)

// The plugin over real gRPC, on 30 minutes of the simulator's plant: each
// query type against its golden frames, bad queries, the health check,
// the resources and the live findings. One plant for all, as storing it
// is the slow part.
func TestPlugin(t *testing.T) {
	if testing.Short() {
		t.Skip("stores 30 minutes of simulated plant traffic")
	}
	p := newPlant(t)
	t.Run("QueryTypes", func(t *testing.T) { testQueryTypes(t, p) })
	t.Run("BadQueries", func(t *testing.T) { testBadQueries(t, p) })
	t.Run("CheckHealth", func(t *testing.T) { testCheckHealth(t, p) })
	t.Run("Resources", func(t *testing.T) { testResources(t, p) })
	t.Run("Stream", func(t *testing.T) { testStream(t, p) })
	t.Run("Dashboards", func(t *testing.T) { testDashboards(t, p) })
	t.Run("Executable", func(t *testing.T) { testExecutable(t, p) })
}

// goldenQueries are the queries whose whole answer is pinned in
// testdata/<name>.jsonc (rewrite with go test -update).
var goldenQueries = []struct{ name, query string }{
	{"topology", `{"queryType":"topology"}`},
	{"topology_z3", `{"queryType":"topology","zones":["Z3-OPS"]}`},
	{"matrix", `{"queryType":"matrix"}`},
	{"conduit_c1", `{"queryType":"conduit","conduit":"C1-BPCS-OPS"}`},
	{"conduit_c3", `{"queryType":"conduit","conduit":"C3-DMZ-ENT"}`},
	{"findings_high", `{"queryType":"findings","severities":["critical,high"],"limit":15}`},
	{"findings_c1", `{"queryType":"findings","conduits":["C1-BPCS-OPS"],"types":["violation"],"limit":10}`},
}

func testQueryTypes(t *testing.T, p *plant) {
	c := p.defaultConfig("otsiem-zones")
	for _, g := range goldenQueries {
		t.Run(g.name, func(t *testing.T) {
			r := response(t, p.query(t, c, g.query), "A")
			if r.Error != nil {
				t.Fatalf("%s: %s", g.query, fmtErr(r))
			}
			experimental.CheckGoldenJSONResponse(t, "testdata", g.name, &r, *update)
			if t.Failed() && !*update {
				t.Log("the frames differ from testdata/" + g.name + ".jsonc: when the simulator, a decoder or the correlator " +
					"changed what is stored, review the difference and rewrite them: cd dashboards/plugin && " +
					"go test ./source -run TestPlugin/QueryTypes -update")
			}
		})
	}

	// What the golden frames hold that a person reads first, said plainly.
	resp := p.query(t, c, `{"queryType":"topology"}`, `{"queryType":"matrix"}`, `{"queryType":"findings"}`)
	topo := response(t, resp, "A")
	if got := column(t, topo, "nodes", "id"); !slices.Equal(got, []any{"Z1-SIS", "Z2-BPCS", "Z3-OPS", "Z4-DMZ", "Z5-ENT"}) {
		t.Errorf("nodes: %v, want the refinery's five zones in the model's order", got)
	}
	for _, f := range topo.Frames {
		if f.Meta == nil || f.Meta.PreferredVisualization != data.VisTypeNodeGraph {
			t.Errorf("frame %s: not for the node graph: %+v", f.Name, f.Meta)
		}
	}
	undeclared, conduits := column(t, topo, "edges", "detail__undeclared"), column(t, topo, "edges", "detail__conduit")
	colors, breaking := column(t, topo, "edges", "color"), column(t, topo, "edges", "mainstat")
	var declared []any
	sawUndeclared := false
	for i, u := range undeclared {
		if u == true {
			sawUndeclared = true
			if colors[i] != "#F2495C" || breaking[i].(uint64) == 0 {
				t.Errorf("undeclared edge %d: colour %v, breaking %v: want red and counted as breaking", i, colors[i], breaking[i])
			}
			continue
		}
		declared = append(declared, conduits[i])
	}
	if !sawUndeclared {
		t.Error("the simulator's bypass scenarios left no undeclared path")
	}
	if !slices.Equal(declared, []any{"C1-BPCS-OPS", "C2-OPS-DMZ", "C3-DMZ-ENT"}) {
		t.Errorf("declared edges: %v", declared)
	}
	// A node's open findings: what the findings query lists for the zone
	// (open ones, of every severity), as the SOC dashboard counts.
	if open := sum(t, column(t, topo, "nodes", "mainstat")); open == 0 {
		t.Error("no zone has an open finding after every scenario")
	}

	matrix := response(t, resp, "B")
	if got := column(t, matrix, "matrix", "src_zone"); len(got) != 5 || got[0] != "Z1-SIS" {
		t.Errorf("matrix rows: %v", got)
	}
	z2 := column(t, matrix, "matrix", "Z2-BPCS")
	if cell := z2[2].(string); !strings.Contains(cell, "C1-BPCS-OPS") || !strings.Contains(cell, "allowed") {
		t.Errorf("matrix Z3-OPS → Z2-BPCS: %q, want conduit C1 with its counts", cell)
	}

	findings := response(t, resp, "C")
	if len(findings.Frames) != 1 || findings.Frames[0].Meta == nil || findings.Frames[0].Meta.Channel != "ds/otsiem-zones/findings" {
		t.Errorf("findings frame: want the live channel ds/otsiem-zones/findings, got %+v", findings.Frames[0].Meta)
	}
	if n := findings.Frames[0].Rows(); n == 0 || n > 100 {
		t.Errorf("findings: %d rows, want 1..100 (default limit)", n)
	}
	for _, s := range column(t, findings, "findings", "state") {
		if s == "absorbed" {
			t.Error("a finding folded into a scan is listed")
		}
	}

	// Without NATS the frame says why it is not live, and has no channel.
	noNATS := p.defaultConfig("otsiem-no-nats")
	delete(noNATS.JSONData, "natsURL")
	delete(noNATS.JSONData, "natsUser")
	f := response(t, p.query(t, noNATS, `{"queryType":"findings"}`), "A").Frames[0]
	if f.Meta.Channel != "" || len(f.Meta.Notices) != 1 || !strings.Contains(f.Meta.Notices[0].Text, "no NATS URL") {
		t.Errorf("findings without NATS: channel %q, notices %+v", f.Meta.Channel, f.Meta.Notices)
	}
}

// A bad query is answered with an error under its refId; the other
// queries of the request are answered, and the plugin keeps serving.
func testBadQueries(t *testing.T, p *plant) {
	c := p.defaultConfig("otsiem-zones")
	resp := p.query(t, c,
		`{"queryType":"topology"}`,
		`{"queryType":"sankey"}`,
		`{"queryType":`,
		`{"queryType":"conduit","conduit":"C9-NOWHERE"}`,
		`{"queryType":"findings","severities":["urgent"],"limit":20000}`,
		`{"queryType":"conduit"}`,
		`{}`,
	)
	if r := response(t, resp, "A"); r.Error != nil || len(r.Frames) != 2 {
		t.Errorf("A, a good query beside bad ones: %s, %d frames", fmtErr(r), len(r.Frames))
	}
	for ref, want := range map[string][]string{
		"B": {`queryType "sankey"`, "topology, matrix, conduit, findings"},
		"C": {"query:", "unexpected end of JSON input"},
		"D": {`conduit "C9-NOWHERE" is not in the current model`, "C1-BPCS-OPS, C2-OPS-DMZ, C3-DMZ-ENT"},
		"E": {`"urgent" is not a severity`, "limit 20000: at most 10000"},
		"F": {"a conduit query needs the conduit"},
		"G": {"queryType is missing"},
	} {
		r := response(t, resp, ref)
		if r.Error == nil || r.Status != backend.StatusBadRequest {
			t.Errorf("%s: %s, want a bad request", ref, fmtErr(r))
			continue
		}
		for _, w := range want {
			if !strings.Contains(r.Error.Error(), w) {
				t.Errorf("%s: %q does not say %q", ref, r.Error, w)
			}
		}
	}
	if r := response(t, p.query(t, c, `{"queryType":"matrix"}`), "A"); r.Error != nil {
		t.Errorf("after bad queries: %s", fmtErr(r))
	}
}

func (p *plant) health(t *testing.T, c config) (*backend.CheckHealthResult, source.Health) {
	t.Helper()
	res, err := p.plugin.Client.CheckHealth(t.Context(), &backend.CheckHealthRequest{PluginContext: c.pluginContext(t)})
	if err != nil {
		t.Fatalf("CheckHealth: %v", err)
	}
	var h source.Health
	if err := json.Unmarshal(res.JSONDetails, &h); err != nil {
		t.Fatalf("details %s: %v", res.JSONDetails, err)
	}
	return res, h
}

func testCheckHealth(t *testing.T, p *plant) {
	res, h := p.health(t, p.defaultConfig("otsiem-zones"))
	if res.Status != backend.HealthStatusOk || !h.ClickHouse.OK || !h.NATS.OK || !h.NATS.Configured {
		t.Errorf("healthy plant: %v %q %+v", res.Status, res.Message, h)
	}
	for _, w := range []string{"ClickHouse 26.", "Petrochemical Refinery", "5 zones, 3 conduits", "NATS: connected", "findings are live",
		"may not use the JetStream API"} {
		if !strings.Contains(res.Message, w) {
			t.Errorf("health message %q does not say %q", res.Message, w)
		}
	}

	cases := []struct {
		name   string
		change func(*config)
		status backend.HealthStatus
		want   []string
	}{
		{"no NATS", func(c *config) { delete(c.JSONData, "natsURL"); delete(c.JSONData, "natsUser") }, backend.HealthStatusOk,
			[]string{"NATS: not configured", "not live"}},
		{"ClickHouse password", func(c *config) { c.Secure["clickhousePassword"] = "wrong" }, backend.HealthStatusError,
			[]string{`as "grafana"`, "Check the user and password"}},
		{"ClickHouse database", func(c *config) { c.JSONData["clickhouseDatabase"] = "system" }, backend.HealthStatusError,
			[]string{`database "system" lacks otsiem's tables`, "model_zones", "otsiem store"}},
		{"ClickHouse down", func(c *config) { c.JSONData["clickhouseAddress"] = freeAddr(t) }, backend.HealthStatusError,
			[]string{"Check the address"}},
		{"NATS password", func(c *config) { c.Secure["natsPassword"] = "wrong" }, backend.HealthStatusError,
			[]string{"NATS: cannot connect", "refused the identity"}},
		{"NATS down", func(c *config) { c.JSONData["natsURL"] = "nats://" + freeAddr(t) }, backend.HealthStatusError,
			[]string{"NATS: cannot connect", "Check the URL"}},
		{"NATS own identity", func(c *config) { c.JSONData["natsUser"] = natsOwn; c.Secure["natsPassword"] = natsOwnPassword },
			backend.HealthStatusOk, []string{"the findings stream OTSIEM_FINDINGS is present", "findings are live"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := p.defaultConfig("health-" + string(rune('a'+i)))
			tc.change(&c)
			res, _ := p.health(t, c)
			if res.Status != tc.status {
				t.Errorf("status %v, want %v: %s", res.Status, tc.status, res.Message)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.Message, w) {
					t.Errorf("message %q does not say %q", res.Message, w)
				}
			}
			for _, secret := range []string{chReaderPassword, natsReaderPass, natsOwnPassword, "wrong"} {
				if strings.Contains(res.Message, secret) || strings.Contains(string(res.JSONDetails), secret) {
					t.Errorf("a password is in the health report: %s", res.Message)
				}
			}
		})
	}

	// Settings Grafana cannot use are refused with what to fix.
	bad := p.defaultConfig("health-bad-settings")
	bad.JSONData["clickhouseAddress"] = "clickhouse"
	bad.JSONData["natsURL"] = "http://user:secret@nats:4222"
	res, err := p.plugin.Client.CheckHealth(t.Context(), &backend.CheckHealthRequest{PluginContext: bad.pluginContext(t)})
	msg := ""
	if err != nil {
		msg = err.Error()
	} else {
		msg = res.Message
	}
	for _, w := range []string{`ClickHouse address "clickhouse": want host:port`, "want nats://host:port"} {
		if !strings.Contains(msg, w) {
			t.Errorf("bad settings: %q does not say %q", msg, w)
		}
	}
	if strings.Contains(msg, "secret") {
		t.Errorf("bad settings: the URL's password is in %q", msg)
	}
}

// resource calls GET-like requests on the plugin's resources over gRPC.
func (p *plant) resource(t *testing.T, method, path string) (int, []byte) {
	t.Helper()
	var got *backend.CallResourceResponse
	err := p.plugin.Client.CallResource(t.Context(), &backend.CallResourceRequest{
		PluginContext: p.defaultConfig("otsiem-zones").pluginContext(t), Path: path, Method: method, URL: path},
		backend.CallResourceResponseSenderFunc(func(r *backend.CallResourceResponse) error { got = r; return nil }))
	if err != nil || got == nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return got.Status, got.Body
}

func testResources(t *testing.T, p *plant) {
	for _, tc := range []struct {
		path, key string
		want      []string
	}{
		{"zones", "zone", []string{"Z1-SIS", "Z2-BPCS", "Z3-OPS", "Z4-DMZ", "Z5-ENT"}},
		{"conduits", "conduit", []string{"C1-BPCS-OPS", "C2-OPS-DMZ", "C3-DMZ-ENT"}},
		{"devices", "device", nil},
		{"model", "facility", nil},
	} {
		status, body := p.resource(t, http.MethodGet, tc.path)
		var rows []map[string]any
		if err := json.Unmarshal(body, &rows); status != http.StatusOK || err != nil || len(rows) == 0 {
			t.Errorf("%s: %d %s (%v)", tc.path, status, body, err)
			continue
		}
		var got []string
		for _, r := range rows {
			got = append(got, r[tc.key].(string))
		}
		if tc.want != nil && !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.path, got, tc.want)
		}
		if tc.path == "devices" && !slices.Contains(got, "pa-c3") {
			t.Errorf("devices: %v lacks pa-c3", got)
		}
	}
	if status, body := p.resource(t, http.MethodGet, "etc/passwd"); status != http.StatusNotFound || !strings.Contains(string(body), "zones, conduits, devices, model or vocabulary") {
		t.Errorf("unknown resource: %d %s", status, body)
	}
	var v source.Vocabulary
	if status, body := p.resource(t, http.MethodGet, "vocabulary"); status != http.StatusOK || json.Unmarshal(body, &v) != nil ||
		len(v.Severities) != 5 || !slices.Contains(v.Types, "diode_down") {
		t.Errorf("vocabulary: %d %s", status, body)
	}
	if status, _ := p.resource(t, http.MethodPost, "zones"); status != http.StatusMethodNotAllowed {
		t.Errorf("POST zones: %d", status)
	}
}

// Every panel of the generated dashboards that uses the plugin, sent as
// Grafana sends it with every variable on "All" (module.js drops such an
// entry: an empty list is everything) and a repeated conduit panel on
// C1-BPCS-OPS, is answered with rows.
func testDashboards(t *testing.T, p *plant) {
	files, err := filepath.Glob("../../json/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards: %v", err)
	}
	variable := regexp.MustCompile(`^\$(\w+|\{\w+(:\w+)?\})$`)
	panels := 0
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Panels []struct {
				Title   string
				Targets []map[string]any
			}
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		for _, pn := range d.Panels {
			for _, tg := range pn.Targets {
				if ds, _ := tg["datasource"].(map[string]any); ds["type"] != "otsiem-zones-datasource" {
					continue
				}
				panels++
				for k, v := range tg {
					if l, ok := v.([]any); ok {
						tg[k] = slices.DeleteFunc(l, func(e any) bool { return variable.MatchString(e.(string)) })
					}
				}
				if tg["conduit"] == "$conduit" {
					tg["conduit"] = "C1-BPCS-OPS"
				}
				q, err := json.Marshal(tg)
				if err != nil {
					t.Fatal(err)
				}
				r := response(t, p.query(t, p.defaultConfig("otsiem-zones"), string(q)), "A")
				if r.Error != nil || len(r.Frames) == 0 || r.Frames[0].Rows() == 0 {
					t.Errorf("%s %q: %s, %d frames: %s", filepath.Base(file), pn.Title, fmtErr(r), len(r.Frames), q)
				}
			}
		}
	}
	if panels < 5 {
		t.Errorf("%d plugin panels in the dashboards, want the SOC's live findings and the topology dashboard's four", panels)
	}
}
