package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/storage"
)

// requiredTables are the tables the plugin reads: otsiem's schema
// (storage.Migrate, run by `otsiem store` and `otsiem run`) and the model
// tables the store writes.
var requiredTables = []string{"events", "findings", "finding_acks_latest", "flows_hourly", "model_versions", "model_zones",
	"model_conduits", "model_rules", "model_assets", "model_devices"}

// Health is CheckHealth's report, also sent as its JSON details.
type Health struct {
	ClickHouse ClickHouseHealth `json:"clickhouse"`
	NATS       NATSHealth       `json:"nats"`
}

// ClickHouseHealth says what the plugin found in ClickHouse.
type ClickHouseHealth struct {
	OK      bool     `json:"ok"`
	Message string   `json:"message"`
	Version string   `json:"version,omitempty"`
	Missing []string `json:"missingTables,omitempty"`
	Model   string   `json:"model,omitempty"` // the current model: facility, hash prefix, load time
}

// NATSHealth says what the plugin found on NATS.
type NATSHealth struct {
	Configured bool   `json:"configured"`
	OK         bool   `json:"ok"`
	Message    string `json:"message"`
	Server     string `json:"server,omitempty"`
	Stream     bool   `json:"findingsStream"`
}

// CheckHealth reports ClickHouse (its version, otsiem's tables, the
// current model) and NATS (connected, the findings stream, a subscription
// to the findings subjects) apart, each with what to do when it fails.
// It is OK when ClickHouse is; without a NATS URL findings are simply not
// live, and a failing NATS fails the check.
func (s *Source) CheckHealth(ctx context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	h := Health{ClickHouse: s.clickHouseHealth(ctx), NATS: s.natsHealth(ctx)}
	status := backend.HealthStatusOk
	if !h.ClickHouse.OK || (h.NATS.Configured && !h.NATS.OK) {
		status = backend.HealthStatusError
	}
	details, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	return &backend.CheckHealthResult{Status: status, Message: "ClickHouse: " + h.ClickHouse.Message + "\nNATS: " + h.NATS.Message,
		JSONDetails: details}, nil
}

func (s *Source) clickHouseHealth(ctx context.Context) ClickHouseHealth {
	addr := s.settings.ClickHouseAddress
	var h ClickHouseHealth
	if err := s.ch.QueryRow(ctx, "SELECT version()").Scan(&h.Version); err != nil {
		h.Message = fmt.Sprintf("cannot query %s as %q: %v. %s", addr, s.settings.ClickHouseUser, err, clickHouseHint(err))
		return h
	}
	t, err := storage.RunSQL(ctx, s.ch, "SELECT name FROM system.tables WHERE database = currentDatabase()")
	if err != nil {
		h.Message = fmt.Sprintf("ClickHouse %s answers, but its tables cannot be listed: %v", h.Version, err)
		return h
	}
	var have []string
	for _, r := range t.Rows {
		have = append(have, r[0].(string))
	}
	for _, n := range requiredTables {
		if !slices.Contains(have, n) {
			h.Missing = append(h.Missing, n)
		}
	}
	if len(h.Missing) > 0 {
		h.Message = fmt.Sprintf("ClickHouse %s at %s, database %q lacks otsiem's tables %s: start `otsiem store` (or `otsiem run`) "+
			"against this ClickHouse, or set the database otsiem writes (storage.database)", h.Version, addr,
			s.settings.ClickHouseDatabase, strings.Join(h.Missing, ", "))
		return h
	}
	mt, err := storage.RunQuery(ctx, s.ch, storage.QueryModelVersion)
	if err != nil {
		h.Message = fmt.Sprintf("ClickHouse %s at %s: the model cannot be read: %v", h.Version, addr, err)
		return h
	}
	if len(mt.Rows) == 0 {
		h.Message = fmt.Sprintf("ClickHouse %s at %s has otsiem's tables but no model yet: the store writes it when it starts "+
			"(`otsiem store` or `otsiem run` with the plant's model)", h.Version, addr)
		return h
	}
	c := columns(mt)
	r := mt.Rows[0]
	h.Model = fmt.Sprintf("%s, model %.12s loaded %s (%d zones, %d conduits)", c.str(r, "facility"), c.str(r, "model_hash"),
		c.time(r, "loaded_at").Format(time.RFC3339), c.u64(r, "zones"), c.u64(r, "conduits"))
	h.OK = true
	h.Message = fmt.Sprintf("ClickHouse %s at %s, database %q: %s", h.Version, addr, s.settings.ClickHouseDatabase, h.Model)
	return h
}

