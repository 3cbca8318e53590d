package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/otsiem/otsiem/config"
	"github.com/otsiem/otsiem/storage"
)

func init() {
	register(command{
		name:    "migrate",
		summary: "create or upgrade the ClickHouse schema of the configured store",
		run:     runMigrate,
	})
}

// runMigrate is `otsiem migrate [--config FILE]`: the schema of the store
// the configuration names (its servers, TLS, credentials and retention, or
// the embedded engine under its data_dir), as `otsiem run` and `otsiem
// store` apply it at start.
func runMigrate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("migrate", stderr, "usage: otsiem migrate [--config FILE]",
		"Creates or upgrades the ClickHouse schema of the configured store: its ClickHouse servers",
		"(with the configuration's TLS, credentials and storage.retention), or the embedded engine",
		"under data_dir. otsiem run and otsiem store do the same at start.")
	cfgPath := fs.String("config", "", "configuration file (default: the embedded store under data/clickhouse)")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "otsiem migrate: unexpected argument %q\n", rest[0])
		fs.Usage()
		return 2
	}
	cfg, ok := loadConfig(*cfgPath, stderr)
	if !ok {
		return 1
	}
	ctx, cancel := signalContext()
	defer cancel()
	db, err := openWith(ctx, cfg, cfg.Storage, false)
	if err == nil {
		defer db.Close()
		err = migrate(ctx, db, cfg, stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "otsiem migrate: %v\n", err)
		return 1
	}
	return 0
}

// migrate applies the schema and the configured retention, saying what it
// did.
func migrate(ctx context.Context, db *storage.DB, cfg *config.Config, stdout io.Writer) error {
	done, err := storage.Migrate(ctx, db.Conn, storage.MigrateOptions{Retention: cfg.Storage.Retention})
	for _, m := range done {
		fmt.Fprintf(stdout, "applied %04d_%s\n", m.Version, m.Name)
	}
	if err == nil && len(done) == 0 {
		fmt.Fprintf(stdout, "schema of %s up to date\n", db.Database)
	}
	return err
}
