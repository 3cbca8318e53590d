// Package bus connects otsiem's stages through NATS JetStream, and is the
// only package of otsiem that uses the JetStream API: it starts an embedded
// server or connects to external ones, declares the streams, builds and
// parses their subjects (subject.go), gives every message a deterministic
// Msg-Id (msgid.go), carries dead letters (DeadLetter), publishes with
// acknowledgements, deduplication ids and backpressure (Publisher,
// Batcher, Tracker), reads with one Consumer (durable and shared, or
// ordered; ack, nak, keep-alive, redelivery count), and keeps the leases,
// saved state and retention of the stages (Lease, Blobs, Trim).
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/otsiem/otsiem/setting"
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

// StreamShares is the share of MaxBytes each stream may hold, in percent.
var StreamShares = map[string]int64{StreamEvents: 40, StreamEnriched: 40, StreamFindings: 10, StreamDeadLetter: 10}

// Bus is a connection to JetStream, and the embedded server when there is one.
type Bus struct {
	cfg    Config
	NC     *nats.Conn
	JS     jetstream.JetStream
	srv    *server.Server
	log    *slog.Logger
	budget int64 // MaxBytes in effect
	seed   string
	jsCfg  server.JetStreamConfig
	stop   chan struct{}
	wg     sync.WaitGroup
	// diskFull is set while the store's disk is full; restarts counts
	// JetStream restarts once it had room again.
	diskFull atomic.Bool
	restarts atomic.Int64
}

