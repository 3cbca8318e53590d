package embedded_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/otsiem/otsiem/storage/embedded"
	"github.com/otsiem/otsiem/storage/embedded/embeddedtest"
)

// Served with a certificate, the interface speaks HTTPS only: a client
// pinning that certificate reads as the reader, a plain HTTP request and a
// client pinning another certificate are refused.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	cert := embeddedtest.SelfSigned(t, dir, "otsiem")
	other := embeddedtest.SelfSigned(t, dir, "impostor")
	if _, err := embedded.Listen("127.0.0.1:0", embedded.TLS{CertFile: cert.CertFile}); err == nil || !strings.Contains(err.Error(), "key_file") {
		t.Errorf("a certificate without its key: %v", err)
	}
	if _, err := embedded.Listen("127.0.0.1:0", embedded.TLS{CertFile: cert.CertFile, KeyFile: other.KeyFile}); err == nil {
		t.Error("a certificate with another certificate's key was accepted")
	}
	base, db := guardedTLS(t, cert)
	addr := strings.TrimSuffix(strings.TrimPrefix(base, "https://"), "/")

	query := func(c embedded.TLS) (uint8, error) {
		tc, err := c.PinnedClient()
		if err != nil {
			t.Fatal(err)
		}
		conn, err := clickhouse.Open(&clickhouse.Options{Protocol: clickhouse.HTTP, Addr: []string{addr}, TLS: tc,
			Auth: clickhouse.Auth{Username: testUsers.Reader.User, Password: testUsers.Reader.Password}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var one uint8
		return one, conn.QueryRow(t.Context(), "SELECT toUInt8(count()) FROM "+db+".t").Scan(&one)
	}
	if one, err := query(cert); err != nil || one != 3 {
		t.Errorf("pinned reader over HTTPS: %d, %v", one, err)
	}
	if _, err := query(other); err == nil || !strings.Contains(err.Error(), "not the one in tls.cert_file") {
		t.Errorf("a client pinning another certificate: %v", err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", strings.NewReader("SELECT 1"))
	req.SetBasicAuth(testUsers.Reader.User, testUsers.Reader.Password)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered on the HTTPS interface")
		}
	}
}
