package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/otsiem/otsiem/storage"
)

func init() {
	register(command{
		name:    "migrate",
		summary: "create or upgrade the ClickHouse schema (embedded engine unless --addr)",
		run:     runMigrate,
	})
}

func runMigrate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addrs := fs.String("addr", "", "ClickHouse servers, host:port[,host:port]; empty runs the embedded engine")
	protocol := fs.String("protocol", "native", "ClickHouse protocol: native or http")
	database := fs.String("database", "otsiem", "database, created when missing")
	user := fs.String("user", "default", "ClickHouse user (password from $CLICKHOUSE_PASSWORD)")
	data := fs.String("data", "data/clickhouse", "embedded engine data directory")
	lib := fs.String("chdb-lib", "", "libchdb.so for the embedded engine (default: $CHDB_LIB_PATH, then the project cache)")
	retention := fs.Int("retention-days", 0, "keep events and dead letters this many days (0: forever)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg := storage.Config{
		Protocol: *protocol,
		Database: *database,
		Username: *user,
		Password: os.Getenv("CLICKHOUSE_PASSWORD"),
		Embedded: storage.EmbeddedConfig{Path: *data, LibPath: *lib},
	}
	if *addrs != "" {
		cfg.Addrs = strings.Split(*addrs, ",")
	} else if err := os.MkdirAll(*data, 0o755); err != nil {
		fmt.Fprintf(stderr, "otsiem migrate: %v\n", err)
		return 1
	}
	ctx := context.Background()
	db, err := storage.Open(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "otsiem migrate: %v\n", err)
		return 1
	}
	defer db.Close()
	done, err := storage.Migrate(ctx, db.Conn, storage.MigrateOptions{Retention: time.Duration(*retention) * 24 * time.Hour})
	for _, m := range done {
		fmt.Fprintf(stdout, "applied %04d_%s\n", m.Version, m.Name)
	}
	if err != nil {
		fmt.Fprintf(stderr, "otsiem migrate: %v\n", err)
		return 1
	}
	if len(done) == 0 {
		fmt.Fprintf(stdout, "schema of %s up to date\n", db.Database)
	}
	return 0
}
