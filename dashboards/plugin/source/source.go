// Package source is otsiem's Grafana data source, otsiem-zones-datasource:
// the plant's declared IEC 62443 zones and conduits as a node graph with
// the traffic of the time range on them, the zone × zone conduit matrix,
// one conduit's rules with the traffic each carried, and the latest
// findings with a live channel fed by the correlator's NATS subjects
// (otsiem.findings.<severity>). Every figure comes from package storage's
// named queries, run over ClickHouse's HTTP interface as a read-only user,
// so the plugin shows what the dashboards and the CLI show.
package source

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// Source is one data source instance: its settings, a ClickHouse
// connection and, once a stream or health check needs it, a NATS
// connection. Grafana replaces the instance when its settings change
// (Dispose closes the old one).
type Source struct {
	uid      string
	settings Settings
	ch       driver.Conn
	log      log.Logger

	mu   sync.Mutex
	nc   *nats.Conn
	perm permissionLog // permission violations NATS reported on nc
}

var (
	_ backend.QueryDataHandler      = (*Source)(nil)
	_ backend.CheckHealthHandler    = (*Source)(nil)
	_ backend.StreamHandler         = (*Source)(nil)
	_ backend.CallResourceHandler   = (*Source)(nil)
	_ instancemgmt.InstanceDisposer = (*Source)(nil)
)

// New is the instance factory of datasource.Manage: it reads the settings
// and opens the ClickHouse connection (no request is sent before the
// first query).
func New(_ context.Context, s backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
	st, err := ParseSettings(s)
	if err != nil {
		return nil, err
	}
	opts := &clickhouse.Options{
		Protocol:    clickhouse.HTTP,
		Addr:        []string{st.ClickHouseAddress},
		Auth:        clickhouse.Auth{Database: st.ClickHouseDatabase, Username: st.ClickHouseUser, Password: st.ClickHousePassword},
		Compression: &clickhouse.Compression{Method: clickhouse.CompressionGZIP},
		DialTimeout: 5 * time.Second,
		ReadTimeout: 60 * time.Second,
	}
	if st.ClickHouseSecure {
		opts.TLS = tlsConfig(st.ClickHouseCACert)
	}
	ch, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("clickhouse %s: %w", st.ClickHouseAddress, err)
	}
	return &Source{uid: s.UID, settings: st, ch: ch, log: log.DefaultLogger.With("datasource", s.UID)}, nil
}

// Dispose closes the connections.
func (s *Source) Dispose() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nc != nil {
		s.nc.Close()
		s.nc = nil
	}
	_ = s.ch.Close()
}

// errNoNATS says live findings are off because no NATS URL is configured.
var errNoNATS = errors.New("no NATS URL is configured: findings are not live")

// natsConn returns the instance's NATS connection, connecting on first
// use (and again after a failed attempt or a closed connection).
func (s *Source) natsConn() (*nats.Conn, error) {
	st := s.settings
	if st.NATSURL == "" {
		return nil, errNoNATS
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nc != nil && !s.nc.IsClosed() {
		return s.nc, nil
	}
	opts := []nats.Option{nats.Name("otsiem-grafana-plugin"), nats.Timeout(5 * time.Second), nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second), nats.ErrorHandler(s.perm.record)}
	switch {
	case st.NATSUser != "":
		opts = append(opts, nats.UserInfo(st.NATSUser, st.NATSPassword))
	case st.NATSToken != "":
		opts = append(opts, nats.Token(st.NATSToken))
	case st.NATSCredsFile != "":
		opts = append(opts, nats.UserCredentials(st.NATSCredsFile))
	case st.NATSNKeySeed != "":
		kp, err := nkeys.FromSeed([]byte(st.NATSNKeySeed))
		if err != nil {
			return nil, fmt.Errorf("NATS NKey seed: not a valid seed (%v)", err)
		}
		pub, err := kp.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("NATS NKey seed: %w", err)
		}
		opts = append(opts, nats.Nkey(pub, kp.Sign))
	}
	if st.NATSCACert != "" {
		opts = append(opts, nats.Secure(tlsConfig(st.NATSCACert)))
	}
	nc, err := nats.Connect(st.NATSURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("NATS %s: %w", redact(st.NATSURL), err)
	}
	s.nc = nc
	return nc, nil
}

// permissionLog keeps the latest permission violation NATS reported for
// each subject: a reader identity may not publish, so a JetStream API
// request is refused without a reply.
type permissionLog struct {
	mu       sync.Mutex
	subjects map[string]error
}

func (p *permissionLog) record(_ *nats.Conn, _ *nats.Subscription, err error) {
	if !errors.Is(err, nats.ErrPermissionViolation) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.subjects == nil {
		p.subjects = map[string]error{}
	}
	p.subjects[err.Error()] = err
}

// refused reports whether a permission violation naming subject was
// reported.
func (p *permissionLog) refused(subject string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for msg := range p.subjects {
		if strings.Contains(msg, `"`+subject+`"`) {
			return true
		}
	}
	return false
}
