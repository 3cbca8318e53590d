// Package config reads otsiem's configuration file: one YAML format for
// `otsiem run` and for the ingest, correlate and store stages run apart.
// Unknown keys and values of the wrong type are errors with file:line:col;
// ${VAR} in a value is replaced by the environment variable, so secrets
// need not be written in the file.
package config

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	_ "embed"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/otsiem/otsiem/correlate"
	"github.com/otsiem/otsiem/ingest"
	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/report"
	"github.com/otsiem/otsiem/review"
	"github.com/otsiem/otsiem/storage"
	"github.com/otsiem/otsiem/storage/embedded"
)

// Config is the whole configuration file.
type Config struct {
	// Site labels events; default: derived from the model's facility.
	Site string `yaml:"site"`
	// Model is the zone/conduit model directory (or file).
	Model string `yaml:"model"`
	// DataDir holds the embedded NATS and ClickHouse data.
	DataDir string `yaml:"data_dir"`
	// MemoryLimit is the memory the process aims to stay under (the Go
	// runtime's soft limit, GOMEMLIMIT); 0: none unless GOMEMLIMIT is set.
	MemoryLimit ByteSize  `yaml:"memory_limit"`
	LogLevel    string    `yaml:"log_level"`
	HTTP        HTTP      `yaml:"http"`
	NATS        NATS      `yaml:"nats"`
	Ingest      Ingest    `yaml:"ingest"`
	Correlate   Correlate `yaml:"correlate"`
	Storage     Storage   `yaml:"storage"`
	Review      Review    `yaml:"review"`
	// Reports are the scheduled compliance reports `otsiem run` and
	// `otsiem store` write once each period has closed.
	Reports []report.Schedule `yaml:"reports"`
}

// Review sets when `otsiem review` calls a monitor-mode firewall ready to
// enforce, and when `otsiem review` and `otsiem propose` call an observed
// flow regular enough to be a missing conduit rule. The defaults are the
// seed's: 14 full days with logs, no day without logs and no
// would_false_block in the last 7 days; a flow seen 10 times on 3 days.
type Review struct {
	MinObservedDays    int  `yaml:"min_observed_days"`
	RecentDays         int  `yaml:"recent_days"`
	MaxSilentDays      int  `yaml:"max_silent_days"`       // in the recent days; -1: not checked
	MaxWouldFalseBlock int  `yaml:"max_would_false_block"` // flows in the recent days; -1: not checked
	MissingRulesBlock  bool `yaml:"missing_rules_block"`
	MinCount           int  `yaml:"min_count"`
	MinDays            int  `yaml:"min_days"`
}

// Correlate tunes the correlator; zero values take the correlator's
// defaults.
type Correlate struct {
	FoldWindow  time.Duration `yaml:"fold_window"`
	UpdateEvery time.Duration `yaml:"update_every"`
	ScanPorts   int           `yaml:"scan_ports"`
	ScanHosts   int           `yaml:"scan_hosts"`
	ScanWindow  time.Duration `yaml:"scan_window"`
	// The slow scan: as many ports or hosts within a longer window.
	SlowScanPorts  int           `yaml:"slow_scan_ports"`
	SlowScanHosts  int           `yaml:"slow_scan_hosts"`
	SlowScanWindow time.Duration `yaml:"slow_scan_window"`
	DiodeMissed    int           `yaml:"diode_missed"`
	DiodeMaxLag    time.Duration `yaml:"diode_max_lag"`
	// ClockSkew: a device whose event time runs this far ahead of its
	// receive time does not move the correlator's time.
	ClockSkew time.Duration `yaml:"clock_skew"`
	Learn     time.Duration `yaml:"learn"`
	// Tick: how often the findings stage moves its time with the wall
	// clock while it has processed every event; negative never.
	Tick time.Duration `yaml:"tick"`
	// Severities overrides default severities by "type/reason", "type"
	// or "*/reason".
	Severities map[string]string `yaml:"severities"`
	Suppress   []Suppression     `yaml:"suppress"`
	// Consumer is the durable consumer every correlator shares.
	Consumer   string        `yaml:"consumer"`
	LeaseTTL   time.Duration `yaml:"lease_ttl"`
	FetchBatch int           `yaml:"fetch_batch"`
	// ReloadEvery is how often the model files are checked for changes
	// (SIGHUP reloads at once); default 5s, negative disables.
	ReloadEvery time.Duration `yaml:"reload_every"`
}

