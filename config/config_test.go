package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/otsiem/otsiem/report"
)

func TestExampleIsTheDefault(t *testing.T) {
	cfg, err := Parse("example.yaml", Example())
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	// The example spells out what the defaults leave to each stage.
	want.NATS.Replicas, want.NATS.MaxAge = 1, 168*time.Hour
	want.Ingest.Listeners[1].Framing = "auto"
	want.Ingest.Listeners[1].MaxMessageSize, want.Ingest.Listeners[1].MaxConnections = 65536, 1024
	want.Ingest.Listeners[1].MaxConnectionsPerSource, want.Ingest.Listeners[1].IdleTimeout = 16, 10*time.Minute
	want.Ingest.MaxPending, want.Ingest.MaxPendingBytes, want.Ingest.MaxPendingRecords = 8192, 16<<20, 32768
	want.Ingest.Listeners[1].ReadBuffer = 256 << 10
	want.NATS.Embedded.Users = []NATSUser{}
	want.Ingest.Batch = Batch{MaxRecords: 256, MaxBytes: 524288, Linger: 20 * time.Millisecond}
	want.Correlate = Correlate{FoldWindow: time.Hour, UpdateEvery: time.Minute, ScanPorts: 20, ScanHosts: 20,
		ScanWindow: time.Minute, SlowScanPorts: 40, SlowScanHosts: 40, SlowScanWindow: 15 * time.Minute,
		DiodeMissed: 3, DiodeMaxLag: 5 * time.Second, ClockSkew: 10 * time.Second, Learn: 24 * time.Hour, Tick: time.Second,
		Severities: map[string]string{}, Suppress: []Suppression{}, Consumer: "otsiem-correlate",
		LeaseTTL: 10 * time.Second, FetchBatch: 16, ReloadEvery: 5 * time.Second}
	want.Reports = []report.Schedule{}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("example differs from defaults:\n got %+v\nwant %+v", cfg, want)
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
	b, err := cfg.Bus("ingest")
	if err != nil {
		t.Fatal(err)
	}
	if b.Password != "s3cret" || b.URL != "tls://nats.plant:4222" || b.Name != "otsiem-ingest" || b.Embedded.Dir != "data/nats" {
		t.Errorf("bus %+v", b)
	}
	if l := cfg.Listeners()[0]; l.TLS.CertFile != "c.pem" || l.Protocol != "tls" {
		t.Errorf("listener %+v", l)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nats:\n  urll: x\n", `c.yaml:2:3: unknown key "urll" (known: creds_file, embedded, max_age, max_bytes, nkey_file, password, replicas, tls, token, url, user)`},
		{"ingest:\n  listeners:\n    - protocol: tcp\n      adress: x\n", `c.yaml:4:7: unknown key "adress"`},
		{"ingest:\n  max_pending: lots\n", "c.yaml:2:16: cannot unmarshal !!str `lots` into int"},
		{"ingest:\n  batch:\n    linger: soon\n", "c.yaml:3:13: cannot unmarshal !!str `soon` into time.Duration"},
		{"nats:\n  password: ${OTSIEM_UNSET_VAR_X}\n", "c.yaml:2:13: environment variable OTSIEM_UNSET_VAR_X is not set"},
		{"ingest:\n  listeners:\n    - protocol: sctp\n", `c.yaml: ingest.listeners[0]: protocol "sctp": want udp, tcp or tls`},
		{"ingest:\n  listeners:\n    - protocol: tls\n", "c.yaml: ingest.listeners[0]: tls needs tls.cert_file and tls.key_file"},
		{"storage:\n  embedded:\n    tls: {cert_file: c.pem}\n", "c.yaml: storage.embedded.tls needs tls.cert_file and tls.key_file"},
		{"storage:\n  embedded:\n    tls: {certfile: c.pem}\n", `c.yaml:3:11: unknown key "certfile" (known: cert_file, key_file)`},
		{"site: [\n", "c.yaml:1:1: did not find expected node content"},
		{"memory_limit: lots\n", `c.yaml:1:15: cannot read "lots" as a size`},
		{"nats:\n  max_bytes: 2 GiBs\n", `c.yaml:2:14: cannot read "2 GiBs" as a size`},
		{"nats:\n  embedded:\n    users: [{user: grafana}]\n", "c.yaml: nats.embedded.users[0]: want user and password, or nkey"},
		{"nats:\n  embedded:\n    users: [{nkey: UABC, role: admin}]\n", `c.yaml: nats.embedded.users[0].role "admin": want otsiem or reader`},
	}
	for _, tt := range tests {
		_, err := Parse("c.yaml", []byte(tt.in))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%q:\n got %v\nwant %s", tt.in, err, tt.want)
		}
	}
}

