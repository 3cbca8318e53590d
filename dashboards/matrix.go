package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/text"

	"github.com/otsiem/otsiem/storage"
)

// matrixMappings colour the zone matrix's cells by their leading sign.
var matrixMappings = regexMappings(
	[2]string{"^✗.*", colorHigh}, [2]string{"^!.*", colorMedium}, [2]string{"^✓.*", colorOK},
	[2]string{"^·$", "transparent"}, [2]string{"^–$", "transparent"})

// matrix is the zone x zone conduit matrix: what is declared next to what
// is observed.
func matrix(b *board) *dashboard.DashboardBuilder {
	return frame("otsiem · Zone × zone conduit matrix",
		"Each pair of declared zones: the conduits that join them and the traffic of the range on them.", "now-24h").
		WithPanel(text.NewPanelBuilder().Id(b.id()).Title("How to read it").Mode(text.TextModeMarkdown).
			Content("Rows initiate, columns respond. **✗** traffic between zones no conduit joins (a bypass, or an air gap crossed) · " +
				"**!** a conduit carried traffic that breaks its rules · **✓** conduit traffic that kept to the design · " +
				"**–** no conduit and no traffic · **·** the same zone. Counts are events in the range (hourly rollup).").
			Height(3).Span(24)).
		WithPanel(table.NewPanelBuilder().Id(b.id()).Title("Source zone × destination zone").
			Description("Declared conduits per zone pair and the events of the range: allowed, and breaking the policy.").
			Datasource(Datasource()).
			WithTarget(b.target(storage.QueryZoneMatrix.SQL, FormatTable, nil)).
			WithTransformation(transform("groupingToMatrix", map[string]any{
				"columnField": "dst_zone", "rowField": "src_zone", "valueField": "cell", "emptyValue": "empty"})).
			Footer(noFooter()).CellHeight(common.TableCellHeightMd).
			Mappings(matrixMappings).
			CellOptions(common.TableCellOptions{TableColoredBackgroundCellOptions: &common.TableColoredBackgroundCellOptions{
				Type: common.TableCellDisplayModeColorBackground, WrapText: boolPtr(true)}}).
			OverrideByName("src_zone\\dst_zone", []dashboard.DynamicConfigValue{prop("displayName", "from \\ to"),
				prop("custom.cellOptions", map[string]any{"type": "auto"}), prop("custom.width", 110)}).
			Height(8).Span(24)).
		WithPanel(table.NewPanelBuilder().Id(b.id()).Title("Zone pairs with a conduit or traffic").
			Datasource(Datasource()).
			WithTarget(b.target(storage.QueryZoneMatrix.SQL, FormatTable, nil)).
			WithTransformation(transform("filterByValue", map[string]any{"type": "include", "match": "any",
				"filters": []map[string]any{{"fieldName": "cell", "config": map[string]any{"id": "regex", "options": map[string]any{"value": "^[✗!✓]"}}}}})).
			WithTransformation(organize([][2]string{{"src_zone", "Source zone"}, {"dst_zone", "Destination zone"},
				{"conduit", "Conduit"}, {"allowed", "Allowed"}, {"policy_breaking", "Breaking the policy"},
				{"blocked", "Blocked"}, {"total", "All events"}}, "cell")).
			Footer(noFooter()).
			OverrideByName("Breaking the policy", []dashboard.DynamicConfigValue{
				prop("thresholds", map[string]any{"mode": "absolute", "steps": []map[string]any{{"color": "transparent", "value": nil}, {"color": colorMedium, "value": 1}}}),
				prop("custom.cellOptions", map[string]any{"type": "color-background", "mode": "basic"})}).
			OverrideByName("Conduit", []dashboard.DynamicConfigValue{prop("mappings", emptyAs("none", colorHigh)), cellColor()}).
			Height(11).Span(24))
}

func boolPtr(v bool) *bool { return &v }
