package main

import (
	"context"
	"fmt"
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
	register(serviceCommand("store", "run the writer: enriched events, findings and dead letters from NATS JetStream into ClickHouse", (*service).startStore))
}

// storeStage is the running writer.
type storeStage struct {
	*stage
	db *storage.DB
	// beforeClose, when set, reads the store once the writer has stored
	// everything it took, before the store closes.
	beforeClose func(*storage.DB)
}

// startStore opens and migrates the store and starts writing what the bus
// carries into it; it records the model, and each model the holder is
// given, in the model tables. With storage.embedded.listen set (the
// default), the embedded engine also answers the ClickHouse HTTP
// interface there, to its reader and writer users only.
func (s *service) startStore(ctx context.Context, p *pipeline) error {
	db, err := openStore(ctx, s.cfg, true)
	if err != nil {
		return err
	}
	if err := s.writeModel(ctx, db, s.models.Load()); err != nil {
		db.Close()
		return err
	}
	sc := s.cfg.Storage.Writer
	sc.Conn, sc.Bus, sc.Registerer, sc.Logger = db.Conn, p.bus, s.reg, s.log
	if s.storeConn != nil {
		sc.Conn = s.storeConn(db.Conn)
	}
	svc, err := storage.NewService(ctx, sc)
	if err != nil {
		db.Close()
		return err
	}
	var ln net.Listener
	var users embedded.Users
	if e := s.cfg.Storage.Embedded; db.Engine != nil && e.ListenAddr() != "" {
		users, err = embedded.LoadUsers(e.UsersFile, e.Users, true)
		if err == nil {
			ln, err = embedded.Listen(e.ListenAddr(), e.TLS)
		}
		if err != nil {
			db.Close()
			return fmt.Errorf("storage.embedded.listen: %w", err)
		}
		s.log.Info("serving the embedded ClickHouse HTTP interface", "address", ln.Addr().String(), "tls", e.TLS.Enabled(),
			"reader", users.Reader.User, "writer", users.Writer.User, "passwords", e.UsersFile)
	}
	st := &storeStage{db: db}
	run := func(ctx context.Context) error {
		served := make(chan error, 1)
		if ln != nil {
			go func() { served <- embedded.Serve(ctx, ln, embedded.Guard(db.Handler, users)) }()
		} else {
			served <- nil
		}
		sched := make(chan struct{})
		go func() {
			defer close(sched)
			if len(s.cfg.Reports) == 0 {
				return
			}
			rs := &report.Scheduler{Conn: db.Conn, Schedules: s.cfg.Reports, Version: version(), DataDir: s.cfg.DataDir,
				Log: s.log, Model: func() (*rules.Model, error) { return s.models.Load(), nil }}
			rs.Run(ctx)
		}()
		remove := s.models.OnChange(func(m *rules.Model) {
			wctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			if err := s.writeModel(wctx, db, m); err != nil {
				s.log.Error("model reloaded, but not written to the model tables", "err", err)
			}
		})
		err := svc.Run(ctx)
		remove()
		<-sched
		if st.beforeClose != nil {
			st.beforeClose(db)
		}
		if serr := <-served; err == nil {
			err = serr
		}
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		return err
	}
	s.log.Info("storing", "database", db.Database, "embedded", db.Engine != nil, "scheduled_reports", len(s.cfg.Reports))
	st.stage = startStage("store", run, func() error {
		if err := db.Conn.Ping(context.Background()); err != nil {
			return err
		}
		return svc.Err()
	}, bus.StreamEnriched, bus.StreamFindings, bus.StreamDeadLetter)
	p.store = st
	return nil
}

// writeModel records a load of m in the model tables.
func (s *service) writeModel(ctx context.Context, db *storage.DB, m *rules.Model) error {
	_, err := storage.WriteModel(ctx, db.Conn, m, storage.ModelLoad{Site: s.site, Source: s.cfg.Model})
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
