package storage

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one versioned schema change.
type Migration struct {
	Version int
	Name    string
	// Statements are run in order; each is one SQL statement.
	Statements []string
	// Checksum identifies the file's content; an applied migration whose file
	// changed is an error.
	Checksum string
}

// Migrations returns the embedded migrations in version order. Files are
// named NNNN_name.sql and hold statements each ending with ";" at a line's
// end.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("storage: read migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		base := strings.TrimSuffix(e.Name(), ".sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("storage: migration file %s: want NNNN_name.sql", e.Name())
		}
		b, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("storage: read migration %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(b)
		ms = append(ms, Migration{Version: v, Name: name, Statements: splitStatements(string(b)), Checksum: hex.EncodeToString(sum[:8])})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("storage: two migrations numbered %d", ms[i].Version)
		}
	}
	return ms, nil
}

// splitStatements cuts a migration file at every ";" that ends a line.
func splitStatements(sql string) []string {
	var out []string
	var cur strings.Builder
	for line := range strings.Lines(sql) {
		cur.WriteString(line)
		if strings.HasSuffix(strings.TrimRight(line, " \t\r\n"), ";") {
			if s := strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"); hasSQL(s) {
				out = append(out, s)
			}
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); hasSQL(s) {
		out = append(out, s)
	}
	return out
}

// hasSQL reports whether s holds more than comments and blanks.
func hasSQL(s string) bool {
	for line := range strings.Lines(s) {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "--") {
			return true
		}
	}
	return false
}

// MigrateOptions tune [Migrate].
type MigrateOptions struct {
	// Retention is how long events and dead letters are kept (rounded up to
	// whole days); 0 keeps them forever. Changing it applies to new parts; it
	// does not rewrite existing ones.
	Retention time.Duration
}

// versionTable records applied migrations.
const versionTable = "schema_migrations"

// Migrate brings the connection's current database to the latest schema and
// returns the migrations it applied (none when it was up to date), then sets
// the retention. It is idempotent. Every statement is written to be
// re-runnable (IF NOT EXISTS), so a migration interrupted midway completes on
// the next run.
func Migrate(ctx context.Context, conn driver.Conn, opts MigrateOptions) ([]Migration, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	if err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+versionTable+` (
		version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC')
	) ENGINE = ReplacingMergeTree ORDER BY version`); err != nil {
		return nil, fmt.Errorf("storage: create %s: %w", versionTable, err)
	}
	applied := map[int]string{}
	rows, err := conn.Query(ctx, "SELECT version, checksum FROM "+versionTable+" FINAL")
	if err != nil {
		return nil, fmt.Errorf("storage: read applied migrations: %w", err)
	}
	for rows.Next() {
		var v uint32
		var sum string
		if err := rows.Scan(&v, &sum); err != nil {
			rows.Close()
			return nil, fmt.Errorf("storage: read applied migrations: %w", err)
		}
		applied[int(v)] = sum
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: read applied migrations: %w", err)
	}
	var done []Migration
	for _, m := range ms {
		if sum, ok := applied[m.Version]; ok {
			if sum != m.Checksum {
				return done, fmt.Errorf("storage: migration %04d_%s changed after it was applied (checksum %s, applied %s)", m.Version, m.Name, m.Checksum, sum)
			}
			continue
		}
		for i, stmt := range m.Statements {
			if err := conn.Exec(ctx, stmt); err != nil {
				return done, fmt.Errorf("storage: migration %04d_%s statement %d: %w", m.Version, m.Name, i+1, err)
			}
		}
		if err := conn.Exec(ctx, "INSERT INTO "+versionTable+" (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
			uint32(m.Version), m.Name, m.Checksum, time.Now().UTC()); err != nil {
			return done, fmt.Errorf("storage: record migration %04d_%s: %w", m.Version, m.Name, err)
		}
		done = append(done, m)
	}
	if err := setRetention(ctx, conn, opts.Retention); err != nil {
		return done, err
	}
	return done, nil
}

// retained are the tables whose rows expire, with their time column.
var retained = []struct{ table, column string }{
	{"events", "time"},
	{"deadletter", "received_at"},
}

// setRetention sets or removes the TTL of the retained tables when it
// differs from the wanted one.
func setRetention(ctx context.Context, conn driver.Conn, retention time.Duration) error {
	days := int(math.Ceil(retention.Hours() / 24))
	for _, r := range retained {
		var full string
		if err := conn.QueryRow(ctx, "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = ?", r.table).Scan(&full); err != nil {
			return fmt.Errorf("storage: read %s retention: %w", r.table, err)
		}
		ttl := fmt.Sprintf("TTL toDateTime(%s) + toIntervalDay(%d)", r.column, days)
		hasTTL := strings.Contains(full, " TTL ")
		var stmt string
		switch {
		case days > 0 && !strings.Contains(full, ttl):
			stmt = "ALTER TABLE " + r.table + " MODIFY " + ttl
		case days == 0 && hasTTL:
			stmt = "ALTER TABLE " + r.table + " REMOVE TTL"
		default:
			continue
		}
		// Existing parts are not rewritten now; merges apply the TTL.
		sctx := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"materialize_ttl_after_modify": 0}))
		if err := conn.Exec(sctx, stmt); err != nil {
			return fmt.Errorf("storage: set %s retention: %w", r.table, err)
		}
	}
	return nil
}
