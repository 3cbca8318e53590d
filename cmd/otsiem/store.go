package main

import (
	"context"
	"fmt"
	"io"
	"os"

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
	cancel context.CancelFunc
	done   chan error
	sched  chan struct{} // closed when the report scheduler has stopped
	// beforeClose, when set, reads the store once the writer has stored
	// everything it took, before the store closes.
	beforeClose func(*storage.DB)
}

// startStore opens and migrates the store and starts writing what the bus
// carries into it; with storage.embedded.listen set, the embedded engine
// also answers the ClickHouse HTTP interface there.
func (s *service) startStore(ctx context.Context, b *bus.Bus) (*storeStage, error) {
	db, err := openStore(ctx, s.cfg, true)
	if err != nil {
		return nil, err
	}
	sc := s.cfg.StoreService()
	sc.Conn, sc.JS, sc.Registerer, sc.Logger = db.Conn, b.JS, s.reg, s.log
	if s.storeConn != nil {
		sc.Conn = s.storeConn(db.Conn)
	}
	svc, err := storage.NewService(ctx, sc)
	if err != nil {
		db.Close()
		return nil, err
	}
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	st := &storeStage{db: db, cancel: cancel, done: make(chan error, 1)}
	if db.Engine != nil && s.cfg.Storage.Embedded.Listen != "" {
		go func() {
			if err := embedded.ListenAndServe(cctx, s.cfg.Storage.Embedded.Listen, db.Handler); err != nil {
				s.log.Error("embedded ClickHouse HTTP interface", "err", err)
			}
		}()
	}
	go func() { st.done <- svc.Run(cctx) }()
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

// healthy reports ClickHouse unreachable.
func (st *storeStage) healthy() error { return st.db.Conn.Ping(context.Background()) }

// close lets the writer insert and ack what it holds, then closes the store.
func (st *storeStage) close() error {
	st.cancel()
	err := <-st.done
	<-st.sched
	if st.beforeClose != nil {
		st.beforeClose(st.db)
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
	sc, err := cfg.StorageConfig()
	if err != nil {
		return nil, err
	}
	if len(sc.Addrs) == 0 {
		if err := os.MkdirAll(sc.Embedded.Path, 0o750); err != nil {
			return nil, fmt.Errorf("storage: %w", err)
		}
	}
	db, err := storage.Open(ctx, sc)
	if err != nil {
		return nil, err
	}
	if migrate {
		if _, err := storage.Migrate(ctx, db.Conn, storage.MigrateOptions{Retention: cfg.Storage.Retention}); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}
