package dashboards_test

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/otsiem/otsiem/dashboards"
	"github.com/otsiem/otsiem/dashboards/grafana"
	"github.com/otsiem/otsiem/dashboards/sample/sampletest"
	"github.com/otsiem/otsiem/storage"
	"github.com/otsiem/otsiem/storage/embedded"
)

// plant is 90 minutes of the refinery simulator with every scenario, in
// an embedded engine served behind the HTTP interface's guard, and a
// reader connected to it over HTTP with gzip, as Grafana's ClickHouse
// data source connects (clickhouse-go, protocol http).
type plant struct {
	reader     driver.Conn
	start, end time.Time
	site       string
	finding    string // a finding with stored events behind it
}

func newPlant(t *testing.T) *plant {
	t.Helper()
	users := embedded.Users{Reader: embedded.Credentials{User: "grafana", Password: "reader-password"},
		Writer: embedded.Credentials{User: "otsiem", Password: "writer-password"}}
	sp := sampletest.Serve(t, "../examples/refinery", time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), 90*time.Minute, users)
	p := &plant{start: sp.Start, end: sp.End, site: sp.Model.Site}
	var err error
	p.reader, err = clickhouse.Open(&clickhouse.Options{
		Protocol:    clickhouse.HTTP,
		Addr:        []string{sp.Addr},
		Auth:        clickhouse.Auth{Database: sp.DB, Username: users.Reader.User, Password: users.Reader.Password},
		Compression: &clickhouse.Compression{Method: clickhouse.CompressionGZIP},
		Settings:    clickhouse.Settings{"max_execution_time": 60, "enable_http_compression": 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.reader.Close() })
	if err := p.reader.QueryRow(t.Context(), "SELECT finding_id FROM findings WHERE length(event_ids) > 0 ORDER BY finding_id LIMIT 1").Scan(&p.finding); err != nil {
		t.Fatal(err)
	}
	return p
}

// variables is the state of a dashboard's variables: every value of each
// list (the options from the variable's own query, run for real), or the
// selection given; a variable without "All" takes its first option, as
// Grafana does on load.
func (p *plant) variables(t *testing.T, d *dashboard.Dashboard, selected map[string][]string) map[string]grafana.Variable {
	t.Helper()
	vars := map[string]grafana.Variable{}
	for _, v := range d.Templating.List {
		var options []string
		switch v.Type {
		case "query":
			tb, err := storage.RunSQL(t.Context(), p.reader, *v.Query.String)
			if err != nil {
				t.Fatalf("variable %s: %v", v.Name, err)
			}
			for _, r := range tb.Rows {
				options = append(options, fmt.Sprint(r[0]))
			}
			if len(options) == 0 {
				t.Errorf("variable %s has no options", v.Name)
			}
		case "custom":
			options = strings.Split(*v.Query.String, ",")
		case "textbox":
			if selected[v.Name] == nil {
				selected = maps.Clone(selected)
				if selected == nil {
					selected = map[string][]string{}
				}
				selected[v.Name] = []string{""} // empty until typed into
			}
		}
		state := grafana.Variable{Options: options, Selected: selected[v.Name]}
		switch {
		case state.Selected != nil:
		case v.IncludeAll != nil && *v.IncludeAll:
			state.All = true
		case len(options) > 0:
			state.Selected = options[:1]
		}
		vars[v.Name] = state
	}
	return vars
}

// mayBeEmpty are the panels the simulator's scenarios leave empty, and why.
var mayBeEmpty = map[string]string{
	// the finding variable is empty until a finding is clicked
	"Events behind finding $finding": "all",
}

// Every panel's SQL, expanded as Grafana and the ClickHouse data source
// expand it, runs for real over HTTP with gzip on the simulator's data:
// with every variable on "All", and with a selection of each. Time series
// panels return a time column first, every panel the scenarios fill
// returns rows, and no panel returns an address column that is not text.
func TestEveryPanelRunsOnSimulatedData(t *testing.T) {
	if testing.Short() {
		t.Skip("stores 90 minutes of simulated plant traffic")
	}
	p := newPlant(t)
	r := grafana.Range{From: p.start.Add(-10 * time.Minute), To: p.end.Add(10 * time.Minute), Interval: 30 * time.Second}
	selections := map[string]map[string][]string{
		"all": nil,
		"selected": {"site": {p.site}, "zone": {"Z3-OPS"}, "conduit": {"C1-BPCS-OPS"}, "severity": {"critical", "high"},
			"diode": {"DMZ-DD-01"}, "device": {"pa-c3"}, "finding": {p.finding}},
	}
	ran, targets := 0, 0
	for _, s := range dashboards.All {
		d, ps := parse(t, s.File)
		for name, sel := range selections {
			vars := p.variables(t, d, sel)
			for _, pn := range ps {
				for _, tg := range pn.Targets {
					q, ok := tg.(dashboards.Query)
					if !ok {
						continue // otsiem's plugin: run by its own tests (dashboards/plugin)
					}
					targets++
					title := *pn.Title
					sql, err := grafana.Expand(q.RawSql, r, vars)
					if err != nil {
						t.Errorf("%s %q (%s): expand: %v", s.File, title, name, err)
						continue
					}
					tb, err := storage.RunSQL(t.Context(), p.reader, sql)
					if err != nil {
						t.Errorf("%s %q (%s): %v\n%s", s.File, title, name, err, sql)
						continue
					}
					ran++
					// (An empty result comes back without columns.)
					if q.Format == dashboards.FormatTimeSeries && len(tb.Rows) > 0 && !strings.HasPrefix(tb.Types[0], "DateTime") {
						t.Errorf("%s %q: time series without a time column first: %v", s.File, title, tb.Types)
					}
					for i, typ := range tb.Types {
						if strings.Contains(typ, "IPv") {
							t.Errorf("%s %q: column %s is %s: give addresses as text", s.File, title, tb.Columns[i], typ)
						}
					}
					// With every value selected, what the scenarios fill has rows;
					// a selection may leave a panel empty (pa-c3 is on no
					// conduit of Z3-OPS), but the finding chosen has events.
					why := mayBeEmpty[title]
					if len(tb.Rows) == 0 && (name == "all" && why == "" || name == "selected" && why == "all") {
						t.Errorf("%s %q (%s): no rows", s.File, title, name)
					}
				}
			}
		}
	}
	if ran != targets || ran < 2*25 {
		t.Errorf("ran %d of %d panel queries", ran, targets)
	}
}
