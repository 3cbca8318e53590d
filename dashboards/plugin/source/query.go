package source

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/live"

	"github.com/otsiem/otsiem/dashboards/zones"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/storage"
)

// QueryData answers each query of a request on its own: a query that
// cannot be read, or whose storage query fails, gets an error response
// under its refId and the others are answered.
func (s *Source) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	resp := backend.NewQueryDataResponse()
	for _, dq := range req.Queries {
		resp.Responses[dq.RefID] = s.query(ctx, dq)
	}
	return resp, nil
}

func (s *Source) query(ctx context.Context, dq backend.DataQuery) backend.DataResponse {
	q, err := zones.Parse(dq.JSON)
	if err != nil {
		return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream, err.Error())
	}
	var frames data.Frames
	switch q.QueryType {
	case zones.Topology:
		frames, err = s.topology(ctx, q, dq.TimeRange)
	case zones.Matrix:
		frames, err = s.matrix(ctx, q, dq.TimeRange)
	case zones.Conduit:
		frames, err = s.conduit(ctx, q, dq.TimeRange)
	case zones.Findings:
		frames, err = s.findings(ctx, q, dq.TimeRange)
	}
	if err != nil {
		if errors.As(err, new(badQuery)) {
			return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream, err.Error())
		}
		s.log.Warn("query failed", "queryType", string(q.QueryType), "error", err.Error())
		return backend.ErrDataResponseWithSource(backend.StatusInternal, backend.ErrorSourceDownstream, err.Error())
	}
	for _, f := range frames {
		f.RefID = dq.RefID
	}
	return backend.DataResponse{Frames: frames}
}

// badQuery is a query that names what does not exist (a conduit not in
// the current model).
type badQuery struct{ msg string }

func (b badQuery) Error() string { return b.msg }

