package source

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// Settings is a data source instance's configuration, as Grafana's
// configuration page or provisioning (jsonData and secureJsonData) gives
// it. Passwords, tokens and seeds come only from secureJsonData, which
// Grafana stores encrypted and hands to the plugin decrypted; they are
// never logged.
type Settings struct {
	// ClickHouse: the HTTP interface (host:port) of a ClickHouse server or
	// of `otsiem run`'s embedded engine (storage.embedded.listen), the
	// database, and a read-only user.
	ClickHouseAddress  string `json:"clickhouseAddress"`
	ClickHouseDatabase string `json:"clickhouseDatabase"`
	ClickHouseUser     string `json:"clickhouseUser"`
	// ClickHouseSecure speaks HTTPS; ClickHouseCACert (PEM) replaces the
	// system's roots when set.
	ClickHouseSecure   bool   `json:"clickhouseSecure"`
	ClickHouseCACert   string `json:"clickhouseCACert"`
	ClickHousePassword string `json:"-"` // secureJsonData.clickhousePassword

	// NATS: a server of otsiem's bus (nats://host:4222, tls:// for TLS);
	// empty for no live findings. One of user and password, token, NKey
	// seed or credentials file identifies the plugin; NATSCACert (PEM)
	// verifies a TLS server.
	NATSURL       string `json:"natsURL"`
	NATSUser      string `json:"natsUser"`
	NATSCredsFile string `json:"natsCredsFile"`
	NATSCACert    string `json:"natsCACert"`
	NATSPassword  string `json:"-"` // secureJsonData.natsPassword
	NATSToken     string `json:"-"` // secureJsonData.natsToken
	NATSNKeySeed  string `json:"-"` // secureJsonData.natsNKeySeed
}

// ParseSettings reads an instance's settings and checks them: a missing
// or malformed ClickHouse address, a bad NATS URL or CA certificate, or
// two NATS identities at once is an error an admin can act on.
func ParseSettings(s backend.DataSourceInstanceSettings) (Settings, error) {
	var st Settings
	if len(s.JSONData) > 0 {
		if err := json.Unmarshal(s.JSONData, &st); err != nil {
			return st, fmt.Errorf("settings: %w", err)
		}
	}
	sec := s.DecryptedSecureJSONData
	st.ClickHousePassword, st.NATSPassword, st.NATSToken, st.NATSNKeySeed =
		sec["clickhousePassword"], sec["natsPassword"], sec["natsToken"], strings.TrimSpace(sec["natsNKeySeed"])
	if st.ClickHouseDatabase == "" {
		st.ClickHouseDatabase = "otsiem"
	}
	var errs []error
	if st.ClickHouseAddress == "" {
		errs = append(errs, errors.New("ClickHouse address is empty: give the host:port of its HTTP interface (8123, or storage.embedded.listen of otsiem run)"))
	} else if _, _, err := net.SplitHostPort(st.ClickHouseAddress); err != nil {
		errs = append(errs, fmt.Errorf("ClickHouse address %q: want host:port (%v)", st.ClickHouseAddress, err))
	}
	if st.ClickHouseCACert != "" && !st.ClickHouseSecure {
		errs = append(errs, errors.New("ClickHouse CA certificate given without TLS: turn TLS on"))
	}
	if st.NATSURL != "" {
		for _, u := range strings.Split(st.NATSURL, ",") {
			p, err := url.Parse(strings.TrimSpace(u))
			if err != nil || p.Host == "" || !(p.Scheme == "nats" || p.Scheme == "tls") {
				errs = append(errs, fmt.Errorf("NATS URL %q: want nats://host:port or tls://host:port", redact(u)))
			}
		}
	}
	ids := 0
	for _, set := range []bool{st.NATSUser != "", st.NATSToken != "", st.NATSNKeySeed != "", st.NATSCredsFile != ""} {
		if set {
			ids++
		}
	}
	if ids > 1 {
		errs = append(errs, errors.New("NATS: give one identity (user and password, token, NKey seed or credentials file), not several"))
	}
	for _, c := range []struct{ name, pem string }{{"ClickHouse", st.ClickHouseCACert}, {"NATS", st.NATSCACert}} {
		if c.pem != "" && !x509.NewCertPool().AppendCertsFromPEM([]byte(c.pem)) {
			errs = append(errs, fmt.Errorf("%s CA certificate: no PEM certificate in it", c.name))
		}
	}
	return st, errors.Join(errs...)
}

// tlsConfig is a TLS client configuration verifying servers against a
// PEM CA, or the system's roots when none is given.
func tlsConfig(caPEM string) *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if caPEM != "" {
		c.RootCAs = x509.NewCertPool()
		c.RootCAs.AppendCertsFromPEM([]byte(caPEM))
	}
	return c
}

// redact removes credentials from URLs for messages.
func redact(urls string) string {
	parts := strings.Split(urls, ",")
	for i, u := range parts {
		if p, err := url.Parse(strings.TrimSpace(u)); err == nil && p.User != nil {
			p.User = url.User("REDACTED")
			parts[i] = p.String()
		}
	}
	return strings.Join(parts, ",")
}