// Suppression drops matching findings; empty fields match anything.
type Suppression struct {
	Type    string `yaml:"type"`
	Reason  string `yaml:"reason"`
	Src     string `yaml:"src"` // address or CIDR prefix
	Dst     string `yaml:"dst"`
	Port    uint16 `yaml:"port"`
	Conduit string `yaml:"conduit"`
}

// Storage says where events and findings are kept: a ClickHouse server
// when clickhouse.addresses is set, else the embedded engine.
type Storage struct {
	Embedded   EmbeddedStorage `yaml:"embedded"`
	ClickHouse ClickHouse      `yaml:"clickhouse"`
	// Retention is how long events and dead letters are kept (rounded up
	// to whole days); 0 keeps them forever.
	Retention time.Duration `yaml:"retention"`
	Batch     StorageBatch  `yaml:"batch"`
}

// EmbeddedStorage configures the in-process ClickHouse engine (chDB).
type EmbeddedStorage struct {
	Path    string `yaml:"path"`     // default <data_dir>/clickhouse
	LibPath string `yaml:"lib_path"` // libchdb.so; default $CHDB_LIB_PATH, then the project cache
	// Listen is where the engine's ClickHouse HTTP interface is served to
	// Grafana, curl and otsiem's own reading commands; default
	// 127.0.0.1:8123, "off" (or empty) for none.
	Listen string `yaml:"listen"`
	// Reader and Writer are the interface's users (default names
	// otsiem_reader and otsiem_writer); a password left empty is generated
	// at the first start into <data_dir>/clickhouse-users.yaml (mode 0600).
	Reader embedded.Credentials `yaml:"reader"`
	Writer embedded.Credentials `yaml:"writer"`
	// TLS serves the interface over HTTPS with this certificate (for a
	// Grafana on another host); otsiem's reading commands pin it.
	TLS embedded.TLS `yaml:"tls"`
}

// ClickHouse is a ClickHouse server or cluster.
type ClickHouse struct {
	Addresses   []string  `yaml:"addresses"` // host:port; empty: the embedded engine
	Protocol    string    `yaml:"protocol"`  // native (default) or http
	Database    string    `yaml:"database"`  // default otsiem
	User        string    `yaml:"user"`
	Password    string    `yaml:"password"`
	TLS         ClientTLS `yaml:"tls"`
	TLSEnabled  bool      `yaml:"tls_enabled"` // TLS with the system roots when no tls file is given
	Compression bool      `yaml:"compression"` // LZ4 on the native protocol
}

// StorageBatch tunes the store stage's writer.
type StorageBatch struct {
	Rows          int           `yaml:"rows"`            // rows per insert; default 100000
	FlushInterval time.Duration `yaml:"flush_interval"`  // default 1s
	AckWait       time.Duration `yaml:"ack_wait"`        // default 30s
	MaxAckPending int           `yaml:"max_ack_pending"` // messages in flight per stream; default 4096
	MaxHeldBytes  ByteSize      `yaml:"max_held_bytes"`  // message bytes held per stream; default 64MiB
}

// HTTP is the operations endpoint: /metrics and /healthz.
type HTTP struct {
	Address string `yaml:"address"` // default 127.0.0.1:9464; "off" disables it
}

// NATS says where the bus is; an empty URL runs an embedded server.
type NATS struct {
	URL       string        `yaml:"url"`
	User      string        `yaml:"user"`
	Password  string        `yaml:"password"`
	Token     string        `yaml:"token"`
	CredsFile string        `yaml:"creds_file"`
	NKeyFile  string        `yaml:"nkey_file"`
	TLS       ClientTLS     `yaml:"tls"`
	Embedded  EmbeddedNATS  `yaml:"embedded"`
	Replicas  int           `yaml:"replicas"`
	MaxAge    time.Duration `yaml:"max_age"`
	// MaxBytes is what otsiem's streams may hold in all; 0: fit the disk
	// (see bus.Config.MaxBytes), negative: unbounded.
	MaxBytes ByteSize `yaml:"max_bytes"`
}