// args are the parameters of the named queries for q over tr: every
// query takes those it names.
func args(q zones.Query, tr backend.TimeRange) []any {
	return []any{clickhouse.Named("from", tr.From.UTC()), clickhouse.Named("to", tr.To.UTC()),
		clickhouse.Named("sites", nonNil(q.Sites)), clickhouse.Named("zones", nonNil(q.Zones)),
		clickhouse.Named("conduits", nonNil(q.Conduits)), clickhouse.Named("severities", nonNil(q.Severities)),
		clickhouse.Named("conduit", q.Conduit)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Colours of the graph, from Grafana's palette: nodes by their worst open
// finding, edges by what crossed them.
var severityColors = map[string]string{
	"critical": "#C4162A", "high": "#F2495C", "medium": "#FF9830", "low": "#FADE2A", "info": "#5794F2", "": "#73BF69",
}

const (
	colorUndeclared = "#F2495C" // traffic on no conduit
	colorBreaking   = "#FF9830" // policy-breaking traffic on a conduit
	colorKept       = "#73BF69" // conduit traffic that kept to the design
	colorQuiet      = "#8E8E8E" // a conduit without traffic in the range
)

func named(name, display string, values any) *data.Field {
	f := data.NewField(name, nil, values)
	if display != "" {
		f.Config = &data.FieldConfig{DisplayName: display}
	}
	return f
}

// topology is the plant as a node graph: storage.QueryTopologyZones as
// the frame "nodes" and storage.QueryTopologyPaths as the frame "edges"
// (Grafana's node graph data API: id, title, subtitle, mainstat,
// secondarystat, color, detail__*; edges id, source, target, …).
func (s *Source) topology(ctx context.Context, q zones.Query, tr backend.TimeRange) (data.Frames, error) {
	zt, err := storage.RunQuery(ctx, s.ch, storage.QueryTopologyZones, args(q, tr)...)
	if err != nil {
		return nil, err
	}
	pt, err := storage.RunQuery(ctx, s.ch, storage.QueryTopologyPaths, args(q, tr)...)
	if err != nil {
		return nil, err
	}
	nodes := data.NewFrame("nodes",
		named("id", "", []string{}), named("title", "", []string{}), named("subtitle", "", []string{}),
		named("mainstat", "Open findings", []uint64{}), named("secondarystat", "Assets", []uint64{}),
		named("color", "", []string{}),
		named("detail__purdue", "Purdue level", []string{}), named("detail__sl_t", "SL-T", []string{}),
		named("detail__criticality", "Criticality", []string{}), named("detail__worst_severity", "Worst open finding", []string{}),
		named("detail__conduits", "Conduits", []uint64{}), named("detail__air_gapped", "Air-gapped", []bool{}))
	z := columns(zt)
	for _, r := range zt.Rows {
		worst := z.str(r, "worst_severity")
		nodes.AppendRow(z.str(r, "zone"), z.str(r, "zone"), z.str(r, "name"), z.u64(r, "open_findings"), z.u64(r, "assets"),
			severityColors[worst], z.str(r, "purdue"), slText(z.val(r, "sl_t")), z.str(r, "criticality"), orNone(worst),
			z.u64(r, "conduits"), z.boolean(r, "air_gapped"))
	}
	edges := data.NewFrame("edges",
		named("id", "", []string{}), named("source", "", []string{}), named("target", "", []string{}),
		named("mainstat", "Breaking the policy", []uint64{}), named("secondarystat", "Allowed", []uint64{}),
		named("color", "", []string{}), named("highlighted", "", []bool{}),
		named("detail__conduit", "Conduit", []string{}), named("detail__undeclared", "Undeclared path", []bool{}),
		named("detail__blocked", "Blocked", []uint64{}), named("detail__total", "All events", []uint64{}),
		named("detail__reasons", "Reasons", []string{}))
	p := columns(pt)
	for _, r := range pt.Rows {
		conduit, src, dst, undeclared := p.str(r, "conduit"), p.str(r, "source"), p.str(r, "target"), p.boolean(r, "undeclared")
		breaking, allowed, total := p.u64(r, "policy_breaking"), p.u64(r, "allowed"), p.u64(r, "total")
		id, color, name := conduit+":"+src+":"+dst, colorKept, conduit
		switch {
		case undeclared:
			id, color, name = "undeclared:"+src+":"+dst, colorUndeclared, "none (undeclared)"
		case breaking > 0:
			color = colorBreaking
		case total == 0:
			color = colorQuiet
		}
		edges.AppendRow(id, src, dst, breaking, allowed, color, undeclared, name, undeclared, p.u64(r, "blocked"), total,
			strings.Join(p.strs(r, "reasons"), ", "))
	}
	for _, f := range []*data.Frame{nodes, edges} {
		f.Meta = &data.FrameMeta{PreferredVisualization: data.VisTypeNodeGraph}
	}
	return data.Frames{nodes, edges}, nil
}

func slText(v any) string {
	if p, ok := v.(*uint8); ok && p != nil {
		return fmt.Sprintf("SL %d", *p)
	}
	return "none declared"
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// matrix is storage.QueryZoneMatrix as the zone × zone table of the
// conduit-matrix dashboard: a row per source (initiating) zone, a column
// per destination zone, each cell the query's summary of the declared
// conduits and the allowed and policy-breaking events between the two.
func (s *Source) matrix(ctx context.Context, q zones.Query, tr backend.TimeRange) (data.Frames, error) {
	t, err := storage.RunQuery(ctx, s.ch, storage.QueryZoneMatrix, args(q, tr)...)
	if err != nil {
		return nil, err
	}
	c := columns(t)
	var srcs, dsts []string
	cells := map[[2]string]string{}
	for _, r := range t.Rows {
		src, dst := c.str(r, "src_zone"), c.str(r, "dst_zone")
		if len(srcs) == 0 || srcs[len(srcs)-1] != src {
			srcs = append(srcs, src)
		}
		if len(srcs) == 1 {
			dsts = append(dsts, dst)
		}
		cells[[2]string{src, dst}] = c.str(r, "cell")
	}
	f := data.NewFrame("matrix", named("src_zone", `from \ to`, srcs))
	for _, d := range dsts {
		col := make([]string, len(srcs))
		for i, src := range srcs {
			col[i] = cells[[2]string{src, d}]
		}
		f.Fields = append(f.Fields, named(d, "", col))
	}
	f.Meta = &data.FrameMeta{PreferredVisualization: data.VisTypeTable}
	return data.Frames{f}, nil
}

// conduit is storage.QueryConduitRules: the conduit's declared rules with
// the traffic each carried, then what no rule carries.
func (s *Source) conduit(ctx context.Context, q zones.Query, tr backend.TimeRange) (data.Frames, error) {
	known, err := storage.RunQuery(ctx, s.ch, storage.QueryModelConduits)
	if err != nil {
		return nil, err
	}
	kc := columns(known)
	var ids []string
	for _, r := range known.Rows {
		ids = append(ids, kc.str(r, "conduit"))
	}
	if !slices.Contains(ids, q.Conduit) {
		return nil, badQuery{fmt.Sprintf("conduit %q is not in the current model (its conduits: %s)", q.Conduit, strings.Join(ids, ", "))}
	}
	t, err := storage.RunQuery(ctx, s.ch, storage.QueryConduitRules, args(q, tr)...)
	if err != nil {
		return nil, err
	}
	f := data.NewFrame("conduit "+q.Conduit,
		named("rule", "Rule", []string{}), named("protocol", "Protocol", []string{}), named("direction", "Direction", []string{}),
		named("transport", "Transport", []string{}), named("ports", "Ports", []string{}), named("functions", "Functions", []string{}),
		named("flows", "Flows", []uint64{}), named("events", "Events", []uint64{}), named("allowed", "Allowed", []uint64{}),
		named("policy_breaking", "Breaking the policy", []uint64{}), named("blocked", "Blocked", []uint64{}),
		named("first_seen", "First seen", []*time.Time{}), named("last_seen", "Last seen", []*time.Time{}),
		named("reasons", "Reasons", []string{}))
	c := columns(t)
	for _, r := range t.Rows {
		rule, fns := c.str(r, "rule"), c.str(r, "functions")
		if rule == "" {
			rule = "none: traffic no rule carries"
		} else if fns == "" {
			fns = "all"
		}
		f.AppendRow(rule, c.str(r, "protocol"), c.str(r, "direction"), c.str(r, "transport"), c.str(r, "ports"), fns,
			c.u64(r, "flows"), c.u64(r, "events"), c.u64(r, "allowed"), c.u64(r, "policy_breaking"), c.u64(r, "blocked"),
			c.timePtr(r, "first_seen"), c.timePtr(r, "last_seen"), strings.Join(c.strs(r, "reasons"), ", "))
	}
	f.Meta = &data.FrameMeta{PreferredVisualization: data.VisTypeTable}
	return data.Frames{f}, nil
}

// listedStates are the analyst states a findings query shows: every one
// but absorbed (folded into a scan, handled through it), as the CLI.
var listedStates = []string{event.StateOpen, event.StateAcknowledged, event.StateClosed}

// findings is storage.QueryFindings, newest first, with the live channel
// of the same filters in its metadata: Grafana subscribes to it, and
// RunStream sends each new revision of a matching finding as a row.
func (s *Source) findings(ctx context.Context, q zones.Query, tr backend.TimeRange) (data.Frames, error) {
	ff := storage.FindingsFilter{From: tr.From, To: tr.To, Severities: q.Severities, Types: q.Types, States: listedStates,
		Conduits: q.Conduits, Zones: q.Zones, Limit: q.Limit}
	t, err := storage.RunQuery(ctx, s.ch, storage.QueryFindings, ff.Args()...)
	if err != nil {
		return nil, err
	}
	f := findingsFrame()
	c := columns(t)
	for _, r := range t.Rows {
		appendFinding(f, findingRow{LastSeen: c.time(r, "last_seen"), Severity: c.str(r, "severity"), State: c.str(r, "state"),
			Type: c.str(r, "type"), Reason: c.str(r, "reason"), Status: c.str(r, "status"), Count: c.u64(r, "count"),
			Summary: c.str(r, "summary"), Conduit: c.str(r, "conduit"),
			Source: endpoint(c.str(r, "src_asset"), c.addr(r, "src_ip")), SrcZone: c.str(r, "src_zone"),
			Destination: endpoint(c.str(r, "dst_asset"), c.addr(r, "dst_ip")), DstZone: c.str(r, "dst_zone"),
			DstPort: c.u16Ptr(r, "dst_port"), AppProtocol: c.str(r, "app_protocol"), Device: c.str(r, "device"),
			FirstSeen: c.time(r, "first_seen"), Revision: c.u64(r, "revision"), FindingID: c.str(r, "finding_id")})
	}
	f.Meta = &data.FrameMeta{PreferredVisualization: data.VisTypeTable}
	path, err := q.Channel()
	switch {
	case err != nil:
		f.Meta.Notices = append(f.Meta.Notices, data.Notice{Severity: data.NoticeSeverityWarning, Text: "Not live: " + err.Error()})
	case s.settings.NATSURL == "":
		f.Meta.Notices = append(f.Meta.Notices, data.Notice{Severity: data.NoticeSeverityInfo,
			Text: "Not live: the data source has no NATS URL; findings show at each refresh."})
	default:
		f.Meta.Channel = live.Channel{Scope: live.ScopeDatasource, Namespace: s.uid, Path: path}.String()
	}
	return data.Frames{f}, nil
}

// findingRow is one row of the findings frame, from storage or from NATS.
type findingRow struct {
	LastSeen                              time.Time
	Severity, State, Type, Reason, Status string
	Count                                 uint64
	Summary, Conduit                      string
	Source, SrcZone, Destination, DstZone string
	DstPort                               *uint16
	AppProtocol, Device                   string
	FirstSeen                             time.Time
	Revision                              uint64
	FindingID                             string
}

// findingsFrame is the findings frame without rows: the query and the
// stream send the same fields, so Grafana appends streamed rows to it.
func findingsFrame() *data.Frame {
	return data.NewFrame("findings",
		named("last_seen", "Last seen", []time.Time{}), named("severity", "Severity", []string{}), named("state", "State", []string{}),
		named("type", "Type", []string{}), named("reason", "Reason", []string{}), named("status", "Status", []string{}),
		named("count", "Count", []uint64{}), named("summary", "Summary", []string{}), named("conduit", "Conduit", []string{}),
		named("source", "Source", []string{}), named("src_zone", "Source zone", []string{}),
		named("destination", "Destination", []string{}), named("dst_zone", "Destination zone", []string{}),
		named("dst_port", "Port", []*uint16{}), named("app_protocol", "Protocol", []string{}), named("device", "Device", []string{}),
		named("first_seen", "First seen", []time.Time{}), named("revision", "Revision", []uint64{}),
		named("finding_id", "Finding", []string{}))
}

func appendFinding(f *data.Frame, r findingRow) {
	f.AppendRow(r.LastSeen, r.Severity, r.State, r.Type, r.Reason, r.Status, r.Count, r.Summary, r.Conduit, r.Source, r.SrcZone,
		r.Destination, r.DstZone, r.DstPort, r.AppProtocol, r.Device, r.FirstSeen, r.Revision, r.FindingID)
}

// endpoint names a finding's endpoint as the dashboards do: the asset's
// name, else its address (IPv4 without its IPv6 mapping), else "".
func endpoint(asset string, a netip.Addr) string {
	switch {
	case asset != "":
		return asset
	case !a.IsValid() || a.IsUnspecified():
		return ""
	}
	return a.Unmap().String()
}

// cols reads a storage.Table's values by column name.
type cols map[string]int

func columns(t *storage.Table) cols {
	c := cols{}
	for i, n := range t.Columns {
		c[n] = i
	}
	return c
}

func (c cols) val(r []any, name string) any {
	i, ok := c[name]
	if !ok {
		return nil
	}
	return r[i]
}

func (c cols) str(r []any, name string) string {
	switch v := c.val(r, name).(type) {
	case string:
		return v
	case *string:
		if v != nil {
			return *v
		}
	case fmt.Stringer:
		return v.String()
	}
	return ""
}

func (c cols) strs(r []any, name string) []string {
	v, _ := c.val(r, name).([]string)
	return v
}

func (c cols) u64(r []any, name string) uint64 {
	switch v := c.val(r, name).(type) {
	case uint64:
		return v
	case uint32:
		return uint64(v)
	case uint16:
		return uint64(v)
	case uint8:
		return uint64(v)
	case int64:
		return uint64(max(v, 0))
	}
	return 0
}

func (c cols) u16Ptr(r []any, name string) *uint16 {
	switch v := c.val(r, name).(type) {
	case uint16:
		return &v
	case *uint16:
		return v
	}
	return nil
}

func (c cols) boolean(r []any, name string) bool {
	v, _ := c.val(r, name).(bool)
	return v
}

func (c cols) time(r []any, name string) time.Time {
	v, _ := c.val(r, name).(time.Time)
	return v.UTC()
}

func (c cols) timePtr(r []any, name string) *time.Time {
	switch v := c.val(r, name).(type) {
	case *time.Time:
		if v != nil {
			t := v.UTC()
			return &t
		}
	case time.Time:
		t := v.UTC()
		return &t
	}
	return nil
}

func (c cols) addr(r []any, name string) netip.Addr {
	switch v := c.val(r, name).(type) {
	case netip.Addr:
		return v
	case net.IP:
		a, _ := netip.AddrFromSlice(v)
		return a
	}
	return netip.Addr{}
}
