package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/otsiem/otsiem/config"
	"github.com/otsiem/otsiem/ingest/bus"
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
	ctx, cancel := signalContext()
	defer cancel()
	db, err := openStore(ctx, s.cfg, true)
	if err != nil {
		s.log.Error("start", "err", err)
		return 1
	}
	defer db.Close()
	if db.Engine != nil && s.cfg.Storage.Embedded.Listen != "" {
		go func() {
			if err := embedded.ListenAndServe(ctx, s.cfg.Storage.Embedded.Listen, db.Handler); err != nil {
				s.log.Error("embedded ClickHouse HTTP interface", "err", err)
			}
		}()
	}
	b, err := bus.Open(ctx, s.cfg.Bus("store"))
	if err != nil {
		s.log.Error("start", "err", err)
		return 1
	}
	defer b.Close()
	sc := s.cfg.StoreService()
	sc.Conn, sc.JS, sc.Registerer, sc.Logger = db.Conn, b.JS, s.reg, s.log
	svc, err := storage.NewService(ctx, sc)
	if err != nil {
		s.log.Error("start", "err", err)
		return 1
	}
	stopHTTP, err := s.serveHTTP(func() error { return db.Conn.Ping(context.Background()) })
	if err != nil {
		s.log.Error("start", "err", err)
		return 1
	}
	defer stopHTTP()
	s.log.Info("storing", "database", db.Database, "embedded", db.Engine != nil)
	if err := svc.Run(ctx); err != nil {
		s.log.Error("store", "err", err)
		return 1
	}
	return 0
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
