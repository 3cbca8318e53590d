package setting

import (
	"crypto/tls"
	"crypto/x509"
	"os"
)

// ClientTLS is TLS towards a server: PEM files for the CAs to trust
// (default: the system's), the client certificate and key when the server
// asks for one, and the name to verify.
type ClientTLS struct {
	CAFile     string `yaml:"ca_file" config:"path"`
	CertFile   string `yaml:"cert_file" config:"path"`
	KeyFile    string `yaml:"key_file" config:"path"`
	ServerName string `yaml:"server_name"`
}

// Validate checks that a client certificate comes with its key.
func (t ClientTLS) Validate() error {
	if t.CertFile == "" && t.KeyFile == "" {
		return nil
	}
	return pair(t.CertFile, t.KeyFile, "a client certificate")
}

// pair checks a certificate and key file, naming the one missing.
func pair(cert, key, what string) error {
	switch {
	case cert == "" && key == "":
		return Errorf("", "%s needs cert_file and key_file", what)
	case cert == "":
		return Errorf("cert_file", "missing: %s needs cert_file besides key_file", what)
	case key == "":
		return Errorf("key_file", "missing: %s needs key_file besides cert_file", what)
	}
	return nil
}

// Load builds the client TLS configuration (TLS 1.2 or later) from the
// files; nil when TLS is neither enabled nor configured. Errors name the
// key: "ca_file: open …".
func (t ClientTLS) Load(enabled bool) (*tls.Config, error) {
	if !enabled && t.CAFile == "" && t.CertFile == "" && t.ServerName == "" {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, Errorf("ca_file", "%w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, Errorf("ca_file", "%s: no certificates", t.CAFile)
		}
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, Errorf("cert_file", "%w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// ServerTLS is a TLS listener's certificate (PEM, with its chain) and key,
// and optionally the CA that client certificates must be signed by (then
// required, RFC 5425 section 5.3's mutual authentication).
type ServerTLS struct {
	CertFile     string `yaml:"cert_file" config:"path"`
	KeyFile      string `yaml:"key_file" config:"path"`
	ClientCAFile string `yaml:"client_ca_file" config:"path"`
}

// Enabled reports whether any file is set.
func (t ServerTLS) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" || t.ClientCAFile != "" }

// Validate checks that the set is complete: with required, or once any
// file is set, cert_file and key_file must both be.
func (t ServerTLS) Validate(required bool) error {
	if !required && !t.Enabled() {
		return nil
	}
	return pair(t.CertFile, t.KeyFile, "TLS")
}
