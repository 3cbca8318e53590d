package embedded_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/otsiem/otsiem/storage/embedded/embeddedtest"
)

// BenchmarkBatchInsert measures clickhouse-go batch inserts through the
// in-process HTTP interface into the engine, for several batch sizes.
func BenchmarkBatchInsert(b *testing.B) {
	conn, _ := open(b)
	ctx := b.Context()
	if err := conn.Exec(ctx, `CREATE TABLE flows (
		time DateTime64(6, 'UTC'), src_ip IPv6, dst_ip IPv6, src_port UInt16, dst_port UInt16,
		transport LowCardinality(String), conduit LowCardinality(String), verdict LowCardinality(String),
		bytes UInt64, message String
	) ENGINE = MergeTree PARTITION BY toDate(time) ORDER BY (time, conduit, verdict)`); err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, size := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("rows=%d", size), func(b *testing.B) {
			rows := 0
			for b.Loop() {
				batch, err := conn.PrepareBatch(ctx, "INSERT INTO flows")
				if err != nil {
					b.Fatal(err)
				}
				for i := range size {
					if err := batch.Append(t0.Add(time.Duration(i)*time.Millisecond),
						netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), netip.AddrFrom4([4]byte{10, 2, 0, 5}),
						uint16(40000+i%20000), uint16(502), "tcp", "C1-BPCS-OPS", "allowed", uint64(i),
						"<134>Mar  1 00:00:00 fw1 %ASA-6-302013: Built outbound TCP connection"); err != nil {
						b.Fatal(err)
					}
				}
				if err := batch.Send(); err != nil {
					b.Fatal(err)
				}
				rows += size
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkGuardedRead measures one small read through the guarded
// interface over loopback HTTP as the reader (a connection of its own
// under readonly = 1, the statement screened on the engine's formatQuery)
// against the same read in process with every right.
func BenchmarkGuardedRead(b *testing.B) {
	conn, _ := open(b)
	if err := conn.Exec(b.Context(), "CREATE TABLE t (s String) ENGINE = MergeTree ORDER BY s"); err != nil {
		b.Fatal(err)
	}
	b.Run("in-process", func(b *testing.B) {
		for b.Loop() {
			var n uint64
			if err := conn.QueryRow(b.Context(), "SELECT count() FROM t").Scan(&n); err != nil {
				b.Fatal(err)
			}
		}
	})
	base, db := guarded(b)
	reader, err := clickhouse.Open(&clickhouse.Options{Protocol: clickhouse.HTTP,
		Addr: []string{strings.TrimSuffix(strings.TrimPrefix(base, "http://"), "/")},
		Auth: clickhouse.Auth{Database: db, Username: testUsers.Reader.User, Password: testUsers.Reader.Password}})
	if err != nil {
		b.Fatal(err)
	}
	defer reader.Close()
	read := func(reader driver.Conn) func(*testing.B) {
		return func(b *testing.B) {
			for b.Loop() {
				var n uint64
				if err := reader.QueryRow(b.Context(), "SELECT count() FROM t").Scan(&n); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("guarded-reader", read(reader))

	// The same over HTTPS (storage.embedded.tls), connections kept alive.
	cert := embeddedtest.SelfSigned(b, b.TempDir(), "otsiem")
	base, db = guardedTLS(b, cert)
	tc, err := cert.PinnedClient()
	if err != nil {
		b.Fatal(err)
	}
	tlsReader, err := clickhouse.Open(&clickhouse.Options{Protocol: clickhouse.HTTP, TLS: tc,
		Addr: []string{strings.TrimSuffix(strings.TrimPrefix(base, "https://"), "/")},
		Auth: clickhouse.Auth{Database: db, Username: testUsers.Reader.User, Password: testUsers.Reader.Password}})
	if err != nil {
		b.Fatal(err)
	}
	defer tlsReader.Close()
	b.Run("guarded-reader-tls", read(tlsReader))
}
