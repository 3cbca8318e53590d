// Package bus connects otsiem's stages through NATS JetStream: it starts an
// embedded server or connects to external ones, declares the streams, and
// publishes with acknowledgements, deduplication ids and backpressure.
package bus

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Subjects and streams. Each stage publishes under its own prefix; the
// remaining tokens (site, kind, severity) let consumers filter.
const (
	StreamEvents     = "OTSIEM_EVENTS"
	StreamDeadLetter = "OTSIEM_DEADLETTER"
	StreamEnriched   = "OTSIEM_ENRICHED"
	StreamFindings   = "OTSIEM_FINDINGS"

	SubjectEvents     = "otsiem.events"
	SubjectDeadLetter = "otsiem.deadletter"
	SubjectEnriched   = "otsiem.enriched"
	SubjectFindings   = "otsiem.findings"
)

// Config says how to reach NATS. With no URL an embedded server runs in the
// process, with its JetStream store under Embedded.Dir.
type Config struct {
	URL string
	// Name identifies this connection to the server (e.g. "otsiem-ingest").
	Name string

	User, Password string
	Token          string
	CredsFile      string      // NATS decentralized-auth credentials
	NKeyFile       string      // NKey seed file
	TLS            *tls.Config // client TLS; nil for none

	Embedded EmbeddedConfig

	// Replicas of each stream on a cluster (1 for one server).
	Replicas int
	// MaxAge and MaxBytes bound what each stream keeps (0: 7 days, no size limit).
	MaxAge   time.Duration
	MaxBytes int64
	// DuplicateWindow is how long a message id is remembered for
	// deduplication (0: 2 minutes).
	DuplicateWindow time.Duration
}

// EmbeddedConfig configures the in-process server.
type EmbeddedConfig struct {
	Dir string // JetStream store directory (default "data/nats")
	// Listen is a host:port for other processes and tools; empty keeps the
	// server reachable only from inside this process.
	Listen string
}

// Bus is a connection to JetStream, and the embedded server when there is one.
type Bus struct {
	cfg Config
	NC  *nats.Conn
	JS  jetstream.JetStream
	srv *server.Server
}

// Open connects to NATS (starting the embedded server when cfg.URL is
// empty) and declares otsiem's streams.
func Open(ctx context.Context, cfg Config) (*Bus, error) {
	b := &Bus{cfg: cfg}
	opts := []nats.Option{nats.Name(orDefault(cfg.Name, "otsiem")), nats.MaxReconnects(-1), nats.ReconnectWait(time.Second)}
	url := cfg.URL
	if url == "" {
		srv, err := startEmbedded(cfg.Embedded)
		if err != nil {
			return nil, err
		}
		b.srv = srv
		opts = append(opts, nats.InProcessServer(srv))
	} else {
		auth, err := clientOptions(cfg)
		if err != nil {
			return nil, err
		}
		opts = append(opts, auth...)
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("connect to nats %s: %w", redact(url), err)
	}
	b.NC = nc
	if b.JS, err = jetstream.New(nc); err != nil {
		b.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	if err := b.EnsureStreams(ctx); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// Embedded reports whether the bus runs its own server.
func (b *Bus) Embedded() bool { return b.srv != nil }

// ClientURL returns the embedded server's client URL when it listens, or "".
func (b *Bus) ClientURL() string {
	if b.srv == nil || b.cfg.Embedded.Listen == "" {
		return ""
	}
	return b.srv.ClientURL()
}

// Close drains the connection and shuts the embedded server down.
func (b *Bus) Close() {
	if b.NC != nil {
		_ = b.NC.Drain()
		for i := 0; i < 100 && !b.NC.IsClosed(); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		b.NC.Close()
	}
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
	}
}

// StreamConfigs returns the streams otsiem uses, sized by the configuration.
func (b *Bus) StreamConfigs() []jetstream.StreamConfig {
	age := b.cfg.MaxAge
	if age == 0 {
		age = 7 * 24 * time.Hour
	}
	dup := b.cfg.DuplicateWindow
	if dup == 0 {
		dup = 2 * time.Minute
	}
	maxBytes := b.cfg.MaxBytes
	if maxBytes == 0 {
		maxBytes = -1
	}
	replicas := max(b.cfg.Replicas, 1)
	mk := func(name, subject, desc string) jetstream.StreamConfig {
		return jetstream.StreamConfig{
			Name: name, Description: desc, Subjects: []string{subject + ".>"},
			Storage: jetstream.FileStorage, Retention: jetstream.LimitsPolicy, Discard: jetstream.DiscardOld,
			MaxAge: age, MaxBytes: maxBytes, Duplicates: dup, Replicas: replicas,
		}
	}
	return []jetstream.StreamConfig{
		mk(StreamEvents, SubjectEvents, "normalized events from the collectors"),
		mk(StreamDeadLetter, SubjectDeadLetter, "raw bytes that could not become events"),
		mk(StreamEnriched, SubjectEnriched, "events with zones, conduit and verdict"),
		mk(StreamFindings, SubjectFindings, "correlation findings"),
	}
}

// EnsureStreams creates the streams, or updates them to the configuration.
func (b *Bus) EnsureStreams(ctx context.Context) error {
	for _, sc := range b.StreamConfigs() {
		if _, err := b.JS.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("declare stream %s: %w", sc.Name, err)
		}
	}
	return nil
}

