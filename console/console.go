// Package console prints the live summary `otsiem run` shows an analyst
// every few seconds, and the line it ends with: throughput from the
// process's metrics, everything else from storage's named queries.
package console

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/otsiem/otsiem/escape"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/rules"
	"github.com/otsiem/otsiem/storage"
)

// Console prints what an analyst needs from a running otsiem: throughput
// (from the metrics), and from storage's named queries the findings by
// state and severity, the latest open critical and high findings, the
// most violated conduits, the would-blocks per conduit and each declared
// diode side's state.
type Console struct {
	reg    prometheus.Gatherer
	db     *storage.DB
	model  *rules.Holder
	start  time.Time // the run's start: heartbeats count from it
	last   float64
	lastAt time.Time
}

// New returns a Console reading the metrics of reg, the store db and the
// model m holds (diodes are listed as the model currently declares them);
// heartbeats count from now.
func New(reg prometheus.Gatherer, db *storage.DB, m *rules.Holder) *Console {
	now := time.Now()
	return &Console{reg: reg, db: db, model: m, start: now, lastAt: now}
}

// Run prints the summary to w every interval until ctx ends.
func (c *Console) Run(ctx context.Context, w io.Writer, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.print(ctx, w)
		}
	}
}

// consoleWindow is how far back the conduit lines look.
const consoleWindow = time.Hour

func (c *Console) print(ctx context.Context, w io.Writer) {
	fams, _ := c.reg.Gather()
	events := SumMetric(fams, "otsiem_ingest_events_total")
	var stored float64
	forEach(fams, "otsiem_store_rows_written_total", func(l map[string]string, v float64) {
		if l["table"] == "events" {
			stored += v
		}
	})
	now := time.Now()
	rate := (events - c.last) / now.Sub(c.lastAt).Seconds()
	c.last, c.lastAt = events, now
	var b strings.Builder
	fmt.Fprintf(&b, "\n%s  events %.0f (%.0f/s), stored %.0f\n", now.Format("15:04:05"), events, rate, stored)
	if err := c.findings(ctx, &b, now.UTC()); err != nil {
		fmt.Fprintf(&b, "  (store not readable: %s)\n", escape.Terminal(err.Error()))
	}
	_, _ = io.WriteString(w, b.String())
}

func (c *Console) findings(ctx context.Context, b *strings.Builder, now time.Time) error {
	q := func(query storage.Query, args ...any) (*storage.Table, error) {
		return storage.RunQuery(ctx, c.db.Conn, query, args...)
	}
	states, err := q(storage.QueryFindingStates)
	if err != nil {
		return err
	}
	bySev := map[string]map[string]int{}
	for _, r := range states.Rows {
		st, sev := r[0].(string), r[1].(string)
		if bySev[st] == nil {
			bySev[st] = map[string]int{}
		}
		bySev[st][sev] += int(r[2].(uint64))
	}
	total := func(st string) (n int) {
		for _, v := range bySev[st] {
			n += v
		}
		return n
	}
	fmt.Fprintf(b, "  findings: open %d (%s), acknowledged %d, closed %d\n", total(event.StateOpen),
		counts(bySev[event.StateOpen], event.Severities), total(event.StateAcknowledged), total(event.StateClosed))

	latest, err := q(storage.QueryFindings, storage.FindingsFilter{From: now.Add(-24 * time.Hour), To: now.Add(time.Second),
		Severities: []string{string(event.SeverityCritical), string(event.SeverityHigh)}, States: []string{event.StateOpen}, Limit: 3}.Args()...)
	if err != nil {
		return err
	}
	latest = latest.Select("last_seen", "severity", "type", "summary")
	if len(latest.Rows) == 0 {
		fmt.Fprintln(b, "  latest open critical/high: none in the last 24h")
	} else {
		fmt.Fprintln(b, "  latest open critical/high:")
		for _, r := range latest.Rows {
			fmt.Fprintf(b, "    %s  %-8s  %-16s %s\n", r[0].(time.Time).Local().Format("15:04:05"), r[1], escape.Terminal(r[2].(string)),
				clip(escape.Terminal(r[3].(string)), 140))
		}
	}

	hour := storage.FindingsFilter{From: now.Add(-consoleWindow), To: now.Add(time.Second), Limit: 3}.Args()
	top, err := q(storage.QueryTopViolatedConduits, hour...)
	if err != nil {
		return err
	}
	violated := map[string]float64{}
	for _, r := range top.Rows {
		violated[conduitLabel(r[0].(string))] = float64(r[1].(uint64))
	}
	fmt.Fprintf(b, "  most violated conduits (policy-breaking events, last hour): %s\n", topN(violated, 3, ""))
	wb, err := q(storage.QueryOpenWouldBlocks, hour...)
	if err != nil {
		return err
	}
	flows := map[string]float64{}
	for _, r := range wb.Rows {
		flows[conduitLabel(r[0].(string))] = float64(r[1].(uint64))
	}
	fmt.Fprintf(b, "  would-block flows per conduit (monitor mode, last hour): %s\n", topN(flows, 5, " flows"))

	d, err := c.diodes(ctx, now)
	if err != nil {
		return err
	}
	fmt.Fprintf(b, "  diodes: %s\n", d)
	return nil
}