func TestByteSize(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte("memory_limit: 1.5GiB\nnats:\n  max_bytes: 500MB\n  embedded:\n    listen: 127.0.0.1:4222\n    users: [{user: grafana, password: pw, role: reader}, {nkey: UABC}]\ningest:\n  max_pending_bytes: 4096\n  listeners: [{protocol: tcp, read_buffer: 64KiB}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MemoryLimit != 3<<29 || cfg.NATS.MaxBytes != 500e6 || cfg.Ingest.MaxPendingBytes != 4096 || cfg.Listeners()[0].ReadBuffer != 64<<10 {
		t.Errorf("sizes: memory %d, nats %d, pending %d, listener %+v", cfg.MemoryLimit, cfg.NATS.MaxBytes, cfg.Ingest.MaxPendingBytes, cfg.Listeners()[0])
	}
	b, err := cfg.Bus("run")
	if err != nil {
		t.Fatal(err)
	}
	if b.MaxBytes != 500e6 || len(b.Embedded.Users) != 2 || b.Embedded.Users[0].Role != "reader" || b.Embedded.Users[1].NKey != "UABC" {
		t.Errorf("bus %+v", b)
	}
	if p := cfg.Publisher(); p.MaxPendingBytes != 4096 {
		t.Errorf("publisher %+v", p)
	}
}

func TestEngineConfig(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte(`
correlate:
  severities: {"new_pair": high, "would_block/not_permitted": info}
  suppress:
    - {type: new_pair, src: 10.30.1.60}
    - {reason: no_conduit, dst: 10.100.0.0/16, port: 443}
`))
	if err != nil {
		t.Fatal(err)
	}
	ec, err := cfg.Engine("unit-3")
	if err != nil {
		t.Fatal(err)
	}
	if ec.Site != "unit-3" || ec.Severities["new_pair"] != "high" || ec.Severities["would_block/not_permitted"] != "info" {
		t.Errorf("%+v", ec)
	}
	if len(ec.Suppress) != 2 || ec.Suppress[0].Src.String() != "10.30.1.60/32" || ec.Suppress[1].Dst.Bits() != 16 || ec.Suppress[1].Port != 443 {
		t.Errorf("suppress %+v", ec.Suppress)
	}
	for _, bad := range []string{
		"correlate:\n  severities: {new_pair: urgent}\n",
		"correlate:\n  suppress: [{src: 10.0.0.0/33}]\n",
	} {
		c, err := Parse("c.yaml", []byte(bad))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Engine(""); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestStorage(t *testing.T) {
	t.Setenv("CH_PW", "s3cret")
	cfg, err := Parse("s.yaml", []byte("data_dir: /var/lib/otsiem\nstorage:\n  clickhouse:\n    addresses: [ch-1:9440]\n    password: ${CH_PW}\n    tls_enabled: true\n  batch:\n    rows: 5000\n"))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := cfg.StorageConfig()
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Addrs) != 1 || sc.Password != "s3cret" || sc.TLS == nil || sc.Database != "otsiem" || sc.Embedded.Path != "/var/lib/otsiem/clickhouse" {
		t.Errorf("storage config %+v", sc)
	}
	if got := cfg.StoreService().BatchRows; got != 5000 {
		t.Errorf("batch rows %d", got)
	}
	if _, err := Parse("s.yaml", []byte("storage:\n  clickhouse:\n    protocl: http\n")); err == nil || !strings.Contains(err.Error(), `s.yaml:3:5: unknown key "protocl"`) {
		t.Errorf("unknown key: %v", err)
	}
	if _, err := Parse("s.yaml", []byte("storage:\n  clickhouse:\n    protocol: grpc\n")); err == nil {
		t.Error("bad protocol accepted")
	}
}

// The scaled-out deployment's configuration must load.
func TestDeployConfig(t *testing.T) {
	t.Setenv("CLICKHOUSE_PASSWORD", "x")
	cfg, err := Load("../deploy/otsiem.compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := cfg.StorageConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NATS.URL != "nats://nats:4222" || len(sc.Addrs) != 1 || len(cfg.Listeners()) != 2 {
		t.Errorf("%+v", cfg)
	}
}

// NATS and ClickHouse client TLS are read the same way, errors naming the key.
func TestClientTLSFiles(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte("nats:\n  tls: {ca_file: /no/such/ca.pem}\nstorage:\n  clickhouse:\n    tls: {ca_file: /no/such/ca.pem}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Bus("x"); err == nil || !strings.Contains(err.Error(), "nats.tls.ca_file") {
		t.Errorf("nats: %v", err)
	}
	if _, err := cfg.StorageConfig(); err == nil || !strings.Contains(err.Error(), "storage.clickhouse.tls.ca_file") {
		t.Errorf("storage: %v", err)
	}
	if b, err := Default().Bus("x"); err != nil || b.TLS != nil {
		t.Errorf("default: %v %v", b.TLS, err)
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
	for _, bad := range []string{"reports:\n  - every: fortnightly\n", "reports:\n  - every: daily\n    formats: [docx]\n",
		"reports:\n  - every: daily\n    colour: red\n"} {
		if _, err := Parse("c.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "c.yaml") {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}
