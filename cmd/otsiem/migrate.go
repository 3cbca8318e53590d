package main

import (
	"context"
	"fmt"
	"io"

	"github.com/otsiem/otsiem/config"
	"github.com/otsiem/otsiem/storage"
	"github.com/spf13/pflag"
)

func init() {
	register(command{
		name:    "migrate",
		summary: "create or upgrade the ClickHouse schema of the configured store",
		usage:   "[--config FILE]",
		about: []string{
			"Creates or upgrades the ClickHouse schema of the configured store: its ClickHouse servers",
			"(with the configuration's TLS, credentials and storage.retention), or the embedded engine",
			"under data_dir. otsiem run and otsiem store do the same at start."},
		flags: runMigrate,
	})
}

// runMigrate is `otsiem migrate [--config FILE]`: the schema of the store
// the configuration names (its servers, TLS, credentials and retention, or
// the embedded engine under its data_dir), as `otsiem run` and `otsiem
// store` apply it at start.
func runMigrate(fs *pflag.FlagSet) runFunc {
	cfgPath := fs.String("config", "", "configuration file (default: the embedded store under data/clickhouse)")
	return func(rest []string, stdout, stderr io.Writer) int {
		if len(rest) > 0 {
			return badUsage(stderr, "migrate", "unexpected argument %q", rest[0])
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