// ClientTLS is TLS for a client connection.
type ClientTLS struct {
	CAFile     string `yaml:"ca_file"`
	CertFile   string `yaml:"cert_file"`
	KeyFile    string `yaml:"key_file"`
	ServerName string `yaml:"server_name"`
}

// EmbeddedNATS configures the in-process server.
type EmbeddedNATS struct {
	Dir    string `yaml:"dir"`    // default <data_dir>/nats
	Listen string `yaml:"listen"` // e.g. 127.0.0.1:4222; empty: in-process only
	// Users may connect to the listener besides otsiem's own identity.
	Users []NATSUser `yaml:"users"`
	TLS   ServerTLS  `yaml:"tls"`
}

// NATSUser is an identity the embedded server admits: user and password,
// or an NKey public key; role otsiem (everything) or reader (subscribe
// only).
type NATSUser struct {
	User     string `yaml:"user"`
	Password string `yaml:"password"`
	NKey     string `yaml:"nkey"`
	Role     string `yaml:"role"`
}

// Ingest configures the collectors.
type Ingest struct {
	Listeners []Listener `yaml:"listeners"`
	// AllowOnlyModelDevices refuses senders whose address is not a device
	// declared in the model (TCP/TLS refused, UDP dead-lettered).
	AllowOnlyModelDevices bool `yaml:"allow_only_model_devices"`
	// MaxPending, MaxPendingBytes and MaxPendingRecords bound what is
	// read and not yet acknowledged by JetStream: past any, readers stop
	// reading and TCP senders slow down.
	MaxPending        int      `yaml:"max_pending"`
	MaxPendingBytes   ByteSize `yaml:"max_pending_bytes"`
	MaxPendingRecords int      `yaml:"max_pending_records"`
	Batch             Batch    `yaml:"batch"`
}

// Batch sizes the event batches sent to NATS.
type Batch struct {
	MaxRecords int           `yaml:"max_records"`
	MaxBytes   int           `yaml:"max_bytes"`
	Linger     time.Duration `yaml:"linger"`
}

// Listener is one syslog listener.
type Listener struct {
	Name                    string        `yaml:"name"`
	Protocol                string        `yaml:"protocol"`
	Address                 string        `yaml:"address"`
	MaxMessageSize          int           `yaml:"max_message_size"`
	MaxConnections          int           `yaml:"max_connections"`
	MaxConnectionsPerSource int           `yaml:"max_connections_per_source"`
	IdleTimeout             time.Duration `yaml:"idle_timeout"` // default 10m, negative never
	Framing                 string        `yaml:"framing"`
	Decoder                 string        `yaml:"decoder"`
	Timezone                string        `yaml:"timezone"`
	QueueSize               int           `yaml:"queue_size"`
	ReadBuffer              ByteSize      `yaml:"read_buffer"`
	TLS                     ServerTLS     `yaml:"tls"`
}

// ServerTLS is a TLS listener's certificate and optional client CA.
type ServerTLS struct {
	CertFile     string `yaml:"cert_file"`
	KeyFile      string `yaml:"key_file"`
	ClientCAFile string `yaml:"client_ca_file"`
}

// Default returns the configuration `otsiem run` uses without a file: the
// refinery example model, embedded NATS under ./data, syslog on
// 127.0.0.1:5514 over UDP and TCP, metrics on 127.0.0.1:9464.
func Default() *Config {
	return &Config{
		Model:    "examples/refinery",
		DataDir:  "data",
		LogLevel: "info",
		HTTP:     HTTP{Address: "127.0.0.1:9464"},
		Storage: Storage{
			Embedded: EmbeddedStorage{Listen: embedded.DefaultAddr, Reader: embedded.Credentials{User: embedded.DefaultReader},
				Writer: embedded.Credentials{User: embedded.DefaultWriter}},
			ClickHouse: ClickHouse{Addresses: []string{}, Protocol: "native", Database: "otsiem", User: "default"},
			Batch:      StorageBatch{Rows: 100000, FlushInterval: time.Second, AckWait: 30 * time.Second, MaxAckPending: 4096},
		},
		Review: Review{MinObservedDays: review.DefaultThresholds.MinObservedDays, RecentDays: review.DefaultThresholds.RecentDays,
			MinCount: review.DefaultRecurrence.MinCount, MinDays: review.DefaultRecurrence.MinDays},
		Ingest: Ingest{Listeners: []Listener{
			{Name: "syslog-udp", Protocol: ingest.ProtoUDP, Address: "127.0.0.1:5514"},
			{Name: "syslog-tcp", Protocol: ingest.ProtoTCP, Address: "127.0.0.1:5514"},
		}},
	}
}