// Open connects to NATS (starting the embedded server when cfg.URL is
// empty) and declares otsiem's streams.
func Open(ctx context.Context, cfg Config) (*Bus, error) {
	b := &Bus{cfg: cfg, log: cfg.Logger, stop: make(chan struct{})}
	if b.log == nil {
		b.log = slog.Default()
	}
	opts := []nats.Option{nats.Name(orDefault(cfg.Name, "otsiem")), nats.MaxReconnects(-1), nats.ReconnectWait(time.Second)}
	url := cfg.URL
	if url == "" {
		auth, err := b.startEmbedded()
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.InProcessServer(b.srv))
		opts = append(opts, auth...)
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
	// An asynchronous publish whose acknowledgement never comes (JetStream
	// restarted, a cluster's stream leader changed while it was in flight)
	// fails after PublishAckTimeout instead of waiting for ever, so that
	// its publisher retries it (with the same message id: stored once).
	if b.JS, err = jetstream.New(nc, jetstream.WithPublishAsyncTimeout(PublishAckTimeout)); err != nil {
		b.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	if err := b.sizeStreams(ctx); err != nil {
		b.Close()
		return nil, err
	}
	if err := b.EnsureStreams(ctx); err != nil {
		b.Close()
		return nil, err
	}
	if b.srv != nil {
		b.wg.Add(1)
		go b.watchJetStream()
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

// SeedPath returns the file holding otsiem's NKey seed when the embedded
// server listens (and so requires credentials), or "".
func (b *Bus) SeedPath() string { return b.seed }

// Replicas returns how many copies of each stream (and of every other
// JetStream store otsiem keeps) the cluster holds.
func (b *Bus) Replicas() int { return max(b.cfg.Replicas, 1) }

// MaxBytes returns what otsiem's streams may hold in all.
func (b *Bus) MaxBytes() int64 { return b.budget }

// Close drains the connection and shuts the embedded server down.
func (b *Bus) Close() {
	close(b.stop)
	b.wg.Wait()
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
		age = DefaultMaxAge
	}
	dup := b.cfg.DuplicateWindow
	if dup == 0 {
		dup = 2 * time.Minute
	}
	replicas := b.Replicas()
	mk := func(name, subject, desc string) jetstream.StreamConfig {
		maxBytes := int64(-1)
		if b.budget > 0 {
			maxBytes = max(b.budget*StreamShares[name]/100, 1<<20)
		}
		return jetstream.StreamConfig{
			Name: name, Description: desc, Subjects: []string{subject + ".>"},
			Storage: jetstream.FileStorage, Retention: jetstream.LimitsPolicy, Discard: jetstream.DiscardNew,
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
// A stream already holding more than its new bound keeps what it holds:
// its bound is raised to that, so that nothing accepted is dropped.
func (b *Bus) EnsureStreams(ctx context.Context) error {
	for _, sc := range b.StreamConfigs() {
		if st, err := b.JS.Stream(ctx, sc.Name); err == nil && sc.MaxBytes > 0 {
			if held := int64(st.CachedInfo().State.Bytes); held > sc.MaxBytes {
				b.log.Warn("stream holds more than its bound; keeping it", "stream", sc.Name, "bytes", held, "bound", sc.MaxBytes)
				sc.MaxBytes = held
			}
		}
		if _, err := b.JS.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("declare stream %s (max_bytes %d): %w", sc.Name, sc.MaxBytes, err)
		}
	}
	return nil
}

// sizeStreams sets the streams' byte budget (see Config.MaxBytes).
func (b *Bus) sizeStreams(ctx context.Context) error {
	switch {
	case b.cfg.MaxBytes > 0:
		b.budget = int64(b.cfg.MaxBytes)
	case b.cfg.MaxBytes < 0:
		b.budget = 0 // unbounded, by request
	case b.srv != nil:
		b.budget = b.jsCfg.MaxStore * 2 / 3 // half the disk: MaxStore is three quarters
	default:
		info, err := b.JS.AccountInfo(ctx)
		if err != nil {
			return fmt.Errorf("jetstream account: %w", err)
		}
		b.budget = 4 << 30
		if limit := info.Limits.MaxStore; limit > 0 {
			b.budget = limit * 8 / 10 / int64(max(b.cfg.Replicas, 1))
		}
	}
	return nil
}

// startEmbedded starts the in-process server and returns the options its
// in-process connection needs.
func (b *Bus) startEmbedded() ([]nats.Option, error) {
	cfg := b.cfg.Embedded
	dir := orDefault(cfg.Dir, filepath.Join("data", "nats"))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	// JetStream's default store limit is three quarters of the free space
	// when it starts, which leaves out what the store already holds: a
	// restart with a backlog would find itself out of room at once.
	free, used := diskSpace(dir)
	b.jsCfg = server.JetStreamConfig{StoreDir: dir, MaxStore: (free + used) / 4 * 3, MaxMemory: -1}
	opts := &server.Options{
		ServerName:        "otsiem",
		JetStream:         true,
		StoreDir:          dir,
		JetStreamMaxStore: b.jsCfg.MaxStore,
		NoLog:             true,
		NoSigs:            true,
		DontListen:        cfg.Listen == "",
	}
	var conn []nats.Option
	if cfg.Listen != "" {
		host, port, err := splitHostPort(cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("embedded nats listen %q: %w", cfg.Listen, err)
		}
		opts.Host, opts.Port = host, port
		public, seed, err := ownIdentity(dir)
		if err != nil {
			return nil, fmt.Errorf("embedded nats identity: %w", err)
		}
		b.seed = seed
		opts.Nkeys = append(opts.Nkeys, &server.NkeyUser{Nkey: public})
		for i, u := range cfg.Users {
			perms, err := permissions(u.Role)
			if err != nil {
				return nil, fmt.Errorf("embedded nats user %d: %w", i, err)
			}
			switch {
			case u.NKey != "" && u.Name == "" && u.Password == "":
				opts.Nkeys = append(opts.Nkeys, &server.NkeyUser{Nkey: u.NKey, Permissions: perms})
			case u.Name != "" && u.Password != "" && u.NKey == "":
				opts.Users = append(opts.Users, &server.User{Username: u.Name, Password: u.Password, Permissions: perms})
			default:
				return nil, fmt.Errorf("embedded nats user %d: want a name and password, or an nkey", i)
			}
		}
		own, err := nats.NkeyOptionFromSeed(seed)
		if err != nil {
			return nil, fmt.Errorf("embedded nats identity: %w", err)
		}
		conn = append(conn, own)
		if t := cfg.TLS; t.Enabled() {
			tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: t.CertFile, KeyFile: t.KeyFile,
				CaFile: t.ClientCAFile, Verify: t.ClientCAFile != ""})
			if err != nil {
				return nil, fmt.Errorf("embedded nats tls: %w", err)
			}
			opts.TLSConfig, opts.TLS, opts.TLSVerify, opts.TLSTimeout = tc, true, t.ClientCAFile != "", 2
		}
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
	b.srv = srv
	return conn, nil
}

// watchJetStream brings JetStream back when the disk of the embedded
// server's store ran full and has room again. When a write finds no space
// the server switches JetStream off, or a stream keeps failing with the
// write error it met; either way writes are refused meanwhile (see
// Refusals). Once the disk has room again, JetStream is restarted: every
// stream is read back from disk as it was, and writes resume by
// themselves.
func (b *Bus) watchJetStream() {
	defer b.wg.Done()
	t := time.NewTicker(jetStreamCheck)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
		}
		free, total := diskFree(b.jsCfg.StoreDir)
		fullBelow := min(int64(8<<20), total/50)
		if free <= fullBelow {
			if !b.diskFull.Swap(true) {
				b.log.Error("the disk of JetStream's store is full: writes are refused until space is freed",
					"dir", b.jsCfg.StoreDir, "free_bytes", free)
			}
			continue
		}
		if !b.diskFull.Load() && b.srv.JetStreamEnabled() {
			continue
		}
		if free < max(4*fullBelow, min(int64(64<<20), total/10)) {
			continue // not enough room yet to be worth it
		}
		if b.srv.JetStreamEnabled() {
			_ = b.srv.ShutdownJetStream()
		}
		cfg := b.jsCfg
		if err := b.srv.EnableJetStream(&cfg); err != nil {
			b.log.Error("JetStream could not be restarted", "err", err)
			continue
		}
		b.restarts.Add(1)
		b.diskFull.Store(false)
		b.log.Info("JetStream restarted: the disk of its store has room again", "dir", b.jsCfg.StoreDir, "free_bytes", free)
	}
}

// PublishAckTimeout is how long an asynchronous publish waits for
// JetStream's acknowledgement before it fails (and is retried).
var PublishAckTimeout = 30 * time.Second

// jetStreamCheck is how often the embedded server's disk is checked.
var jetStreamCheck = 2 * time.Second

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
	tc, err := cfg.TLS.Load(false)
	if err != nil {
		return nil, fmt.Errorf("nats %w", setting.Under("tls", err))
	}
	if tc != nil {
		opts = append(opts, nats.Secure(tc))
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
