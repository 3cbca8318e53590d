package storage

import (
	"errors"
	"log/slog"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/setting"
	"github.com/otsiem/otsiem/storage/embedded"
)

// Config is the configuration file's `storage:` section: where the data
// lives (a ClickHouse server or cluster when ClickHouse.Addresses is set,
// else the embedded engine), how long events are kept, and the writer's
// batches.
type Config struct {
	// Embedded configures the in-process engine used without servers.
	Embedded EmbeddedConfig `yaml:"embedded"`
	// ClickHouse is a ClickHouse server or cluster.
	ClickHouse ClickHouseConfig `yaml:"clickhouse"`
	// Retention is how long events and dead letters are kept (rounded up
	// to whole days, see MigrateOptions); 0 keeps them forever.
	Retention time.Duration `yaml:"retention"`
	// Writer tunes the store stage (Service).
	Writer ServiceConfig `yaml:"batch"`
}

// ClickHouseConfig is a ClickHouse server or cluster.
type ClickHouseConfig struct {
	// Addresses are the servers, host:port; empty: the embedded engine.
	Addresses []string `yaml:"addresses"`
	// Protocol is "native" (default) or "http".
	Protocol string `yaml:"protocol"`
	// Database is created when missing; default "otsiem".
	Database string `yaml:"database"`
	User     string `yaml:"user"`
	Password string `yaml:"password"`
	// TLS towards the servers with these files; TLSEnabled turns TLS on
	// with the system's roots when no file is given.
	TLS        setting.ClientTLS `yaml:"tls"`
	TLSEnabled bool              `yaml:"tls_enabled"`
	// Compression enables LZ4 on the native protocol.
	Compression bool `yaml:"compression"`
}

// EmbeddedConfig configures the in-process engine (chDB).
type EmbeddedConfig struct {
	// Path is the data directory (required; the configuration file's
	// default is <data_dir>/clickhouse).
	Path string `yaml:"path" config:"path"`
	// LibPath is libchdb.so; empty means chdb.Locate's search
	// ($CHDB_LIB_PATH, then the project cache).
	LibPath string `yaml:"lib_path" config:"path"`
	// Listen is where the process running the engine serves its ClickHouse
	// HTTP interface to Grafana, curl and otsiem's reading commands
	// (default embedded.DefaultAddr); "off" or "" for nowhere.
	Listen string `yaml:"listen"`
	// Users (reader and writer) are the interface's accounts; the
	// passwords not given are generated into UsersFile at the first start
	// (see embedded.LoadUsers).
	Users     embedded.Users `yaml:",inline"`
	UsersFile string         `yaml:"-"`
	// MaxMemory bounds what the engine allocates, in bytes
	// (ClickHouse's max_server_memory_usage: a query that would pass it
	// fails, an insert is retried); 0: ClickHouse's default, 90% of RAM.
	// The configuration file derives it from memory_limit.
	MaxMemory int64 `yaml:"-"`
	// TLS, when enabled, serves the interface over HTTPS; otsiem's own
	// commands then pin its certificate.
	TLS embedded.TLS `yaml:"tls"`
	// ReadThrough lets a reading command share the data: when another
	// process (otsiem run) holds Path, Open connects to that process's
	// HTTP interface at Listen as Users.Reader instead of failing.
	ReadThrough bool `yaml:"-"`
	// WriteThrough is ReadThrough as Users.Writer, for a command that
	// inserts rows (otsiem findings ack): the writer may insert into
	// otsiem's tables and read, nothing else (see embedded.RoleWriter).
	WriteThrough bool `yaml:"-"`
}

// ListenAddr is where the HTTP interface is served, "" for nowhere.
func (e EmbeddedConfig) ListenAddr() string {
	if e.Listen == "off" {
		return ""
	}
	return e.Listen
}

// DefaultConfig is the embedded engine serving its HTTP interface on
// embedded.DefaultAddr to the default users, events kept forever, and the
// writer's defaults; for servers, the native protocol, database otsiem,
// user default.
func DefaultConfig() Config {
	return Config{
		Embedded: EmbeddedConfig{Listen: embedded.DefaultAddr,
			Users: embedded.Users{Reader: embedded.Credentials{User: embedded.DefaultReader}, Writer: embedded.Credentials{User: embedded.DefaultWriter}}},
		ClickHouse: ClickHouseConfig{Addresses: []string{}, Protocol: "native", Database: "otsiem", User: "default"},
		Writer:     DefaultServiceConfig(),
	}
}

// Validate reports settings that cannot work, as setting.FieldErrors.
func (c Config) Validate() error {
	errs := []error{setting.Under("embedded.tls", c.Embedded.TLS.Validate()), setting.Under("clickhouse.tls", c.ClickHouse.TLS.Validate()),
		setting.Under("batch", c.Writer.Validate())}
	if l := c.Embedded.ListenAddr(); l != "" {
		if err := setting.CheckHostPort(l); err != nil {
			errs = append(errs, setting.Errorf("embedded.listen", "%q: %w", l, err))
		}
	}
	switch c.ClickHouse.Protocol {
	case "", "native", "http":
	default:
		errs = append(errs, setting.Errorf("clickhouse.protocol", "%q: want native or http", c.ClickHouse.Protocol))
	}
	if c.Retention < 0 {
		errs = append(errs, setting.Errorf("retention", "%s: want 0 (forever) or more", c.Retention))
	}
	return errors.Join(errs...)
}