// Token returns a subject token made safe: NATS subjects may not contain
// dots, spaces or wildcards.
func Token(s string) string {
	if s == "" {
		return "_"
	}
	if tokenSafe(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '.', ' ', '*', '>', '\t', '\r', '\n':
			return '_'
		}
		return r
	}, s)
}

// tokenSafe reports whether Token would return s unchanged, for the
// common ASCII name without a byte to replace (strings.Map would also
// replace invalid UTF-8).
func tokenSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 0x80, c == '.', c == ' ', c == '*', c == '>', c == '\t', c == '\r', c == '\n':
			return false
		}
	}
	return true
}

func startEmbedded(cfg EmbeddedConfig) (*server.Server, error) {
	dir := orDefault(cfg.Dir, filepath.Join("data", "nats"))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	opts := &server.Options{
		ServerName: "otsiem",
		JetStream:  true,
		StoreDir:   dir,
		NoLog:      true,
		NoSigs:     true,
		DontListen: cfg.Listen == "",
	}
	if cfg.Listen != "" {
		host, port, err := splitHostPort(cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("embedded nats listen %q: %w", cfg.Listen, err)
		}
		opts.Host, opts.Port = host, port
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("embedded nats: not ready after 30s")
	}
	return srv, nil
}

func clientOptions(cfg Config) ([]nats.Option, error) {
	var opts []nats.Option
	switch {
	case cfg.CredsFile != "":
		opts = append(opts, nats.UserCredentials(cfg.CredsFile))
	case cfg.NKeyFile != "":
		o, err := nats.NkeyOptionFromSeed(cfg.NKeyFile)
		if err != nil {
			return nil, fmt.Errorf("nats nkey: %w", err)
		}
		opts = append(opts, o)
	case cfg.User != "":
		opts = append(opts, nats.UserInfo(cfg.User, cfg.Password))
	case cfg.Token != "":
		opts = append(opts, nats.Token(cfg.Token))
	}
	if cfg.TLS != nil {
		opts = append(opts, nats.Secure(cfg.TLS))
	}
	return opts, nil
}

// redact removes credentials from a URL for messages.
func redact(url string) string {
	if i := strings.Index(url, "@"); i >= 0 {
		if j := strings.Index(url, "://"); j >= 0 && j < i {
			return url[:j+3] + "REDACTED" + url[i:]
		}
	}
	return url
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func splitHostPort(s string) (string, int, error) {
	host, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, err
	}
	return host, port, nil
}
