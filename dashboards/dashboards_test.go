package dashboards_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/otsiem/otsiem/dashboards"
	"github.com/otsiem/otsiem/dashboards/zones"
	"github.com/otsiem/otsiem/storage/chdb/chdbtest"
)

var update = flag.Bool("update", false, "rewrite json/ from the generator (as go generate does)")

func TestMain(m *testing.M) {
	plugins.RegisterDefaultPlugins()
	cog.NewRuntime().RegisterDataqueryVariant(dashboards.QueryVariant())
	cog.NewRuntime().RegisterDataqueryVariant(dashboards.ZonesQueryVariant())
	chdbtest.Main(m)
}

// Every committed JSON file is what the generator writes, and nothing
// else is in json/.
func TestCommittedJSONIsGenerated(t *testing.T) {
	var names []string
	for _, s := range dashboards.All {
		names = append(names, s.File)
		want, err := s.JSON()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("json", s.File)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the generator's output: run go generate ./dashboards/...", path)
		}
	}
	files, _ := filepath.Glob(filepath.Join("json", "*.json"))
	for _, f := range files {
		if !slices.Contains(names, filepath.Base(f)) {
			t.Errorf("%s is not generated", f)
		}
	}
}

// strict reports whether an error of the SDK's strict parser is one: on
// success it returns a typed-nil cog.BuildErrors, a non-nil error.
func strict(err error) error {
	var errs cog.BuildErrors
	if err == nil || errors.As(err, &errs) && len(errs) == 0 {
		return nil
	}
	return err
}

// parse reads a committed dashboard with the SDK's strict parser, and its
// panels one by one: the dashboard's own strict parse drops every panel,
// as its PanelOrRowPanel takes the panel parser's typed-nil success for a
// failure.
func parse(t *testing.T, file string) (*dashboard.Dashboard, []*dashboard.Panel) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("json", file))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard.Dashboard
	if err := strict(d.UnmarshalJSONStrict(b)); err != nil {
		t.Fatalf("%s: strict parse: %v", file, err)
	}
	if err := d.Validate(); err != nil {
		t.Fatalf("%s: validate: %v", file, err)
	}
	var raw struct{ Panels []json.RawMessage }
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	var ps []*dashboard.Panel
	for i, r := range raw.Panels {
		p := new(dashboard.Panel)
		if err := strict(p.UnmarshalJSONStrict(r)); err != nil {
			t.Fatalf("%s: panel %d: strict parse: %v", file, i, err)
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("%s: panel %d: validate: %v", file, i, err)
		}
		ps = append(ps, p)
	}
	if len(ps) == 0 {
		t.Fatalf("%s: no panels", file)
	}
	return &d, ps
}

// variableRef finds the dashboard variables a query uses: $name, ${name}
// and ${name:format}, not the data source's $__ macros.
var variableRef = regexp.MustCompile(`\$(?:\{(\w+)(?::\w+)?\}|([a-zA-Z]\w*))`)

