package health_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/otsiem/otsiem/health"
)

// /healthz over a real socket: 200 "ok", 200 "degraded: …" when every
// problem only slows a stage, 503 as soon as one stops a stage.
func TestHandler(t *testing.T) {
	full := &health.Degraded{Err: errors.New("JetStream refuses writes since 2026-11-29T15:00:00Z: maximum bytes exceeded")}
	away := errors.New("clickhouse fails inserts since 2026-11-29T15:00:00Z: connection refused")
	for _, c := range []struct {
		name string
		err  error
		code int
		body string
	}{
		{"working", nil, 200, "ok\n"},
		{"joined nils", errors.Join(nil, nil), 200, "ok\n"},
		{"at the bound", errors.Join(nil, full, nil), 200, "degraded: " + full.Error() + "\n"},
		{"wrapped at the bound", fmt.Errorf("ingest: %w", full), 200, "degraded: ingest: " + full.Error() + "\n"},
		{"bound and store away", errors.Join(full, away), 503, away.Error() + "\n" + full.Error() + "\n"},
		{"store away", away, 503, away.Error() + "\n"},
		{"wrapping both", fmt.Errorf("run: %w", errors.Join(full, away)), 503, "run: " + full.Error() + "\n" + away.Error() + "\n"},
	} {
		srv := httptest.NewServer(health.Handler(func() error { return c.err }))
		resp, err := http.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if resp.StatusCode != c.code || string(body) != c.body {
			t.Errorf("%s: %d %q, want %d %q", c.name, resp.StatusCode, body, c.code, c.body)
		}
	}
}