// Load reads a configuration file over the defaults. Paths in it are
// relative to the directory the command runs in.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse reads a configuration from data; name is used in error messages.
func Parse(name string, data []byte) (*Config, error) {
	cfg := Default()
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := lineRE.FindStringSubmatch(msg); m != nil {
			return nil, fmt.Errorf("%s:%s:1: %s", name, m[1], m[2])
		}
		return nil, fmt.Errorf("%s: %s", name, msg)
	}
	if len(root.Content) == 0 {
		return cfg, cfg.Check(name)
	}
	doc := root.Content[0]
	var errs []error
	if err := expandEnv(name, doc); err != nil {
		errs = append(errs, err)
	}
	checkKeys(name, doc, reflect.TypeOf(cfg).Elem(), &errs)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	// A listeners list in the file replaces the default listeners.
	if hasKey(doc, "ingest", "listeners") {
		cfg.Ingest.Listeners = nil
	}
	if err := doc.Decode(cfg); err != nil {
		return nil, typeErrors(name, doc, err)
	}
	return cfg, cfg.Check(name)
}

// Check reports settings that cannot work.
func (c *Config) Check(name string) error {
	var errs []string
	for i, l := range c.Ingest.Listeners {
		switch l.Protocol {
		case ingest.ProtoUDP, ingest.ProtoTCP:
		case ingest.ProtoTLS:
			if l.TLS.CertFile == "" || l.TLS.KeyFile == "" {
				errs = append(errs, fmt.Sprintf("ingest.listeners[%d]: tls needs tls.cert_file and tls.key_file", i))
			}
		default:
			errs = append(errs, fmt.Sprintf("ingest.listeners[%d]: protocol %q: want udp, tcp or tls", i, l.Protocol))
		}
		switch ingest.Framing(l.Framing) {
		case "", ingest.FramingAuto, ingest.FramingOctetCounting, ingest.FramingNonTransparent:
		default:
			errs = append(errs, fmt.Sprintf("ingest.listeners[%d]: framing %q: want auto, octet-counting or non-transparent", i, l.Framing))
		}
	}
	if t := c.Storage.Embedded.TLS; t.Enabled() && (t.CertFile == "" || t.KeyFile == "") {
		errs = append(errs, "storage.embedded.tls needs tls.cert_file and tls.key_file")
	}
	switch c.Storage.ClickHouse.Protocol {
	case "", "native", "http":
	default:
		errs = append(errs, fmt.Sprintf("storage.clickhouse.protocol %q: want native or http", c.Storage.ClickHouse.Protocol))
	}
	for i, u := range c.NATS.Embedded.Users {
		switch {
		case u.Role != "" && u.Role != bus.RoleOtsiem && u.Role != bus.RoleReader:
			errs = append(errs, fmt.Sprintf("nats.embedded.users[%d].role %q: want %s or %s", i, u.Role, bus.RoleOtsiem, bus.RoleReader))
		case (u.NKey == "") == (u.User == "" || u.Password == ""):
			errs = append(errs, fmt.Sprintf("nats.embedded.users[%d]: want user and password, or nkey", i))
		}
	}
	r := c.Review
	for _, v := range []struct {
		key string
		v   int
	}{{"min_observed_days", r.MinObservedDays}, {"recent_days", r.RecentDays}, {"min_count", r.MinCount}, {"min_days", r.MinDays}} {
		if v.v < 1 {
			errs = append(errs, fmt.Sprintf("review.%s %d: want 1 or more", v.key, v.v))
		}
	}
	if r.MaxSilentDays < -1 || r.MaxWouldFalseBlock < -1 {
		errs = append(errs, "review.max_silent_days and review.max_would_false_block: want 0 or more, or -1 to skip the check")
	}
	for i, r := range c.Reports {
		if err := r.Check(); err != nil {
			errs = append(errs, fmt.Sprintf("reports[%d]: %v", i, err))
		}
	}
	switch c.LogLevel {
	case "", "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Sprintf("log_level %q: want debug, info, warn or error", c.LogLevel))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s: %s", name, strings.Join(errs, "; "))
	}
	return nil
}

