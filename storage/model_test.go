package storage_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/otsiem/otsiem/rules"
	"github.com/otsiem/otsiem/storage"
)

// refinery compiles examples/refinery, with edit applied to each file's
// text (nil: unchanged).
func refinery(t *testing.T, edit func(name, text string) string) *rules.Model {
	t.Helper()
	dir := filepath.Join("..", "examples", "refinery")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var srcs []rules.Source
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if edit != nil {
			text = edit(e.Name(), text)
		}
		srcs = append(srcs, rules.Source{Name: e.Name(), Data: []byte(text)})
	}
	m, err := rules.Compile(srcs...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestWriteModelVersions(t *testing.T) {
	conn, _ := migrated(t)
	ctx := t.Context()
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	m1 := refinery(t, nil)
	v1, err := storage.WriteModel(ctx, conn, m1, storage.ModelLoad{Source: "examples/refinery", LoadedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	if v1 != m1.Hash() || len(v1) != 64 {
		t.Fatalf("version %q: want a hex sha256", v1)
	}
	// The same model again (a restart): same version, no second copy.
	again, err := storage.WriteModel(ctx, conn, refinery(t, nil), storage.ModelLoad{LoadedAt: t0.Add(time.Hour)})
	if err != nil || again != v1 {
		t.Fatalf("reloaded unchanged model: version %s, err %v; want %s", again, err, v1)
	}
	// A reload that raises Z4's SL-T and moves pa-c3 to enforce mode.
	m2 := refinery(t, func(name, s string) string {
		switch name {
		case "zones.yaml":
			return strings.Replace(s, "purdue_level: 3.5\n    security_level_target: \"SL 2\"", "purdue_level: 3.5\n    security_level_target: \"SL 3\"", 1)
		case "devices.yaml":
			return strings.Replace(s, "mode: monitor", "mode: enforce", 1)
		}
		return s
	})
	v2, err := storage.WriteModel(ctx, conn, m2, storage.ModelLoad{LoadedAt: t0.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if v2 == v1 {
		t.Fatal("changed model kept its version")
	}

	q := func(sql string, args ...any) string {
		t.Helper()
		tb, err := storage.RunSQL(ctx, conn, sql, args...)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return rowsText(tb)
	}
	if got := q("SELECT model_hash = ?, site, source, zones, conduits, rules, assets, devices, diodes FROM model_versions ORDER BY loaded_at", v1); got !=
		"1 petrochemical-refinery-unit-3 examples/refinery 5 3 6 35 6 1\n1 petrochemical-refinery-unit-3  5 3 6 35 6 1\n0 petrochemical-refinery-unit-3  5 3 6 35 6 1\n" {
		t.Errorf("model_versions:\n%s", got)
	}
	if got := q("SELECT model_hash = "+storage.CurrentModel+" FROM model_versions WHERE model_hash = ? LIMIT 1", v2); got != "1\n" {
		t.Errorf("current model is not the latest load: %s", got)
	}
	// Both versions are queryable, each as it was declared.
	for _, tc := range []struct {
		version, want string
	}{{v1, "Z4-DMZ 2 enforce monitor"}, {v2, "Z4-DMZ 3 enforce enforce"}} {
		got := q(`SELECT z.zone, z.sl_t, d1.mode, d2.mode FROM model_zones z, model_devices d1, model_devices d2
WHERE z.model_hash = ? AND d1.model_hash = z.model_hash AND d2.model_hash = z.model_hash
  AND z.zone = 'Z4-DMZ' AND d1.device = 'fgr-c2' AND d2.device = 'pa-c3'`, tc.version)
		if got != tc.want+"\n" {
			t.Errorf("version %.8s: %q, want %q", tc.version, got, tc.want)
		}
	}
	for table, want := range map[string]string{"model_zones": "10", "model_conduits": "6", "model_rules": "12",
		"model_assets": "70", "model_devices": "12", "model_diodes": "2"} {
		if got := q("SELECT count() FROM " + table + " FINAL"); got != want+"\n" {
			t.Errorf("%s: %s rows, want %s (5/3/6/35/6/1 per version, two versions)", table, strings.TrimSpace(got), want)
		}
	}
	// The content as declared in examples/refinery.
	for sql, want := range map[string]string{
		"SELECT zone, purdue, purdue_lo, sl_t, safety, air_gapped, networks, conduits FROM model_zones WHERE model_hash = ? ORDER BY position LIMIT 2":         "Z1-SIS 1 1 3 true true [10.10.0.0/16] []\nZ2-BPCS 1-2 1 2 false false [10.20.0.0/16] [C1-BPCS-OPS]\n",
		"SELECT rule, conduit, app_protocol, transport, ports, from_zone, to_zone, functions FROM model_rules WHERE model_hash = ? AND rule = 'C1-BPCS-OPS#2'": "C1-BPCS-OPS#2 C1-BPCS-OPS modbus tcp [502] Z3-OPS Z2-BPCS 3,4\n",
		"SELECT asset, zone, toString(addresses[1]) FROM model_assets WHERE model_hash = ? AND asset = 'SIS-01'":                                               "SIS-01 Z1-SIS ::ffff:10.10.1.10\n",
		"SELECT diode, toString(tx), tx_zone, rx_zone, heartbeat_s, conduit, rule FROM model_diodes WHERE model_hash = ?":                                      "DMZ-DD-01 ::ffff:10.30.1.100 Z3-OPS Z4-DMZ 10 C2-OPS-DMZ C2-OPS-DMZ#1\n",
		"SELECT device, role, mode, mode_since, conduits FROM model_devices WHERE model_hash = ? AND device = 'pa-c3'":                                         "pa-c3 firewall monitor 2026-10-01 00:00:00 +0000 UTC [C3-DMZ-ENT]\n",
	} {
		if got := q(sql, v1); got != want {
			t.Errorf("%s:\n got %q\nwant %q", sql, got, want)
		}
	}
}

// rowsText prints a result's rows, one a line, values separated by blanks.
func rowsText(tb *storage.Table) string {
	var b strings.Builder
	for _, r := range tb.Rows {
		for i, v := range r {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(fmtValue(v))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// fmtValue prints a scanned value, pointers dereferenced and NULL as "".
func fmtValue(v any) string {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return ""
		}
		v = rv.Elem().Interface()
	}
	return fmt.Sprint(v)
}
