package storage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/otsiem/otsiem/setting"
	"github.com/otsiem/otsiem/storage/chdb"
	"github.com/otsiem/otsiem/storage/embedded"
)

// DB is an open connection to the configured ClickHouse.
type DB struct {
	// Conn is the clickhouse-go connection, whichever ClickHouse is behind it.
	Conn driver.Conn
	// Database is the database Conn uses.
	Database string
	// Engine is the embedded engine, nil with a server.
	Engine *chdb.Engine
	// Handler is the embedded engine's HTTP interface (nil with a server),
	// with every right: serve it to the network only behind embedded.Guard.
	Handler http.Handler
	// Shared is set when the embedded data is held by another process and
	// Conn reaches it through that process's HTTP interface (as the
	// reader, or the writer with WriteThrough).
	Shared       bool
	sharedWriter bool
}

// Open connects to the configured ClickHouse, starting the embedded engine
// when no server is configured, and creates the database when missing.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	ch := cfg.ClickHouse
	db := &DB{Database: ch.Database}
	if db.Database == "" {
		db.Database = DefaultConfig().ClickHouse.Database
	}
	if len(ch.Addresses) == 0 {
		if cfg.Embedded.Path == "" {
			return nil, errors.New("storage: embedded engine needs a data path")
		}
		inUse, err := chdb.InUse(cfg.Embedded.Path)
		if err != nil {
			return nil, fmt.Errorf("storage: %w", err)
		}
		if inUse {
			if !cfg.Embedded.ReadThrough && !cfg.Embedded.WriteThrough {
				return nil, fmt.Errorf("storage: the embedded data in %s is in use by another process (otsiem run?)", cfg.Embedded.Path)
			}
			return openShared(ctx, cfg, db)
		}
		var args []string
		if cfg.Embedded.MaxMemory > 0 {
			args = append(args, "--max_server_memory_usage="+strconv.FormatInt(cfg.Embedded.MaxMemory, 10))
		}
		e, err := chdb.Open(chdb.Options{Path: cfg.Embedded.Path, LibPath: cfg.Embedded.LibPath, Args: args})
		if err != nil {
			return nil, fmt.Errorf("storage: %w", err)
		}
		if _, err := e.Query(ctx, "CREATE DATABASE IF NOT EXISTS "+chdb.QuoteIdent(db.Database), "", nil); err != nil {
			_ = e.Close()
			return nil, fmt.Errorf("storage: create database: %w", err)
		}
		h := embedded.NewHandler(e)
		conn, err := clickhouse.Open(embedded.ClickHouseOptions(h, db.Database))
		if err != nil {
			_ = e.Close()
			return nil, fmt.Errorf("storage: %w", err)
		}
		db.Conn, db.Engine, db.Handler = conn, e, h
		return db, nil
	}
	tc, err := ch.TLS.Load(ch.TLSEnabled)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", setting.Under("clickhouse.tls", err))
	}
	opts := &clickhouse.Options{
		Addr: ch.Addresses,
		Auth: clickhouse.Auth{Username: ch.User, Password: ch.Password},
		TLS:  tc,
	}
	switch strings.ToLower(ch.Protocol) {
	case "", "native":
		opts.Protocol = clickhouse.Native
	case "http":
		opts.Protocol = clickhouse.HTTP
	default:
		return nil, fmt.Errorf("storage: unknown protocol %q (native or http)", ch.Protocol)
	}
	if ch.Compression {
		opts.Compression = &clickhouse.Compression{Method: clickhouse.CompressionLZ4}
	}
	boot, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	err = boot.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+chdb.QuoteIdent(db.Database))
	_ = boot.Close()
	if err != nil {
		return nil, fmt.Errorf("storage: create database: %w", err)
	}
	opts.Auth.Database = db.Database
	if db.Conn, err = clickhouse.Open(opts); err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	return db, nil
}