// Bus returns the NATS settings for a connection named after its stage.
func (c *Config) Bus(stage string) (bus.Config, error) {
	n := c.NATS
	dir := n.Embedded.Dir
	if dir == "" {
		dir = filepath.Join(c.DataDir, "nats")
	}
	tc, err := n.TLS.load("nats.tls", false)
	var users []bus.User
	for _, u := range n.Embedded.Users {
		users = append(users, bus.User{Name: u.User, Password: u.Password, NKey: u.NKey, Role: u.Role})
	}
	return bus.Config{
		URL: n.URL, Name: "otsiem-" + stage, User: n.User, Password: n.Password, Token: n.Token,
		CredsFile: n.CredsFile, NKeyFile: n.NKeyFile, TLS: tc,
		Embedded: bus.EmbeddedConfig{Dir: dir, Listen: n.Embedded.Listen, Users: users,
			TLSCert: n.Embedded.TLS.CertFile, TLSKey: n.Embedded.TLS.KeyFile, TLSClientCA: n.Embedded.TLS.ClientCAFile},
		Replicas: n.Replicas, MaxAge: n.MaxAge, MaxBytes: int64(n.MaxBytes),
	}, err
}

// load builds a client TLS configuration from the files; nil when TLS is
// neither enabled nor configured. section names the keys in errors.
func (t ClientTLS) load(section string, enabled bool) (*tls.Config, error) {
	if !enabled && t.CAFile == "" && t.CertFile == "" && t.ServerName == "" {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%s.ca_file: %w", section, err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s.ca_file %s: no certificates", section, t.CAFile)
		}
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", section, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// StorageConfig returns where the store is: the ClickHouse servers, or the
// embedded engine under the data directory.
func (c *Config) StorageConfig() (storage.Config, error) {
	s := c.Storage
	path := s.Embedded.Path
	if path == "" {
		path = filepath.Join(c.DataDir, "clickhouse")
	}
	out := storage.Config{
		Addrs: s.ClickHouse.Addresses, Protocol: s.ClickHouse.Protocol, Database: s.ClickHouse.Database,
		Username: s.ClickHouse.User, Password: s.ClickHouse.Password, Compression: s.ClickHouse.Compression,
		Embedded: storage.EmbeddedConfig{Path: path, LibPath: s.Embedded.LibPath, Listen: c.EmbeddedListen(),
			Users: embedded.Users{Reader: s.Embedded.Reader, Writer: s.Embedded.Writer}, UsersFile: c.EmbeddedUsersFile(),
			TLS: s.Embedded.TLS},
	}
	var err error
	out.TLS, err = s.ClickHouse.TLS.load("storage.clickhouse.tls", s.ClickHouse.TLSEnabled)
	return out, err
}

// EmbeddedListen is where the embedded engine's HTTP interface is served,
// "" for nowhere.
func (c *Config) EmbeddedListen() string {
	if l := c.Storage.Embedded.Listen; l != "off" {
		return l
	}
	return ""
}

// EmbeddedUsersFile is the file that keeps the generated passwords of the
// embedded engine's HTTP interface.
func (c *Config) EmbeddedUsersFile() string { return filepath.Join(c.DataDir, embedded.UsersFile) }

