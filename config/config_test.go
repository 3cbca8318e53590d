package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/otsiem/otsiem/correlate"
	"github.com/otsiem/otsiem/ingest"
	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/report"
)

func TestExampleIsTheDefault(t *testing.T) {
	cfg, err := Parse("example.yaml", Example())
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	// Empty lists and maps in the example are empty, not absent.
	want.NATS.Embedded.Users = []bus.User{}
	want.Correlate.Engine.Severities = map[string]event.Severity{}
	want.Correlate.Engine.Suppress = []correlate.Suppression{}
	want.Reports = []report.Schedule{}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("example differs from defaults:\n got %+v\nwant %+v", cfg, want)
	}
	// Where it is, as --config names it, too.
	if cfg, err := Load("otsiem.example.yaml"); err != nil || !reflect.DeepEqual(cfg, want) {
		t.Errorf("example loaded from its directory differs from defaults (%v):\n got %+v\nwant %+v", err, cfg, want)
	}
}

func TestParse(t *testing.T) {
	t.Setenv("OTSIEM_TEST_PW", "s3cret")
	cfg, err := Parse("c.yaml", []byte(`
site: unit-3
nats:
  url: tls://nats.plant:4222
  user: otsiem
  password: ${OTSIEM_TEST_PW}
ingest:
  listeners:
    - {name: tls, protocol: tls, address: 0.0.0.0:6514, tls: {cert_file: c.pem, key_file: k.pem}, idle_timeout: 5m}
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Ingest.Listeners) != 1 || cfg.Ingest.Listeners[0].IdleTimeout != 5*time.Minute {
		t.Errorf("listeners replace the defaults: %+v", cfg.Ingest.Listeners)
	}
	if b := cfg.NATS; b.Password != "s3cret" || b.URL != "tls://nats.plant:4222" || b.Embedded.Dir != "data/nats" || b.MaxAge != bus.DefaultMaxAge {
		t.Errorf("bus %+v", b)
	}
	// A listener read from the file has its defaults filled in.
	if l := cfg.Ingest.Listeners[0]; l.TLS.CertFile != "c.pem" || l.Protocol != "tls" || l.MaxConnections != 1024 || l.Framing != ingest.FramingAuto {
		t.Errorf("listener %+v", l)
	}
}

// Every error names the file, the line and the column of what is wrong,
// once.
func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nats:\n  urll: x\n", `c.yaml:2:3: unknown key "urll" (known: creds_file, embedded, max_age, max_bytes, nkey_file, password, replicas, tls, token, url, user)`},
		{"ingest:\n  listeners:\n    - protocol: tcp\n      adress: x\n", `c.yaml:4:7: unknown key "adress"`},
		{"ingest:\n  max_pending: lots\n", "c.yaml:2:16: ingest.max_pending: cannot unmarshal !!str `lots` into int"},
		{"ingest:\n  batch:\n    linger: soon\n", "c.yaml:3:13: ingest.batch.linger: cannot unmarshal !!str `soon` into time.Duration"},
		{"nats:\n  password: ${OTSIEM_UNSET_VAR_X}\n", "c.yaml:2:13: environment variable OTSIEM_UNSET_VAR_X is not set"},
		{"ingest:\n  listeners:\n    - protocol: sctp\n", `c.yaml:3:17: ingest.listeners[0].protocol: "sctp": want udp, tcp or tls`},
		{"ingest:\n  listeners:\n    - protocol: tls\n", "c.yaml:3:7: ingest.listeners[0].tls: TLS needs cert_file and key_file"},
		{"storage:\n  embedded:\n    tls: {cert_file: c.pem}\n", "c.yaml:3:10: storage.embedded.tls.key_file: missing: TLS needs key_file besides cert_file"},
		{"storage:\n  embedded:\n    tls: {certfile: c.pem}\n", `c.yaml:3:11: unknown key "certfile" (known: cert_file, key_file)`},
		{"site: [\n", "c.yaml:1:1: did not find expected node content"},
		{"memory_limit: lots\n", `c.yaml:1:15: memory_limit: cannot read "lots" as a size`},
		{"nats:\n  max_bytes: 2 GiBs\n", `c.yaml:2:14: nats.max_bytes: cannot read "2 GiBs" as a size`},
		{"nats:\n  embedded:\n    users: [{user: grafana}]\n", "c.yaml:3:13: nats.embedded.users[0]: want user and password, or nkey"},
		{"nats:\n  embedded:\n    users: [{nkey: UABC, role: admin}]\n", `c.yaml:3:32: nats.embedded.users[0].role: "admin": want otsiem or reader`},
		{"ingest:\n  listeners:\n    - protocol: tcp\n      framing: 12\n", `c.yaml:4:16: ingest.listeners[0].framing: "12": want auto, octet-counting or non-transparent`},
		{"ingest:\n  listeners:\n    - protocol: tcp\n      address: 127.0.0.1:70000\n", `c.yaml:4:16: ingest.listeners[0].address: "127.0.0.1:70000": port "70000" is not a number from 0 to 65535`},
		{"correlate:\n  suppress:\n    - port: 70000\n", "c.yaml:3:13: correlate.suppress[0].port: cannot unmarshal !!int `70000` into uint16"},
		{"correlate:\n  severities: {new_pair: urgent}\n", `c.yaml:2:26: correlate.severities[new_pair]: "urgent": want critical, high, medium, low or info`},
		{"correlate:\n  suppress: [{src: 10.0.0.0/33}]\n", `c.yaml:2:20: correlate.suppress[0].src: "10.0.0.0/33" is not an address or CIDR prefix such as 10.30.1.60 or 10.100.0.0/16`},
		{"review:\n  min_days: 0\n", "c.yaml:2:13: review.min_days: 0: want 1 or more"},
		{"log_level: loud\n", `c.yaml:1:12: log_level: "loud": want debug, info, warn or error`},
	}
	for _, tt := range tests {
		_, err := Parse("c.yaml", []byte(tt.in))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q:\n got %v\nwant %s (one error)", tt.in, err, tt.want)
		}
	}
}

// TestTestdata loads every testdata/*.good.yaml and *.bad.yaml
// configuration. A bad file lists the errors it must produce, in order, in
// "# want: LINE:COL: MESSAGE" lines (the file name left out); a good one
// must load.
func TestTestdata(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.yaml")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	t.Setenv("OTSIEM_TESTDATA_PASSWORD", "pw")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for line := range strings.Lines(string(data)) {
				if w, ok := strings.CutPrefix(strings.TrimSpace(line), "# want: "); ok {
					want = append(want, f+":"+w)
				}
			}
			_, err = Load(f)
			switch {
			case strings.HasSuffix(f, ".good.yaml"):
				if err != nil {
					t.Fatalf("good configuration failed to load: %v", err)
				}
			case strings.HasSuffix(f, ".bad.yaml"):
				if len(want) == 0 {
					t.Fatal("a bad file must list its errors in # want: lines")
				}
				if err == nil {
					t.Fatal("bad configuration loaded")
				}
				if got := err.Error(); got != strings.Join(want, "\n") {
					t.Errorf("errors:\n got: %s\nwant: %s", strings.ReplaceAll(got, "\n", "\n      "), strings.Join(want, "\n      "))
				}
			default:
				t.Fatal("name must end in .good.yaml or .bad.yaml")
			}
		})
	}
}

func TestByteSize(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte("memory_limit: 1.5GiB\nnats:\n  max_bytes: 500MB\n  embedded:\n    listen: 127.0.0.1:4222\n    users: [{user: grafana, password: pw, role: reader}, {nkey: UABC}]\ningest:\n  max_pending_bytes: 4096\n  listeners: [{protocol: tcp, read_buffer: 64KiB}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MemoryLimit != 3<<29 || cfg.NATS.MaxBytes != 500e6 || cfg.Ingest.Publish.MaxPendingBytes != 4096 || cfg.Ingest.Listeners[0].ReadBuffer != 64<<10 {
		t.Errorf("sizes: memory %d, nats %d, pending %d, listener %+v", cfg.MemoryLimit, cfg.NATS.MaxBytes, cfg.Ingest.Publish.MaxPendingBytes, cfg.Ingest.Listeners[0])
	}
	if u := cfg.NATS.Embedded.Users; len(u) != 2 || u[0].Name != "grafana" || u[0].Role != "reader" || u[1].NKey != "UABC" {
		t.Errorf("users %+v", u)
	}
}

func TestEngineConfig(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte(`
correlate:
  learn: 48h
  severities: {"new_pair": high, "would_block/not_permitted": info}
  suppress:
    - {type: new_pair, src: 10.30.1.60}
    - {reason: no_conduit, dst: 10.100.0.0/16, port: 443}
`))
	if err != nil {
		t.Fatal(err)
	}
	ec := cfg.Correlate.Engine
	if ec.Learn != 48*time.Hour || ec.FoldWindow != time.Hour || ec.Severities["new_pair"] != "high" || ec.Severities["would_block/not_permitted"] != "info" {
		t.Errorf("%+v", ec)
	}
	if len(ec.Suppress) != 2 || ec.Suppress[0].Src.String() != "10.30.1.60/32" || ec.Suppress[1].Dst.Bits() != 16 || ec.Suppress[1].Port != 443 {
		t.Errorf("suppress %+v", ec.Suppress)
	}
	if cfg.Correlate.Consumer != "otsiem-correlate" || cfg.Correlate.ReloadEvery != 5*time.Second {
		t.Errorf("service %+v", cfg.Correlate)
	}
}

func TestStorage(t *testing.T) {
	t.Setenv("CH_PW", "s3cret")
	cfg, err := Parse("s.yaml", []byte("data_dir: /var/lib/otsiem\nstorage:\n  clickhouse:\n    addresses: [ch-1:9440]\n    password: ${CH_PW}\n    tls_enabled: true\n  batch:\n    rows: 5000\n"))
	if err != nil {
		t.Fatal(err)
	}
	sc := cfg.Storage
	if len(sc.ClickHouse.Addresses) != 1 || sc.ClickHouse.Password != "s3cret" || sc.ClickHouse.Database != "otsiem" || sc.Embedded.Path != "/var/lib/otsiem/clickhouse" ||
		sc.Embedded.UsersFile != "/var/lib/otsiem/clickhouse-users.yaml" {
		t.Errorf("storage config %+v", sc)
	}
	if tc, err := sc.ClickHouse.TLS.Load(sc.ClickHouse.TLSEnabled); tc == nil || err != nil {
		t.Errorf("tls_enabled: %v %v", tc, err)
	}
	if sc.Writer.BatchRows != 5000 || sc.Writer.FlushInterval != time.Second {
		t.Errorf("writer %+v", sc.Writer)
	}
	if _, err := Parse("s.yaml", []byte("storage:\n  clickhouse:\n    protocol: grpc\n")); err == nil ||
		err.Error() != `s.yaml:3:15: storage.clickhouse.protocol: "grpc": want native or http` {
		t.Errorf("bad protocol: %v", err)
	}
	if cfg, err := Parse("s.yaml", []byte("storage:\n  embedded:\n    listen: \"off\"\n")); err != nil || cfg.Storage.Embedded.ListenAddr() != "" {
		t.Errorf("listen off: %v", err)
	}
}

// The scaled-out deployment's configuration must load.
func TestDeployConfig(t *testing.T) {
	t.Setenv("CLICKHOUSE_PASSWORD", "x")
	cfg, err := Load("../deploy/otsiem.compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NATS.URL != "nats://nats:4222" || len(cfg.Storage.ClickHouse.Addresses) != 1 || len(cfg.Ingest.Listeners) != 2 {
		t.Errorf("%+v", cfg)
	}
}

// Relative paths in a file are relative to its directory; absolute ones,
// and the defaults the file leaves alone, are kept.
func TestRelativePaths(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "etc", "otsiem.yaml")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(`
model: ../model
data_dir: var/data
nats:
  nkey_file: /etc/otsiem/otsiem.nk
  tls: {ca_file: ca.pem}
  embedded:
    tls: {cert_file: nats.pem, key_file: nats-key.pem}
ingest:
  listeners:
    - {protocol: tls, tls: {cert_file: pki/c.pem, key_file: pki/k.pem, client_ca_file: pki/ca.pem}}
storage:
  embedded:
    lib_path: lib/libchdb.so
    tls: {cert_file: ch.pem, key_file: ch-key.pem}
  clickhouse:
    tls: {ca_file: ch-ca.pem}
reports:
  - {every: daily, dir: reports}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	etc := filepath.Dir(path)
	in := func(p string) string { return filepath.Join(etc, p) }
	l := cfg.Ingest.Listeners[0].TLS
	for _, c := range []struct{ got, want string }{
		{cfg.Model, filepath.Join(dir, "model")}, {cfg.DataDir, in("var/data")},
		{cfg.NATS.NKeyFile, "/etc/otsiem/otsiem.nk"}, {cfg.NATS.TLS.CAFile, in("ca.pem")},
		{cfg.NATS.Embedded.TLS.CertFile, in("nats.pem")}, {cfg.NATS.Embedded.TLS.KeyFile, in("nats-key.pem")},
		{cfg.NATS.Embedded.Dir, in("var/data/nats")},
		{l.CertFile, in("pki/c.pem")}, {l.KeyFile, in("pki/k.pem")}, {l.ClientCAFile, in("pki/ca.pem")},
		{cfg.Storage.Embedded.LibPath, in("lib/libchdb.so")}, {cfg.Storage.Embedded.Path, in("var/data/clickhouse")},
		{cfg.Storage.Embedded.UsersFile, in("var/data/clickhouse-users.yaml")},
		{cfg.Storage.Embedded.TLS.CertFile, in("ch.pem")}, {cfg.Storage.ClickHouse.TLS.CAFile, in("ch-ca.pem")},
		{cfg.Reports[0].Dir, in("reports")},
	} {
		if c.got != c.want {
			t.Errorf("got %s, want %s", c.got, c.want)
		}
	}
	// What the file does not set keeps its default, relative to where
	// otsiem runs.
	if err := os.WriteFile(path, []byte("site: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if cfg, err := Load(path); err != nil || cfg.Model != "examples/refinery" || cfg.DataDir != "data" {
		t.Errorf("defaults: %v %v %v", cfg.Model, cfg.DataDir, err)
	}
}

func TestReportsSection(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte("reports:\n  - every: weekly\n    formats: [text, pdf]\n    dir: /var/lib/otsiem/reports\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Reports) != 1 || cfg.Reports[0].Every != "weekly" || len(cfg.Reports[0].Formats) != 2 {
		t.Errorf("reports = %+v", cfg.Reports)
	}
	for in, want := range map[string]string{
		"reports:\n  - every: fortnightly\n":                `c.yaml:2:12: reports[0].every: period "fortnightly"`,
		"reports:\n  - every: daily\n    formats: [docx]\n": `c.yaml:3:15: reports[0].formats[0]: "docx": want text, markdown, html, pdf or json`,
		"reports:\n  - every: daily\n    colour: red\n":     `c.yaml:3:5: unknown key "colour"`,
	} {
		if _, err := Parse("c.yaml", []byte(in)); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: err = %v, want %s", in, err, want)
		}
	}
}

// memory_limit is split between the Go runtime and the embedded engine,
// and bounds what the writer holds; with a ClickHouse server the Go
// runtime has all of it.
func TestMemoryBudget(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte("memory_limit: 1GiB\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GoMemoryLimit() != 512<<20 || cfg.Storage.Embedded.MaxMemory != 256<<20 || cfg.Storage.Writer.MaxHeldBytes != (512<<20)/30 {
		t.Errorf("embedded: Go %d, engine %d, held %d", cfg.GoMemoryLimit(), cfg.Storage.Embedded.MaxMemory, cfg.Storage.Writer.MaxHeldBytes)
	}
	cfg, err = Parse("c.yaml", []byte("memory_limit: 1GiB\nstorage:\n  clickhouse:\n    addresses: [ch:9000]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GoMemoryLimit() != 1<<30 || cfg.Storage.Embedded.MaxMemory != 0 {
		t.Errorf("server: Go %d, engine %d", cfg.GoMemoryLimit(), cfg.Storage.Embedded.MaxMemory)
	}
	if cfg, _ := Parse("c.yaml", []byte("site: x\n")); cfg.GoMemoryLimit() != 0 || cfg.EngineMemoryLimit() != 0 || cfg.Storage.Writer.MaxHeldBytes != 0 {
		t.Errorf("no limit: Go %d, engine %d, held %d", cfg.GoMemoryLimit(), cfg.EngineMemoryLimit(), cfg.Storage.Writer.MaxHeldBytes)
	}
	// A max_held_bytes in the file wins over the share of memory_limit.
	if cfg, _ := Parse("c.yaml", []byte("memory_limit: 1GiB\nstorage:\n  batch:\n    max_held_bytes: 1MiB\n")); cfg.Storage.Writer.MaxHeldBytes != 1<<20 {
		t.Errorf("max_held_bytes %d", cfg.Storage.Writer.MaxHeldBytes)
	}
}
