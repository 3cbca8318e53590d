package embedded

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
)

func (t TLS) load() (tls.Certificate, error) {
	if t.CertFile == "" || t.KeyFile == "" {
		return tls.Certificate{}, errors.New("tls needs cert_file and key_file")
	}
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tls: %w", err)
	}
	return cert, nil
}

// Listen listens on addr (DefaultAddr when empty) for [Serve]: TLS 1.2 or
// later with t's certificate when t is enabled, plain TCP otherwise. A
// certificate that does not load is an error before anything listens.
func Listen(addr string, t TLS) (net.Listener, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	var tc *tls.Config
	if t.Enabled() {
		cert, err := t.load()
		if err != nil {
			return nil, err
		}
		tc = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil || tc == nil {
		return ln, err
	}
	return tls.NewListener(ln, tc), nil
}

// PinnedClient returns the client TLS configuration of otsiem's own
// commands towards an interface served with t on the same host: the
// server must present exactly t's certificate (pinned, so a self-signed
// certificate needs no CA and the address dialled needs not be among its
// names). It reads only the certificate file.
func (t TLS) PinnedClient() (*tls.Config, error) {
	b, err := os.ReadFile(t.CertFile)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("tls: %s holds no PEM certificate", t.CertFile)
	}
	leaf := block.Bytes
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// Verification is the pin below: the exact certificate, nothing else.
		InsecureSkipVerify: true, //nolint:gosec
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || !bytes.Equal(raw[0], leaf) {
				return errors.New("embedded: the server's certificate is not the one in tls.cert_file")
			}
			return nil
		},
	}, nil
}