// ServiceConfig configures the store stage's writer: the configuration
// file's `storage.batch:` section, and what the caller connects it to.
type ServiceConfig struct {
	// Conn is where rows go (DB.Conn); the schema must be migrated.
	Conn driver.Conn `yaml:"-"`
	// Bus is where the streams are read from.
	Bus *bus.Bus `yaml:"-"`
	// Consumer prefixes the durable consumer names (<prefix>-events,
	// -findings, -deadletter); default "otsiem-store". Writers sharing a
	// prefix share the work.
	Consumer string `yaml:"-"`
	// BatchRows is the most rows per insert; default 100000.
	BatchRows int `yaml:"rows"`
	// MaxHeldBytes bounds the message bytes a stream's writer holds
	// (fetched, not yet committed and acknowledged), while ClickHouse is
	// slow or away too: the backlog stays in JetStream, on disk, and the
	// heap holds about three times this (messages and their decoded
	// columns). Default 64 MiB (the configuration file's default: a
	// share of memory_limit, at most 64 MiB).
	MaxHeldBytes setting.ByteSize `yaml:"max_held_bytes"`
	// FlushInterval is the longest a fetched message waits for its insert;
	// default 1s.
	FlushInterval time.Duration `yaml:"flush_interval"`
	// AckWait is the consumers' acknowledgement deadline; messages held
	// longer (an insert retrying through an outage) are kept alive with
	// in-progress acknowledgements. Default 30s.
	AckWait time.Duration `yaml:"ack_wait"`
	// MaxAckPending bounds the messages each consumer has in flight;
	// default 4096.
	MaxAckPending int `yaml:"max_ack_pending"`
	// MinBackoff and MaxBackoff bound the wait between retries of a failed
	// insert; defaults 100ms and 10s.
	MinBackoff time.Duration `yaml:"-"`
	MaxBackoff time.Duration `yaml:"-"`
	// Inserters is how many event batches are inserted at once (default
	// 2): while ClickHouse stores one, the next is encoded. Findings and
	// dead letters, being few, use one.
	Inserters int `yaml:"-"`
	// DrainTimeout bounds the final inserts after Run's context ends;
	// default 30s. What is not committed by then is redelivered later.
	DrainTimeout time.Duration `yaml:"-"`
	// Registerer takes the metrics (otsiem_store_*); nil registers none.
	Registerer prometheus.Registerer `yaml:"-"`
	// Logger gets start-up lines and real problems; nil is silent.
	Logger *slog.Logger `yaml:"-"`
}

// DefaultServiceConfig holds the writer's defaults; MaxHeldBytes is left
// 0 (64 MiB, see its doc), for the configuration to derive from
// memory_limit.
func DefaultServiceConfig() ServiceConfig {
	return ServiceConfig{Consumer: "otsiem-store", BatchRows: 100000, FlushInterval: time.Second, AckWait: 30 * time.Second,
		MaxAckPending: 4096, MinBackoff: 100 * time.Millisecond, MaxBackoff: 10 * time.Second, Inserters: 2,
		DrainTimeout: 30 * time.Second}
}

// Validate reports a negative setting.
func (c ServiceConfig) Validate() error {
	var errs []error
	for _, v := range []struct {
		key string
		n   int64
	}{{"rows", int64(c.BatchRows)}, {"flush_interval", int64(c.FlushInterval)}, {"ack_wait", int64(c.AckWait)},
		{"max_ack_pending", int64(c.MaxAckPending)}, {"max_held_bytes", int64(c.MaxHeldBytes)}} {
		if v.n < 0 {
			errs = append(errs, setting.Errorf(v.key, "%d: want 0 (the default) or more", v.n))
		}
	}
	return errors.Join(errs...)
}

func (c *ServiceConfig) defaults() {
	d := DefaultServiceConfig()
	if c.Consumer == "" {
		c.Consumer = d.Consumer
	}
	setting.Positive(&c.BatchRows, d.BatchRows)
	setting.Positive(&c.MaxHeldBytes, 64<<20)
	setting.Positive(&c.FlushInterval, d.FlushInterval)
	setting.Positive(&c.AckWait, d.AckWait)
	setting.Positive(&c.MaxAckPending, d.MaxAckPending)
	setting.Positive(&c.MinBackoff, d.MinBackoff)
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = max(d.MaxBackoff, c.MinBackoff)
	}
	setting.Positive(&c.Inserters, d.Inserters)
	setting.Positive(&c.DrainTimeout, d.DrainTimeout)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}