// StoreService returns the store stage's writer settings (the caller adds
// the connections).
func (c *Config) StoreService() storage.ServiceConfig {
	b := c.Storage.Batch
	sc := storage.ServiceConfig{BatchRows: b.Rows, FlushInterval: b.FlushInterval, AckWait: b.AckWait, MaxAckPending: b.MaxAckPending,
		MaxHeldBytes: int(b.MaxHeldBytes)}
	if sc.MaxHeldBytes == 0 && c.MemoryLimit > 0 {
		// Three streams, each holding about three times this in the heap:
		// a tenth of the budget each.
		sc.MaxHeldBytes = int(min(c.MemoryLimit/30, 64<<20))
	}
	return sc
}

// Listeners returns the collector listeners.
func (c *Config) Listeners() []ingest.ListenerConfig {
	out := make([]ingest.ListenerConfig, len(c.Ingest.Listeners))
	for i, l := range c.Ingest.Listeners {
		out[i] = ingest.ListenerConfig{
			Name: l.Name, Protocol: l.Protocol, Address: l.Address, MaxMessageSize: l.MaxMessageSize,
			MaxConnections: l.MaxConnections, MaxConnectionsPerSource: l.MaxConnectionsPerSource,
			IdleTimeout: l.IdleTimeout, Framing: ingest.Framing(l.Framing),
			Decoder: l.Decoder, Timezone: l.Timezone, QueueSize: l.QueueSize, ReadBuffer: int(l.ReadBuffer),
			TLS: ingest.ServerTLS{CertFile: l.TLS.CertFile, KeyFile: l.TLS.KeyFile, ClientCAFile: l.TLS.ClientCAFile},
		}
	}
	return out
}

// Engine returns the correlator's engine settings.
func (c *Config) Engine(site string) (correlate.Config, error) {
	k := c.Correlate
	ec := correlate.Config{Site: site, FoldWindow: k.FoldWindow, UpdateEvery: k.UpdateEvery, ScanPorts: k.ScanPorts,
		ScanHosts: k.ScanHosts, ScanWindow: k.ScanWindow, SlowScanPorts: k.SlowScanPorts, SlowScanHosts: k.SlowScanHosts,
		SlowScanWindow: k.SlowScanWindow, DiodeMissed: k.DiodeMissed, DiodeMaxLag: k.DiodeMaxLag, ClockSkew: k.ClockSkew,
		Learn: k.Learn,
		// The services read live collectors, whose receive times are real.
		ReceiveClock: true}
	if len(k.Severities) > 0 {
		ec.Severities = map[string]event.Severity{}
		for key, v := range k.Severities {
			sev := event.Severity(v)
			if sev.Rank() < 0 {
				return ec, fmt.Errorf("correlate.severities[%s]: %q: want critical, high, medium, low or info", key, v)
			}
			ec.Severities[key] = sev
		}
	}
	for i, sp := range k.Suppress {
		s := correlate.Suppression{Type: sp.Type, Reason: sp.Reason, Port: sp.Port, Conduit: sp.Conduit}
		var err error
		if s.Src, err = prefix(sp.Src); err != nil {
			return ec, fmt.Errorf("correlate.suppress[%d].src: %w", i, err)
		}
		if s.Dst, err = prefix(sp.Dst); err != nil {
			return ec, fmt.Errorf("correlate.suppress[%d].dst: %w", i, err)
		}
		ec.Suppress = append(ec.Suppress, s)
	}
	return ec, ec.Validate()
}

