package embedded

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// DefaultAddr is where [ListenAndServe] listens unless told otherwise:
// ClickHouse's HTTP port on the loopback interface only.
const DefaultAddr = "127.0.0.1:8123"

// ClickHouseOptions returns clickhouse-go options that reach h in process
// over the HTTP protocol, with database as the default database. Callers may
// adjust the result (settings, pool sizes) before clickhouse.Open or
// clickhouse.OpenDB.
func ClickHouseOptions(h http.Handler, database string) *clickhouse.Options {
	return &clickhouse.Options{
		Protocol: clickhouse.HTTP,
		// Never dialled: the transport below serves every request.
		Addr: []string{"embedded.invalid:8123"},
		Auth: clickhouse.Auth{Database: database},
		TransportFunc: func(*http.Transport) (http.RoundTripper, error) {
			return Transport(h), nil
		},
	}
}

// Serve answers the HTTP interface on ln until ctx is done, then shuts the
// server down gracefully.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- srv.Shutdown(sctx)
	}()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return <-done
	}
	return err
}

// ListenAndServe listens on addr (DefaultAddr when empty) and serves h
// there until ctx is done.
func ListenAndServe(ctx context.Context, addr string, h http.Handler) error {
	ln, err := Listen(addr, TLS{})
	if err != nil {
		return err
	}
	return Serve(ctx, ln, h)
}