// openShared connects to the HTTP interface of the process that holds the
// embedded data, as its reader (its writer with WriteThrough).
func openShared(ctx context.Context, cfg Config, db *DB) (*DB, error) {
	e := cfg.Embedded
	if e.ListenAddr() == "" {
		return nil, fmt.Errorf("storage: the embedded data in %s is in use by another process (otsiem run?), "+
			"and storage.embedded.listen is off: nothing to read it through", e.Path)
	}
	users, err := embedded.LoadUsers(e.UsersFile, e.Users, false)
	if err != nil {
		return nil, fmt.Errorf("storage: the embedded data in %s is in use by another process: %w", e.Path, err)
	}
	as := users.Reader
	if e.WriteThrough {
		as = users.Writer
	}
	opts := &clickhouse.Options{
		Protocol: clickhouse.HTTP,
		Addr:     []string{e.ListenAddr()},
		Auth:     clickhouse.Auth{Database: db.Database, Username: as.User, Password: as.Password},
	}
	if e.TLS.Enabled() {
		if opts.TLS, err = e.TLS.PinnedClient(); err != nil {
			return nil, fmt.Errorf("storage: storage.embedded.%w", err)
		}
	}
	conn, err := clickhouse.Open(opts)
	if err == nil {
		if err = conn.Ping(ctx); err != nil {
			_ = conn.Close()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("storage: the embedded data in %s is in use by another process, and its ClickHouse HTTP interface "+
			"at %s does not answer: %w", e.Path, e.ListenAddr(), err)
	}
	db.Conn, db.Shared, db.sharedWriter = conn, true, e.WriteThrough
	return db, nil
}

// Reader returns a connection with a reader's rights, for statements a
// person types: one read statement, no DDL, no INSERT, no table function
// reaching the host's files or the network. In process that is the
// embedded interface's [embedded.RoleReader]; a Shared store is read as
// the reader already; a server gets readonly = 2 on every query, on top
// of whatever the configured user may do. Close the connection after use
// (it leaves db open).
func (db *DB) Reader() (driver.Conn, error) {
	switch {
	case db.Handler != nil:
		conn, err := clickhouse.Open(embedded.ClickHouseOptions(embedded.AsRole(db.Handler, embedded.RoleReader), db.Database))
		if err != nil {
			return nil, fmt.Errorf("storage: %w", err)
		}
		return conn, nil
	case db.Shared && db.sharedWriter:
		return nil, errors.New("storage: opened as the writer (WriteThrough): open it again without to read as the reader")
	case db.Shared:
		return noClose{db.Conn}, nil
	}
	return readOnly{noClose{db.Conn}}, nil
}

// noClose is a connection that db closes, not its borrower.
type noClose struct{ driver.Conn }

func (noClose) Close() error { return nil }

// readOnly runs every query of a server connection with readonly = 2:
// reads and SET only (ClickHouse's readonly setting).
type readOnly struct{ noClose }

func readOnlyContext(ctx context.Context) context.Context {
	return clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"readonly": 2}))
}

func (c readOnly) Query(ctx context.Context, query string, args ...any) (driver.Rows, error) {
	return c.Conn.Query(readOnlyContext(ctx), query, args...)
}

func (c readOnly) QueryRow(ctx context.Context, query string, args ...any) driver.Row {
	return c.Conn.QueryRow(readOnlyContext(ctx), query, args...)
}

func (c readOnly) Select(ctx context.Context, dest any, query string, args ...any) error {
	return c.Conn.Select(readOnlyContext(ctx), dest, query, args...)
}

func (c readOnly) Exec(ctx context.Context, query string, args ...any) error {
	return c.Conn.Exec(readOnlyContext(ctx), query, args...)
}

func (readOnly) PrepareBatch(context.Context, string, ...driver.PrepareBatchOption) (driver.Batch, error) {
	return nil, errors.New("storage: a reader cannot insert")
}

func (readOnly) AsyncInsert(context.Context, string, bool, ...any) error {
	return errors.New("storage: a reader cannot insert")
}

// Close closes the connection and stops the embedded engine.
func (db *DB) Close() error {
	err := db.Conn.Close()
	if db.Engine != nil {
		err = errors.Join(err, db.Engine.Close())
	}
	return err
}
