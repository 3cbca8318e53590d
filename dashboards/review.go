package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/otsiem/otsiem/storage"
)

// deviceFlowsTable shows one of the per-device flow queries (rows as
// storage's deviceFlows) with the model's asset names, filtered by zone
// and conduit.
func deviceFlowsTable(b *board, title, desc string, q storage.Query) *table.PanelBuilder {
	sql := `SELECT if(sa.asset != '', sa.asset, ` + storage.AddrText("f.src_ip") + `) AS source, f.src_zone AS src_zone,
       if(da.asset != '', da.asset, ` + storage.AddrText("f.dst_ip") + `) AS destination, f.dst_zone AS dst_zone,
       f.conduit AS conduit, concat(f.transport, '/', toString(f.dst_port)) AS service, f.app_protocol AS protocol,
       f.function AS function, f.reason AS reason, f.action AS action, f.rule AS rule, f.events AS events,
       f.first_seen AS first_seen, f.last_seen AS last_seen, length(f.days) AS days
FROM (` + q.SQL + `
) AS f
LEFT JOIN ` + storage.CurrentAssets + ` AS sa ON sa.ip = f.src_ip
LEFT JOIN ` + storage.CurrentAssets + ` AS da ON da.ip = f.dst_ip
WHERE ` + storage.In("zones", "f.src_zone", "f.dst_zone") + ` AND ` + storage.In("conduits", "f.conduit") + `
ORDER BY events DESC, source, destination`
	return table.NewPanelBuilder().Id(b.id()).Title(title).Description(desc).Datasource(Datasource()).
		WithTarget(b.target(sql, FormatTable, nil)).
		Footer(noFooter()).CellHeight(common.TableCellHeightSm).
		WithTransformation(organize([][2]string{{"source", "Source"}, {"src_zone", "Source zone"}, {"destination", "Destination"},
			{"dst_zone", "Destination zone"}, {"conduit", "Conduit"}, {"service", "Service"}, {"protocol", "Protocol"},
			{"function", "Function"}, {"reason", "Reason"}, {"action", "Device action"}, {"rule", "Device rule"},
			{"events", "Events"}, {"first_seen", "First seen"}, {"last_seen", "Last seen"}, {"days", "Days seen"}})).
		OverrideByName("Conduit", []dashboard.DynamicConfigValue{prop("mappings", emptyAs("none", colorHigh))})
}

// review is the monitor-mode review of one firewall: what enforcing its
// rules would stop, and what it would break.
func review(b *board) *dashboard.DashboardBuilder {
	device := "SELECT device FROM model_devices WHERE model_hash = " + storage.CurrentModel + " AND mode = 'monitor' ORDER BY device"
	statPanel := func(title, desc, sql string, w uint32) *stat.PanelBuilder {
		return stat.NewPanelBuilder().Id(b.id()).Title(title).Description(desc).Datasource(Datasource()).
			WithTarget(b.target(sql, FormatTable, nil)).ReduceOptions(reduce()).
			ColorMode(common.BigValueColorModeNone).GraphMode(common.BigValueGraphModeNone).
			TextMode(common.BigValueTextModeValueAndName).Height(4).Span(w)
	}
	return frame("otsiem · Monitor-mode review",
		"Before a monitor-mode firewall is switched to enforce: what its rules would break, what they would block, and how much of the period it was heard from.",
		"now-30d").
		WithVariable(dashboard.NewQueryVariableBuilder("device").Label("Monitor-mode device").
			Datasource(Datasource()).Query(dashboard.StringOrMap{String: &device}).Definition(device).
			Refresh(dashboard.VariableRefreshOnDashboardLoad)).
		WithPanel(statPanel("Device", "Its mode and since when (the model), and the first and last day it was heard in the range.",
			selectFrom(storage.QueryDeviceObservation, "mode, toString(toDate(mode_since)) AS since, toString(first_day) AS first_log, toString(last_day) AS last_log"), 12)).
		WithPanel(statPanel("Observation", "Days of the range with logs from the device, and days without: a review has not seen those days.",
			selectFrom(storage.QueryDeviceObservation, "days_with_logs, days_without_logs"), 6).
			OverrideByName("days_without_logs", []dashboard.DynamicConfigValue{prop("color", map[string]any{"mode": "thresholds"}),
				prop("thresholds", map[string]any{"mode": "absolute", "steps": []map[string]any{{"color": colorOK, "value": nil}, {"color": colorMedium, "value": 1}}})}).
			ColorMode(common.BigValueColorModeValue)).
		WithPanel(statPanel("Would block", "Events of the range the device would stop once enforcing (verdict would_block).",
			selectFrom(storage.QueryDeviceWouldBlockDaily, "sum(would_block) AS would_block"), 6)).
		WithPanel(deviceFlowsTable(b, "Would break at cut-over (would_false_block)",
			"Flows the declared model allows that the device's own rules deny: legitimate traffic that enforcement would stop. Fix the rules before enforcing.",
			storage.QueryWouldFalseBlock).NoValue("None: the device denied no flow the model allows.").Height(5).Span(24)).
		WithPanel(deviceFlowsTable(b, "Would block (would_block)",
			"Flows the declared model forbids that the device let through in monitor mode, by source asset, destination asset, service and function.",
			storage.QueryDeviceWouldBlock).Height(10).Span(24)).
		WithPanel(timeseries.NewPanelBuilder().Id(b.id()).Title("Would-block events per day").Datasource(Datasource()).
			WithTarget(b.target(storage.QueryDeviceWouldBlockDaily.SQL, FormatTimeSeries, nil)).
			DrawStyle(common.GraphDrawStyleBars).FillOpacity(80).ColorScheme(fixedColor(colorMedium)).Min(0).Unit("short").
			Height(8).Span(12)).
		WithPanel(timeseries.NewPanelBuilder().Id(b.id()).Title("Lines received from the device per day").
			Description("A day at 0 is a day without logs.").Datasource(Datasource()).
			WithTarget(b.target(selectFrom(storage.QueryDeviceDays, "toDateTime(day, 'UTC') AS day, events"), FormatTimeSeries, nil)).
			DrawStyle(common.GraphDrawStyleBars).FillOpacity(80).ColorScheme(fixedColor(colorInfo)).Min(0).Unit("short").
			Height(8).Span(12))
}
