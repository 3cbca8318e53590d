package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/otsiem/otsiem/config"
	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/report"
	"github.com/otsiem/otsiem/rules"
	"github.com/otsiem/otsiem/storage"
	"github.com/otsiem/otsiem/storage/embedded"
)

func init() {
	register(command{name: "store", summary: "run the writer: enriched events, findings and dead letters from NATS JetStream into ClickHouse", run: runStore})
}

func runStore(args []string, _, stderr io.Writer) int {
	s, code := newService("store", args, stderr)
	if s == nil {
		return code
	}
	return s.runStage(func(ctx context.Context, b *bus.Bus) (stage, error) { return s.startStore(ctx, b) })
}

// storeStage is the running writer.
type storeStage struct {
	db     *storage.DB
	svc    *storage.Service
	cancel context.CancelFunc
	done   chan error
	served chan error    // the HTTP interface's end; nil when not served
	sched  chan struct{} // closed when the report scheduler has stopped
	// beforeClose, when set, reads the store once the writer has stored
	// everything it took, before the store closes.
	beforeClose func(*storage.DB)
}

// startStore opens and migrates the store and starts writing what the bus
// carries into it; with storage.embedded.listen set (the default), the
// embedded engine also answers the ClickHouse HTTP interface there, to
// its reader and writer users only.
func (s *service) startStore(ctx context.Context, b *bus.Bus) (*storeStage, error) {
	db, err := openStore(ctx, s.cfg, true)
	if err != nil {
		return nil, err
	}
	if err := s.writeModel(ctx, db, s.model); err != nil {
		db.Close()
		return nil, err
	}
	sc := s.cfg.Storage.Writer
	sc.Conn, sc.Bus, sc.Registerer, sc.Logger = db.Conn, b, s.reg, s.log
	if s.storeConn != nil {
		sc.Conn = s.storeConn(db.Conn)
	}
	svc, err := storage.NewService(ctx, sc)
	if err != nil {
		db.Close()
		return nil, err
	}
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	st := &storeStage{db: db, svc: svc, cancel: cancel, done: make(chan error, 1)}
	if e := s.cfg.Storage.Embedded; db.Engine != nil && e.ListenAddr() != "" {
		users, err := embedded.LoadUsers(e.UsersFile, e.Users, true)
		var ln net.Listener
		if err == nil {
			ln, err = embedded.Listen(e.ListenAddr(), e.TLS)
		}
		if err != nil {
			cancel()
			db.Close()
			return nil, fmt.Errorf("storage.embedded.listen: %w", err)
		}
		st.served = make(chan error, 1)
		go func() { st.served <- embedded.Serve(cctx, ln, embedded.Guard(db.Handler, users)) }()
		s.log.Info("serving the embedded ClickHouse HTTP interface", "address", ln.Addr().String(), "tls", e.TLS.Enabled(),
			"reader", users.Reader.User, "writer", users.Writer.User, "passwords", e.UsersFile)
	}
	go func() { st.done <- svc.Run(cctx) }()
	s.watchModel(cctx, func(m *rules.Model) {
		wctx, cancel := context.WithTimeout(cctx, time.Minute)
		defer cancel()
		if err := s.writeModel(wctx, db, m); err != nil {
			s.log.Error("model reloaded, but not written to the model tables", "err", err)
		}
	})
	st.sched = make(chan struct{})
	go func() {
		defer close(st.sched)
		if len(s.cfg.Reports) == 0 {
			return
		}
		rs := &report.Scheduler{Conn: db.Conn, Schedules: s.cfg.Reports, Version: version(), DataDir: s.cfg.DataDir,
			Log: s.log, Model: func() (*rules.Model, error) { return rules.Load(s.cfg.Model) }}
		rs.Run(cctx)
	}()
	s.log.Info("storing", "database", db.Database, "embedded", db.Engine != nil, "scheduled_reports", len(s.cfg.Reports))
	return st, nil
}

// healthy reports ClickHouse unreachable, or failing the writer's inserts.
func (st *storeStage) healthy() error {
	if err := st.db.Conn.Ping(context.Background()); err != nil {
		return err
	}
	return st.svc.Err()
}

// writeModel records a load of m in the model tables.
func (s *service) writeModel(ctx context.Context, db *storage.DB, m *rules.Model) error {
	_, err := storage.WriteModel(ctx, db.Conn, m, storage.ModelLoad{Site: s.site, Source: s.cfg.Model})
	return err
}

// close lets the writer insert and ack what it holds, then closes the store.
func (st *storeStage) close() error {
	st.cancel()
	err := <-st.done
	<-st.sched
	if st.beforeClose != nil {
		st.beforeClose(st.db)
	}
	if st.served != nil {
		if serr := <-st.served; err == nil {
			err = serr
		}
	}
	if cerr := st.db.Close(); err == nil {
		err = cerr
	}
	return err
}

// openStore opens the configured store; with migrate, it also brings the
// schema up to date and sets the retention. The embedded engine's data
// directory is created when missing.
func openStore(ctx context.Context, cfg *config.Config, migrate bool) (*storage.DB, error) {
	return openWith(ctx, cfg, cfg.Storage, migrate)
}

func openWith(ctx context.Context, cfg *config.Config, sc storage.Config, migrate bool) (*storage.DB, error) {
	if len(sc.ClickHouse.Addresses) == 0 {
		if err := os.MkdirAll(sc.Embedded.Path, 0o750); err != nil {
			return nil, fmt.Errorf("storage: %w", err)
		}
	}
	db, err := storage.Open(ctx, sc)
	if err != nil {
		return nil, err
	}
	if migrate && !db.Shared {
		if _, err := storage.Migrate(ctx, db.Conn, storage.MigrateOptions{Retention: cfg.Storage.Retention}); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}