// diodes says each declared diode side's state: down or degraded (an open
// finding, since when), ok or its last status (its latest heartbeat in
// this run), or no heartbeat yet.
func (c *Console) diodes(ctx context.Context, now time.Time) (string, error) {
	if len(c.model.Load().Diodes()) == 0 {
		return "none declared", nil
	}
	hb, err := storage.RunQuery(ctx, c.db.Conn, storage.QueryDiodeHeartbeats, clickhouse.Named("from", c.start.UTC()),
		clickhouse.Named("to", now.Add(time.Minute)))
	if err != nil {
		return "", err
	}
	last := map[string]string{}
	for _, r := range hb.Select("diode_id", "diode_side", "last_status").Rows {
		last[r[0].(string)+"/"+r[1].(string)] = r[2].(string)
	}
	open, err := storage.RunQuery(ctx, c.db.Conn, storage.QueryFindings, storage.FindingsFilter{From: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), To: now.Add(time.Minute),
		Types: []string{event.TypeDiodeDown, event.TypeDiodeDegraded}, Status: event.StatusOpen, Limit: 1000}.Args()...)
	if err != nil {
		return "", err
	}
	bad := map[string]string{}
	for _, r := range open.Select("diode_id", "attrs", "type", "first_seen").Rows {
		side := r[1].(map[string]string)["side"]
		k := r[0].(string) + "/" + side
		what := "down"
		if r[2] == event.TypeDiodeDegraded {
			what = "degraded"
		}
		if bad[k] != "down" {
			bad[k] = what + " since " + r[3].(time.Time).Local().Format("15:04:05")
		}
	}
	var parts []string
	for _, d := range c.model.Load().Diodes() {
		var sides []string
		for _, side := range []string{"tx", "rx"} {
			k := d.ID + "/" + side
			switch st, heard := last[k]; {
			case bad[k] != "":
				sides = append(sides, side+" "+bad[k])
			case !heard:
				sides = append(sides, side+" no heartbeat yet")
			default:
				sides = append(sides, side+" "+escape.Terminal(st))
			}
		}
		parts = append(parts, d.ID+" "+strings.Join(sides, ", "))
	}
	return strings.Join(parts, "; "), nil
}

// Drained writes what a run stored since its start, once the store has
// taken everything: "drained: N events, M findings stored (R finding
// revisions)" (storage.QueryStoredSince).
func Drained(ctx context.Context, w io.Writer, db *storage.DB, since time.Time) error {
	t, err := storage.RunQuery(ctx, db.Conn, storage.QueryStoredSince, clickhouse.Named("from", since.UTC()))
	if err != nil {
		return err
	}
	r := t.Rows[0]
	_, err = fmt.Fprintf(w, "drained: %d events, %d findings stored (%d finding revisions)\n", r[0], r[1], r[2])
	return err
}

// clip shortens s to n runes, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

func forEach(fams []*dto.MetricFamily, name string, f func(labels map[string]string, v float64)) {
	for _, fam := range fams {
		if fam.GetName() != name {
			continue
		}
		for _, m := range fam.GetMetric() {
			l := map[string]string{}
			for _, lp := range m.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			f(l, v)
		}
	}
}

// SumMetric sums every series of the counter or gauge called name.
func SumMetric(fams []*dto.MetricFamily, name string) float64 {
	var sum float64
	forEach(fams, name, func(_ map[string]string, v float64) { sum += v })
	return sum
}

// counts lists the severities' counts in order, those above zero.
func counts(m map[string]int, order []event.Severity) string {
	var parts []string
	for _, k := range order {
		if m[string(k)] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[string(k)]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func topN(m map[string]float64, n int, unit string) string {
	type kv struct {
		k string
		v float64
	}
	var l []kv
	for k, v := range m {
		l = append(l, kv{k, v})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].v > l[j].v || l[i].v == l[j].v && l[i].k < l[j].k })
	var parts []string
	for i := 0; i < len(l) && i < n; i++ {
		u := unit
		if l[i].v == 1 {
			u = strings.TrimSuffix(unit, "s") // "1 flow"
		}
		parts = append(parts, fmt.Sprintf("%s %.0f%s", escape.Terminal(l[i].k), l[i].v, u))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func conduitLabel(c string) string {
	if c == "" || c == "none" {
		return "(no conduit)"
	}
	return c
}