// clickHouseHint says what to check for a failed ClickHouse request.
func clickHouseHint(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "516") || strings.Contains(msg, "AUTHENTICATION_FAILED") || strings.Contains(msg, "401"):
		return "Check the user and password: for otsiem run, the reader of <data_dir>/clickhouse-users.yaml; for a server, a read-only user (deploy/clickhouse)."
	case strings.Contains(msg, "connection refused") || strings.Contains(msg, "no such host") || strings.Contains(msg, "timeout"):
		return "Check the address and that the HTTP interface listens there (storage.embedded.listen for otsiem run, 8123 for a server)."
	case strings.Contains(msg, "UNKNOWN_DATABASE"):
		return "Check the database: otsiem writes to storage.database (default otsiem)."
	}
	return "Check the address, user, password and database."
}

func (s *Source) natsHealth(ctx context.Context) NATSHealth {
	h := NATSHealth{Configured: s.settings.NATSURL != ""}
	if !h.Configured {
		h.Message = "not configured: findings panels show what ClickHouse holds at each refresh, not live. Set the NATS URL " +
			"(and a reader identity) to have findings reach the panel as the correlator publishes them."
		return h
	}
	url := redact(s.settings.NATSURL)
	nc, err := s.natsConn()
	if err != nil {
		h.Message = fmt.Sprintf("cannot connect: %v. %s", err, natsHint(err))
		return h
	}
	h.Server = nc.ConnectedUrlRedacted()
	err = s.findingsStream(ctx, nc)
	streamNote := ""
	switch {
	case err == nil:
		h.Stream = true
		streamNote = "the findings stream " + bus.StreamFindings + " is present"
	case errors.Is(err, jetstream.ErrStreamNotFound):
		h.Message = fmt.Sprintf("connected to %s, but it has no stream %s: is this otsiem's NATS? The correlator declares it "+
			"when it starts (otsiem correlate, or otsiem run with nats.embedded.listen).", url, bus.StreamFindings)
		return h
	case s.perm.refused(streamInfoSubject):
		streamNote = "this identity may not use the JetStream API (a reader), so the findings stream was not checked"
	default:
		h.Message = fmt.Sprintf("connected to %s, but the findings stream %s cannot be read: %v", url, bus.StreamFindings, err)
		return h
	}
	subject := bus.Filter(bus.StreamFindings)
	sub, err := nc.SubscribeSync(subject)
	if err == nil {
		err = nc.FlushWithContext(ctx)
		_ = sub.Unsubscribe()
	}
	if err == nil && s.perm.refused(subject) {
		err = nats.ErrPermissionViolation
	}
	if err != nil {
		h.Message = fmt.Sprintf("connected to %s, but may not subscribe to %s (%v): give the plugin an identity that may "+
			"(role reader of nats.embedded.users)", url, subject, err)
		return h
	}
	h.OK = true
	h.Message = fmt.Sprintf("connected to %s; %s; subscribed to %s: findings are live", url, streamNote, subject)
	return h
}

// findingsStream looks the findings stream up. A reader identity may not
// publish, so NATS answers its JetStream API request with a permission
// violation and no reply: that is reported as soon as NATS says it, not
// after the request's timeout.
func (s *Source) findingsStream(ctx context.Context, nc *nats.Conn) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := js.Stream(ctx, bus.StreamFindings)
		done <- err
	}()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-tick.C:
			if s.perm.refused(streamInfoSubject) {
				return nats.ErrPermissionViolation
			}
		}
	}
}

// streamInfoSubject is the JetStream API subject of the findings stream's
// info.
const streamInfoSubject = "$JS.API.STREAM.INFO." + bus.StreamFindings

// natsHint says what to check for a failed NATS connection.
func natsHint(err error) string {
	switch {
	case errors.Is(err, nats.ErrAuthorization), strings.Contains(err.Error(), "Authorization Violation"):
		return "The server refused the identity: check the user and password, token, NKey seed or credentials file (a reader of nats.embedded.users)."
	case errors.Is(err, nats.ErrNoServers):
		return "Check the URL and that the server listens there (nats.embedded.listen for otsiem run, 4222 for a server)."
	}
	return "Check the URL, the identity and TLS."
}
