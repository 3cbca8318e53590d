package dashboards

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/otsiem/otsiem/storage"
)

// Spec is one generated dashboard: its file name and how it is built.
type Spec struct {
	File  string // base name of the JSON file under json/
	UID   string
	Build func(*board) *dashboard.DashboardBuilder
}

// All lists the dashboards, in the order the README presents them.
var All = []Spec{
	{"soc.json", "otsiem-soc", soc},
	{"matrix.json", "otsiem-matrix", matrix},
	{"review.json", "otsiem-review", review},
	{"diodes.json", "otsiem-diodes", diodes},
	{"compliance.json", "otsiem-compliance", compliance},
	{"topology.json", "otsiem-topology", topology},
}

// Generate builds a dashboard.
func (s Spec) Generate() (dashboard.Dashboard, error) {
	b := &board{}
	d, err := s.Build(b).Uid(s.UID).Build()
	if err == nil && b.err != nil {
		err = b.err
	}
	if err != nil {
		return d, fmt.Errorf("dashboards: %s: %w", s.File, err)
	}
	return d, nil
}

// JSON is the dashboard as the committed file holds it.
func (s Spec) JSON() ([]byte, error) {
	d, err := s.Generate()
	if err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(d, "", "  ")
	// The SDK's marshalers escape <, > and & for HTML; SQL reads better
	// without, and the JSON means the same.
	text := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(out))
	return []byte(text + "\n"), err
}

// frame is what every dashboard starts with: title, tags, time range,
// the links between the dashboards and the filter variables site, zone
// and conduit.
func frame(title, description, from string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).
		Description(description).
		Tags([]string{"otsiem", "IEC 62443"}).
		Time(from, "now").
		Timezone(common.TimeZoneBrowser).
		Refresh("1m").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Link(dashboard.NewDashboardLinkBuilder("otsiem").Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{"otsiem"}).AsDropdown(false).IncludeVars(true).KeepTime(true)).
		WithVariable(listVariable("site", "Site", "SELECT DISTINCT site FROM model_versions ORDER BY site")).
		WithVariable(listVariable("zone", "Zone", "SELECT zone FROM model_zones WHERE model_hash = "+storage.CurrentModel+" ORDER BY position")).
		WithVariable(listVariable("conduit", "Conduit", "SELECT conduit FROM model_conduits WHERE model_hash = "+storage.CurrentModel+" ORDER BY position"))
}

// all is the current value of a variable with every value selected.
func all() dashboard.VariableOption {
	return dashboard.VariableOption{Text: dashboard.StringOrArrayOfString{String: cog.ToPtr("All")},
		Value: dashboard.StringOrArrayOfString{String: cog.ToPtr("$__all")}}
}

// listVariable is a multi-value variable filled by a query of the model,
// "All" by default.
func listVariable(name, label, sql string) *dashboard.QueryVariableBuilder {
	return dashboard.NewQueryVariableBuilder(name).Label(label).
		Datasource(Datasource()).
		Query(dashboard.StringOrMap{String: &sql}).
		Definition(sql).
		Refresh(dashboard.VariableRefreshOnDashboardLoad).
		Multi(true).IncludeAll(true).Current(all())
}

// severityVariable filters findings by severity.
func severityVariable() *dashboard.CustomVariableBuilder {
	values := "critical,high,medium,low,info"
	return dashboard.NewCustomVariableBuilder("severity").Label("Severity").
		Values(dashboard.StringOrMap{String: &values}).Multi(true).IncludeAll(true).Current(all())
}