// prefix reads an address or CIDR prefix; "" is the zero prefix.
func prefix(s string) (netip.Prefix, error) {
	if s == "" {
		return netip.Prefix{}, nil
	}
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// ReviewThresholds returns what `otsiem review` calls ready, and what it
// and `otsiem propose` call a recurring flow.
func (c *Config) ReviewThresholds() (review.Thresholds, review.Recurrence) {
	r := c.Review
	return review.Thresholds{MinObservedDays: r.MinObservedDays, RecentDays: r.RecentDays, MaxSilentDays: r.MaxSilentDays,
			MaxWouldFalseBlock: r.MaxWouldFalseBlock, MissingRulesBlock: r.MissingRulesBlock},
		review.Recurrence{MinCount: r.MinCount, MinDays: r.MinDays}
}

// Publisher returns the ingest publisher's bounds.
func (c *Config) Publisher() bus.PublisherConfig {
	i := c.Ingest
	return bus.PublisherConfig{MaxPending: i.MaxPending, MaxPendingBytes: int(i.MaxPendingBytes), MaxPendingRecords: i.MaxPendingRecords}
}

// ByteSize is a size in bytes, written as a number or with a unit: 64KiB,
// 512MiB, 2GiB, 1TiB (powers of 1024), 500KB, 2GB (powers of 1000).
type ByteSize int64

var sizeRE = regexp.MustCompile(`^\s*(-?[0-9]+(?:\.[0-9]+)?)\s*([KMGT]i?B|B)?\s*$`)

// UnmarshalYAML reads a size.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	m := sizeRE.FindStringSubmatch(n.Value)
	if n.Kind != yaml.ScalarNode || m == nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: cannot read %q as a size: want bytes, or a number with B, KiB, MiB, GiB, TiB, KB, MB, GB or TB", n.Line, n.Value)}}
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	mult := map[string]float64{"": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
		"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}[m[2]]
	*b = ByteSize(v * mult)
	return nil
}

// Batcher returns the event batch settings.
func (c *Config) Batcher() bus.BatcherConfig {
	b := c.Ingest.Batch
	return bus.BatcherConfig{MaxRecords: b.MaxRecords, MaxBytes: b.MaxBytes, Linger: b.Linger}
}

var envRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${VAR} in every scalar; an unset variable is an error.
func expandEnv(name string, n *yaml.Node) error {
	var errs []error
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "${") {
			n.Value = envRE.ReplaceAllStringFunc(n.Value, func(m string) string {
				v, ok := os.LookupEnv(m[2 : len(m)-1])
				if !ok {
					errs = append(errs, fmt.Errorf("%s:%d:%d: environment variable %s is not set", name, n.Line, n.Column, m[2:len(m)-1]))
				}
				return v
			})
			if n.Tag == "!!null" || n.Tag == "" {
				n.Tag = "!!str"
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return errors.Join(errs...)
}

// checkKeys reports keys that name no field of the target type.
func checkKeys(name string, n *yaml.Node, t reflect.Type, errs *[]error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		fields := map[string]reflect.Type{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			if tag != "" && tag != "-" {
				fields[tag] = t.Field(i).Type
				names = append(names, tag)
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			ft, ok := fields[k.Value]
			if !ok {
				slices.Sort(names)
				*errs = append(*errs, fmt.Errorf("%s:%d:%d: unknown key %q (known: %s)", name, k.Line, k.Column, k.Value, strings.Join(names, ", ")))
				continue
			}
			checkKeys(name, n.Content[i+1], ft, errs)
		}
	case n.Kind == yaml.SequenceNode && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
		for _, c := range n.Content {
			checkKeys(name, c, t.Elem(), errs)
		}
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Map:
		for i := 1; i < len(n.Content); i += 2 {
			checkKeys(name, n.Content[i], t.Elem(), errs)
		}
	}
}

func hasKey(n *yaml.Node, path ...string) bool {
	for _, key := range path {
		if n.Kind != yaml.MappingNode {
			return false
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return false
		}
		n = next
	}
	return true
}

var lineRE = regexp.MustCompile(`^line (\d+): (.*)$`)

// typeErrors turns yaml's "line N: cannot unmarshal …" into file:line:col.
func typeErrors(name string, doc *yaml.Node, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("%s: %w", name, err)
	}
	var errs []error
	for _, e := range te.Errors {
		m := lineRE.FindStringSubmatch(e)
		if m == nil {
			errs = append(errs, fmt.Errorf("%s: %s", name, e))
			continue
		}
		line, _ := strconv.Atoi(m[1])
		errs = append(errs, fmt.Errorf("%s:%d:%d: %s", name, line, valueColumn(doc, line), m[2]))
	}
	return errors.Join(errs...)
}

// valueColumn finds the column of the last scalar on a line: the value
// that failed to decode.
func valueColumn(n *yaml.Node, line int) int {
	col := 1
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Line == line && n.Kind == yaml.ScalarNode && n.Column > col {
			col = n.Column
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return col
}

// Example returns a commented example configuration, the one in the README.
func Example() []byte { return bytes.Clone(example) }

//go:embed otsiem.example.yaml
var example []byte
