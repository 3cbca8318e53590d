package dashboards

import (
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/otsiem/otsiem/storage"
)

// compliance is the evidence over months: per zone and conduit, what broke
// the design, what enforcement stopped, how much traffic kept to declared
// conduits, and how old the open findings are.
func compliance(b *board) *dashboard.DashboardBuilder {
	bars := func(title, desc, sql, label string, bind Bind) *timeseries.PanelBuilder {
		return timeseries.NewPanelBuilder().Id(b.id()).Title(title).Description(desc).Datasource(Datasource()).
			WithTarget(b.target(sql, FormatTimeSeries, bind)).DisplayName(seriesName(label)).
			DrawStyle(common.GraphDrawStyleBars).FillOpacity(80).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).Min(0).Unit("short").
			Height(8).Span(12)
	}
	return frame("otsiem · Compliance over time",
		"Evidence for IEC 62443-3-2/3-3 over months, from the daily rollups: per zone (with its SL-T) and conduit.", "now-90d").
		WithVariable(severityVariable()).
		WithPanel(table.NewPanelBuilder().Id(b.id()).Title("Zones").
			Description("Events of the range touching each zone, from the daily rollup.").Datasource(Datasource()).
			WithTarget(b.target(storage.QueryZoneCompliance.SQL, FormatTable, nil)).Footer(noFooter()).
			WithTransformation(organize([][2]string{{"zone", "Zone"}, {"name", "Name"}, {"purdue", "Purdue level"},
				{"sl_t", "SL-T"}, {"events", "Events"}, {"allowed", "Allowed"}, {"policy_breaking", "Breaking the policy"},
				{"blocked", "Blocked"}, {"false_block", "False blocks"}})).
			OverrideByName("Breaking the policy", []dashboard.DynamicConfigValue{
				prop("thresholds", map[string]any{"mode": "absolute", "steps": []map[string]any{{"color": "transparent", "value": nil}, {"color": colorMedium, "value": 1}}}),
				cellColor()}).
			Height(7).Span(24)).
		WithPanel(bars("Policy-breaking events per day, by zone",
			"Events breaking the declared policy (violation, policy_drift, would_block) touching each zone.",
			storage.QueryZoneComplianceDaily.SQL, "zone", nil)).
		WithPanel(bars("Blocked attempts per day, by conduit",
			"Traffic the design forbids that an enforcing firewall stopped: evidence that enforcement works.",
			selectFrom(storage.QueryConduitTraffic, "toDateTime(t, 'UTC') AS day, if(conduit = '', 'no conduit', conduit) AS conduit, blocked",
				storage.In("conduits", "conduit")), "conduit", Bind{"step": "86400"})).
		WithPanel(timeseries.NewPanelBuilder().Id(b.id()).Title("Cross-zone traffic on a declared conduit").
			Description("Per day, the share of events between two declared zones that crossed on a declared conduit (the rest bypassed the design).").
			Datasource(Datasource()).
			WithTarget(b.target(selectFrom(storage.QueryDeclaredConduitShare, "day, on_declared_conduit"), FormatTimeSeries, nil)).
			Unit("percentunit").Min(0).Max(1).ColorScheme(fixedColor(colorOK)).FillOpacity(15).
			ShowPoints(common.VisibilityModeAlways).InsertNulls(common.BoolOrFloat64{Float64: cog.ToPtr(float64(36 * time.Hour / time.Millisecond))}). // a day without traffic breaks the line
			Height(8).Span(12)).
		WithPanel(table.NewPanelBuilder().Id(b.id()).Title("Open findings by age").
			Description("Findings open at the end of the range, by severity and time since first seen.").Datasource(Datasource()).
			WithTarget(b.target(selectFrom(storage.QueryOpenFindingsByAge, "severity, age, findings", storage.In("severities", "severity")),
				FormatTable, nil)).
			WithTransformation(transform("groupingToMatrix", map[string]any{
				"columnField": "age", "rowField": "severity", "valueField": "findings", "emptyValue": "zero"})).
			Footer(noFooter()).
			OverrideByName("severity\\age", []dashboard.DynamicConfigValue{prop("displayName", "severity \\ age"),
				prop("mappings", severityMappings), cellColor()}).
			Height(8).Span(12))
}
