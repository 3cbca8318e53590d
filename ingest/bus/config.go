package bus

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/otsiem/otsiem/setting"
)

// Config says how to reach NATS: the configuration file's `nats:`
// section. With no URL an embedded server runs in the process, with its
// JetStream store under Embedded.Dir.
type Config struct {
	// URL lists the servers, e.g. tls://nats-1:4222,tls://nats-2:4222.
	URL string `yaml:"url"`
	// Name identifies this connection to the server (e.g. "otsiem-ingest").
	Name string `yaml:"-"`

	// Authentication, one of: user and password, a token, decentralized
	// JWT credentials (CredsFile), an NKey seed (NKeyFile).
	User      string `yaml:"user"`
	Password  string `yaml:"password"`
	Token     string `yaml:"token"`
	CredsFile string `yaml:"creds_file" config:"path"`
	NKeyFile  string `yaml:"nkey_file" config:"path"`
	// TLS towards the servers; none when no file or name is set.
	TLS setting.ClientTLS `yaml:"tls"`

	Embedded EmbeddedConfig `yaml:"embedded"`

	// Replicas of each stream on a cluster (1 for one server).
	Replicas int `yaml:"replicas"`
	// MaxAge bounds how long a stream keeps a message (default 7 days):
	// the backstop for a consumer that never catches up. Messages every
	// reader is done with go long before (see Trim).
	MaxAge time.Duration `yaml:"max_age"`
	// MaxBytes is what otsiem's four streams may hold in all, split
	// among them by StreamShares. A full stream refuses new messages
	// (discard new): the stage publishing to it retries and its readers
	// slow down; nothing already accepted is dropped. Default (0): with
	// the embedded server, half of the disk its store is on (free space
	// plus what the store holds); with servers, 80% of the account's
	// storage limit divided by Replicas, or 4 GiB when the account has
	// none. Negative: unbounded.
	MaxBytes setting.ByteSize `yaml:"max_bytes"`
	// DuplicateWindow is how long a message id is remembered for
	// deduplication (0: 2 minutes).
	DuplicateWindow time.Duration `yaml:"-"`
	// Logger gets the embedded server's state changes; nil: slog.Default.
	Logger *slog.Logger `yaml:"-"`
}

// EmbeddedConfig configures the in-process server.
type EmbeddedConfig struct {
	// Dir is the JetStream store directory (default "data/nats"; the
	// configuration file's default is <data_dir>/nats).
	Dir string `yaml:"dir" config:"path"`
	// Listen is a host:port for other processes and tools; empty keeps the
	// server reachable only from inside this process. A listening server
	// requires credentials: otsiem's own NKey (generated into
	// Dir/otsiem.nk, mode 0600, on first start) and Users.
	Listen string `yaml:"listen"`
	Users  []User `yaml:"users"`
	// TLS serves the listener over TLS; with a client CA, clients must
	// present a certificate it signed.
	TLS setting.ServerTLS `yaml:"tls"`
}

// User is an identity the embedded server admits on its listener: a user
// name and password, or an NKey public key (U…).
type User struct {
	Name     string `yaml:"user"`
	Password string `yaml:"password"`
	NKey     string `yaml:"nkey"`
	Role     string `yaml:"role"` // RoleOtsiem or RoleReader (default)
}

// DefaultConfig is the embedded server, one replica, messages kept at most
// DefaultMaxAge.
func DefaultConfig() Config {
	return Config{Replicas: 1, MaxAge: DefaultMaxAge}
}

// DefaultMaxAge is the default of Config.MaxAge: 7 days.
const DefaultMaxAge = 7 * 24 * time.Hour

// Validate reports settings that cannot work, as setting.FieldErrors.
func (c Config) Validate() error {
	errs := []error{setting.Under("tls", c.TLS.Validate()), setting.Under("embedded.tls", c.Embedded.TLS.Validate(false))}
	for i, u := range c.Embedded.Users {
		at := fmt.Sprintf("embedded.users[%d]", i)
		switch {
		case u.Role != "" && u.Role != RoleOtsiem && u.Role != RoleReader:
			errs = append(errs, setting.Errorf(at+".role", "%q: want %s or %s", u.Role, RoleOtsiem, RoleReader))
		case (u.NKey == "") == (u.Name == "" || u.Password == ""):
			errs = append(errs, setting.Errorf(at, "want user and password, or nkey"))
		}
	}
	if c.Replicas < 0 {
		errs = append(errs, setting.Errorf("replicas", "%d: want 1 or more (0: 1)", c.Replicas))
	}
	return errors.Join(errs...)
}

// PublisherConfig tunes a Publisher: the `ingest:` section's bounds on
// what is sent and not yet acknowledged.
type PublisherConfig struct {
	// MaxPending bounds unacknowledged messages (default 8192).
	MaxPending int `yaml:"max_pending"`
	// MaxPendingBytes bounds their payload bytes (default 16 MiB).
	MaxPendingBytes setting.ByteSize `yaml:"max_pending_bytes"`
	// MaxPendingRecords bounds their records (default 32768): about a
	// second of a busy plant's events, so that TCP senders are slowed
	// within seconds of the store refusing writes.
	MaxPendingRecords int `yaml:"max_pending_records"`
	// Stage names the metrics' stage ("ingest" → otsiem_ingest_publish_…).
	Stage string `yaml:"-"`
	// Registerer takes the publisher's metrics; nil registers none.
	Registerer prometheus.Registerer `yaml:"-"`
	Logger     *slog.Logger          `yaml:"-"`
}

// DefaultPublisherConfig holds the bounds' defaults.
func DefaultPublisherConfig() PublisherConfig {
	return PublisherConfig{MaxPending: 8192, MaxPendingBytes: 16 << 20, MaxPendingRecords: 32768}
}

// Validate reports a negative bound.
func (c PublisherConfig) Validate() error {
	return nonNegative(map[string]int64{"max_pending": int64(c.MaxPending), "max_pending_bytes": int64(c.MaxPendingBytes),
		"max_pending_records": int64(c.MaxPendingRecords)})
}

// BatcherConfig tunes a Batcher: the `ingest.batch:` section.
type BatcherConfig struct {
	MaxRecords int              `yaml:"max_records"` // default 256
	MaxBytes   setting.ByteSize `yaml:"max_bytes"`   // default 512 KiB (below NATS's 1 MiB payload limit)
	Linger     time.Duration    `yaml:"linger"`      // default 20ms
}

// DefaultBatcherConfig holds the batches' defaults.
func DefaultBatcherConfig() BatcherConfig {
	return BatcherConfig{MaxRecords: 256, MaxBytes: 512 << 10, Linger: 20 * time.Millisecond}
}

// Validate reports a negative bound, or batches NATS would refuse.
func (c BatcherConfig) Validate() error {
	if c.MaxBytes > 1<<20 {
		return setting.Errorf("max_bytes", "%d: NATS refuses messages over 1 MiB (its default max_payload)", c.MaxBytes)
	}
	return nonNegative(map[string]int64{"max_records": int64(c.MaxRecords), "max_bytes": int64(c.MaxBytes), "linger": int64(c.Linger)})
}

// nonNegative reports the negative values, by key, in key order.
func nonNegative(values map[string]int64) error {
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(values)) {
		if values[k] < 0 {
			errs = append(errs, setting.Errorf(k, "%d: want 0 (the default) or more", values[k]))
		}
	}
	return errors.Join(errs...)
}
