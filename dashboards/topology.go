package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/nodegraph"
	"github.com/grafana/grafana-foundation-sdk/go/table"

	"github.com/otsiem/otsiem/dashboards/zones"
)

// zonesTarget is a plugin query of type t filtered by the dashboard's
// site, zone and conduit variables (the plugin reads what t needs).
func zonesTarget(t zones.QueryType, set func(*zones.Query)) *ZonesQueryBuilder {
	q := zones.Query{QueryType: t, Sites: []string{"$site"}, Zones: []string{"$zone"}, Conduits: []string{"$conduit"}}
	if set != nil {
		set(&q)
	}
	return NewZonesQuery(q)
}

// liveFindings is the plugin's findings table: new and changed findings
// are appended as the correlator publishes them.
func liveFindings(b *board, title, description string, severities []string) *table.PanelBuilder {
	return table.NewPanelBuilder().Id(b.id()).Title(title).Description(description).
		Datasource(ZonesDatasource()).
		WithTarget(zonesTarget(zones.Findings, func(q *zones.Query) { q.Severities, q.Limit = severities, 100 })).
		WithTransformation(transform("sortBy", map[string]any{"sort": []map[string]any{{"field": "last_seen", "desc": true}}})).
		WithTransformation(organize([][2]string{{"last_seen", "Last seen"}, {"severity", "Severity"}, {"state", "State"},
			{"type", "Type"}, {"summary", "Summary"}, {"conduit", "Conduit"}, {"source", "Source"}, {"src_zone", "Source zone"},
			{"destination", "Destination"}, {"dst_zone", "Destination zone"}, {"count", "Count"}, {"finding_id", "Finding"}},
			"reason", "status", "dst_port", "app_protocol", "device", "first_seen", "revision")).
		Footer(noFooter()).CellHeight(common.TableCellHeightSm).
		OverrideByName("Severity", []dashboard.DynamicConfigValue{prop("mappings", severityMappings), cellColor(), prop("custom.width", 90)}).
		OverrideByName("Last seen", []dashboard.DynamicConfigValue{prop("custom.width", 170)}).
		OverrideByName("Summary", []dashboard.DynamicConfigValue{prop("custom.minWidth", 320)})
}

// topology is the plant as declared, with the range's traffic and the
// open findings on it, drawn by otsiem's plugin.
func topology(b *board) *dashboard.DashboardBuilder {
	return frame("otsiem · Plant topology",
		"The declared IEC 62443 zones and conduits with the traffic of the range on them, paths on no conduit in red, and findings as they happen.",
		"now-24h").
		WithVariable(severityVariable()).
		WithPanel(nodegraph.NewPanelBuilder().Id(b.id()).Title("Zones and conduits").
			Description("A node per declared zone: open findings (centre) and assets; its colour is its worst open finding " +
				"(green: none). An edge per declared conduit: events breaking the policy and allowed events (orange when something " +
				"broke it, grey without traffic). Red edges: traffic between zones that no conduit joins. Click a node or an edge for " +
				"its Purdue level, SL-T, reasons and counts.").
			Datasource(ZonesDatasource()).
			WithTarget(zonesTarget(zones.Topology, nil)).
			Height(16).Span(24)).
		WithPanel(liveFindings(b, "Findings as they happen",
			"The latest findings touching the selected zones and conduits, newest first; new and changed findings appear the "+
				"moment the correlator publishes them (live over NATS), without a refresh.",
			[]string{"$severity"}).
			Height(10).Span(24)).
		WithPanel(table.NewPanelBuilder().Id(b.id()).Title("Source zone × destination zone").
			Description("Rows initiate, columns respond: ✗ traffic no conduit carries, ! a conduit carried traffic breaking its "+
				"rules, ✓ conduit traffic that kept to the design, – neither, · the same zone.").
			Datasource(ZonesDatasource()).
			WithTarget(zonesTarget(zones.Matrix, nil)).
			Footer(noFooter()).CellHeight(common.TableCellHeightMd).
			Mappings(matrixMappings).
			CellOptions(common.TableCellOptions{TableColoredBackgroundCellOptions: &common.TableColoredBackgroundCellOptions{
				Type: common.TableCellDisplayModeColorBackground, WrapText: boolPtr(true)}}).
			OverrideByName("src_zone", []dashboard.DynamicConfigValue{prop("custom.cellOptions", map[string]any{"type": "auto"}),
				prop("custom.width", 110)}).
			Height(8).Span(24)).
		WithPanel(table.NewPanelBuilder().Id(b.id()).Title("Rules of conduit $conduit").
			Description("The conduit's declared rules in order, each with the traffic of the range it carried, and a last row "+
				"with the traffic no rule carries. One panel per selected conduit.").
			Datasource(ZonesDatasource()).
			WithTarget(zonesTarget(zones.Conduit, func(q *zones.Query) { q.Conduit = "$conduit" })).
			Repeat("conduit").RepeatDirection(dashboard.PanelRepeatDirectionV).
			Footer(noFooter()).CellHeight(common.TableCellHeightSm).
			OverrideByName("policy_breaking", []dashboard.DynamicConfigValue{
				prop("thresholds", map[string]any{"mode": "absolute", "steps": []map[string]any{{"color": "transparent", "value": nil}, {"color": colorMedium, "value": 1}}}),
				cellColor()}).
			OverrideByName("rule", []dashboard.DynamicConfigValue{prop("mappings", regexMappings([2]string{"^none:.*", colorHigh})), cellColor()}).
			Height(8).Span(24))
}
