package storage

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/otsiem/otsiem/rules"
)

// ModelLoad says which load of a model [WriteModel] records.
type ModelLoad struct {
	// Site is the site the model judges; default the model's own.
	Site string
	// Source is where the model was read from (a path), for people.
	Source string
	// LoadedAt is when it was loaded; default now.
	LoadedAt time.Time
}

// CurrentModel is a SQL expression for the hash of the most recently
// loaded model over all sites: the version the dashboards join with. Use
// it as `model_hash = ` + CurrentModel on any model_* table.
const CurrentModel = "(SELECT argMax(model_hash, loaded_at) FROM model_versions)"

// WriteModel records a load of the compiled model m in the model tables
// (model_versions, model_zones, model_conduits, model_rules, model_assets,
// model_devices, model_diodes; see migrations/0008_model.sql) and returns
// its version, [rules.Model.Hash]. A version already stored gets only a
// new model_versions row; its content is written once, before the version
// row, so a version row always has its content behind it.
func WriteModel(ctx context.Context, conn driver.Conn, m *rules.Model, load ModelLoad) (string, error) {
	c := declared(m)
	hash := m.Hash()
	if load.Site == "" {
		load.Site = m.Site
	}
	if load.LoadedAt.IsZero() {
		load.LoadedAt = time.Now()
	}
	var stored uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM model_versions WHERE model_hash = ?", hash).Scan(&stored); err != nil {
		return "", fmt.Errorf("storage: model versions: %w", err)
	}
	if stored == 0 {
		if err := c.insert(ctx, conn, hash); err != nil {
			return "", err
		}
	}
	err := insertRows(ctx, conn, "model_versions", "", [][]any{{hash, load.LoadedAt.UTC(), load.Site, load.Source,
		m.Facility, m.Standard, m.AssessmentDate, uint32(len(c.Zones)), uint32(len(c.Conduits)), uint32(len(c.Rules)),
		uint32(len(c.Assets)), uint32(len(c.Devices)), uint32(len(c.Diodes))}})
	return hash, err
}

// modelContent is a model as the rows of the model tables, without the
// model_hash column.
type modelContent struct {
	Zones, Conduits, Rules, Assets, Devices, Diodes [][]any
}

func declared(m *rules.Model) *modelContent {
	c := &modelContent{}
	for i, z := range m.Zones() {
		var lo, hi *float32
		purdue := ""
		if z.Purdue.Lo >= 0 {
			l, h := float32(z.Purdue.Lo), float32(z.Purdue.Hi)
			lo, hi, purdue = &l, &h, z.Purdue.String()
		}
		nets := make([]string, len(z.Networks))
		for j, n := range z.Networks {
			nets[j] = n.String()
		}
		c.Zones = append(c.Zones, []any{z.ID, z.Name, uint16(i), purdue, lo, hi, level(z.SLT), z.Criticality,
			z.Safety(), z.AirGapped(), nets, conduitIDs(z.Conduits), nonNil(z.Requirements)})
	}
	for i, cd := range m.Conduits() {
		c.Conduits = append(c.Conduits, []any{cd.ID, cd.Name, uint16(i), zoneIDs(cd.Zones), level(cd.SL),
			nonNil(cd.Controls), cd.Inspected()})
		for _, r := range cd.Rules {
			ports := make([]string, len(r.Ports))
			for j, p := range r.Ports {
				ports[j] = p.String()
			}
			fns := ""
			if !r.Functions.All() {
				fns = r.Functions.String()
			}
			c.Rules = append(c.Rules, []any{r.ID(), cd.ID, uint16(r.Index), r.Name, r.App, r.Transport, ports,
				zoneID(r.From), zoneID(r.To), fns, r.Diode, r.Direction, r.SecurityMode})
		}
	}
	for _, a := range m.Assets() {
		c.Assets = append(c.Assets, []any{a.Name, zoneID(a.Zone), addrs(a.Addresses), a.Role, a.Vendor, a.Product})
	}
	for _, d := range m.Devices() {
		var since *time.Time
		if !d.Since.IsZero() {
			s := d.Since.UTC()
			since = &s
		}
		c.Devices = append(c.Devices, []any{d.Hostname, string(d.Role), d.Vendor, d.Product, d.Decoder, string(d.Mode),
			since, addrs(d.Addresses), conduitIDs(d.Conduits), zoneIDs(d.Zones)})
	}
	for _, d := range m.Diodes() {
		rule, conduit := "", ""
		if d.Rule != nil {
			rule = d.Rule.ID()
		}
		if d.Conduit != nil {
			conduit = d.Conduit.ID
		}
		c.Diodes = append(c.Diodes, []any{d.ID, d.Name, d.Vendor, addr(d.TX), addr(d.RX), zoneID(d.TXZone),
			zoneID(d.RXZone), uint32(d.Heartbeat / time.Second), conduit, rule})
	}
	return c
}

// insert writes the content tables' rows of version hash.
func (c *modelContent) insert(ctx context.Context, conn driver.Conn, hash string) error {
	for _, t := range []struct {
		table string
		rows  [][]any
	}{
		{"model_zones", c.Zones}, {"model_conduits", c.Conduits}, {"model_rules", c.Rules},
		{"model_assets", c.Assets}, {"model_devices", c.Devices}, {"model_diodes", c.Diodes},
	} {
		rows := make([][]any, len(t.rows))
		for i, r := range t.rows {
			rows[i] = append([]any{hash}, r...)
		}
		if err := insertRows(ctx, conn, t.table, hash, rows); err != nil {
			return err
		}
	}
	return nil
}

// insertRows inserts rows into every column of table, in the table's
// column order; a non-empty token deduplicates a retried insert.
func insertRows(ctx context.Context, conn driver.Conn, table, token string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if token != "" {
		ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{
			"insert_deduplicate": 1, "insert_deduplication_token": table + "/" + token}))
	}
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+table)
	if err != nil {
		return fmt.Errorf("storage: insert into %s: %w", table, err)
	}
	for _, r := range rows {
		if err := b.Append(r...); err != nil {
			_ = b.Abort()
			return fmt.Errorf("storage: insert into %s: %w", table, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("storage: insert into %s: %w", table, err)
	}
	return nil
}

// level is a security level (0-4) or NULL when not given (-1).
func level(n int) *uint8 {
	if n < 0 {
		return nil
	}
	v := uint8(n)
	return &v
}

func zoneID(z *rules.Zone) string {
	if z == nil {
		return ""
	}
	return z.ID
}

func zoneIDs(zs []*rules.Zone) []string {
	out := make([]string, len(zs))
	for i, z := range zs {
		out[i] = z.ID
	}
	return out
}

func conduitIDs(cs []*rules.Conduit) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func addrs(as []netip.Addr) []netip.Addr {
	out := make([]netip.Addr, len(as))
	for i, a := range as {
		out[i] = addr(a)
	}
	return out
}