func TestDashboardsParseStrictlyAndReferToWhatExists(t *testing.T) {
	uids := map[string]bool{}
	for _, s := range dashboards.All {
		d, ps := parse(t, s.File)
		if d.Uid == nil || *d.Uid != s.UID || uids[s.UID] {
			t.Errorf("%s: uid %v", s.File, d.Uid)
		}
		uids[s.UID] = true
		defined := map[string]bool{}
		for _, v := range d.Templating.List {
			defined[v.Name] = true
			if v.Type == "query" && (v.Datasource == nil || *v.Datasource.Uid != dashboards.DatasourceUID) {
				t.Errorf("%s: variable %s: data source %v", s.File, v.Name, v.Datasource)
			}
		}
		for _, name := range []string{"site", "zone", "conduit"} {
			if !defined[name] {
				t.Errorf("%s: no %s variable", s.File, name)
			}
		}
		ids := map[uint32]bool{}
		for _, p := range ps {
			title := *p.Title
			if p.Id == nil || ids[*p.Id] {
				t.Errorf("%s: panel %q: id missing or repeated", s.File, title)
			} else {
				ids[*p.Id] = true
			}
			if p.Type == "text" {
				continue
			}
			if p.Datasource == nil || len(p.Targets) == 0 ||
				*p.Datasource.Uid != dashboards.DatasourceUID && *p.Datasource.Uid != dashboards.ZonesDatasourceUID {
				t.Errorf("%s: panel %q: data source %v, %d targets", s.File, title, p.Datasource, len(p.Targets))
			}
			for _, tg := range p.Targets {
				if zq, ok := tg.(dashboards.ZonesQuery); ok {
					checkZonesQuery(t, s.File, title, p, zq, defined)
					continue
				}
				q, ok := tg.(dashboards.Query)
				if !ok {
					t.Errorf("%s: panel %q: target %T is not a ClickHouse query", s.File, title, tg)
					continue
				}
				if q.Datasource == nil || *q.Datasource.Uid != dashboards.DatasourceUID || *q.Datasource.Type != dashboards.DatasourceType {
					t.Errorf("%s: panel %q: target data source %v", s.File, title, q.Datasource)
				}
				for _, m := range variableRef.FindAllStringSubmatch(q.RawSql, -1) {
					name := m[1] + m[2]
					if !defined[name] {
						t.Errorf("%s: panel %q uses $%s, which the dashboard does not define", s.File, title, name)
					}
				}
				if strings.Contains(q.RawSql, "{from:") || regexp.MustCompile(`\{\w+:[A-Z]`).MatchString(q.RawSql) {
					t.Errorf("%s: panel %q keeps a query parameter:\n%s", s.File, title, q.RawSql)
				}
			}
		}
	}
}

// checkZonesQuery checks a target of otsiem's plugin: on the panel's data
// source, its variables defined, and read by the plugin's own parser as
// a query it accepts (the strict parse validated it already).
func checkZonesQuery(t *testing.T, file, title string, p *dashboard.Panel, q dashboards.ZonesQuery, defined map[string]bool) {
	t.Helper()
	if *p.Datasource.Uid != dashboards.ZonesDatasourceUID || q.Datasource == nil || *q.Datasource.Uid != dashboards.ZonesDatasourceUID ||
		*q.Datasource.Type != zones.PluginID {
		t.Errorf("%s: panel %q: plugin target on data source %v, panel on %v", file, title, q.Datasource, p.Datasource)
	}
	raw, err := json.Marshal(q)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zones.ParseTemplate(raw); err != nil {
		t.Errorf("%s: panel %q: the plugin refuses %s: %v", file, title, raw, err)
	}
	for _, m := range variableRef.FindAllStringSubmatch(string(raw), -1) {
		if name := m[1] + m[2]; !defined[name] {
			t.Errorf("%s: panel %q uses $%s, which the dashboard does not define", file, title, name)
		}
	}
}

// The committed JSON is plain JSON a Grafana reads: every panel has a
// grid position within the 24 columns, and the table footers have no
// null reducer.
func TestDashboardsLayout(t *testing.T) {
	for _, s := range dashboards.All {
		b, _ := os.ReadFile(filepath.Join("json", s.File))
		var raw struct {
			Panels []struct {
				Title   string
				GridPos struct{ X, Y, W, H int }
				Options map[string]any
			}
		}
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		for _, p := range raw.Panels {
			if p.GridPos.W == 0 || p.GridPos.H == 0 || p.GridPos.X+p.GridPos.W > 24 {
				t.Errorf("%s: panel %q at %+v", s.File, p.Title, p.GridPos)
			}
			if f, ok := p.Options["footer"].(map[string]any); ok && f["reducer"] == nil {
				t.Errorf("%s: panel %q: footer reducer null", s.File, p.Title)
			}
		}
	}
}
