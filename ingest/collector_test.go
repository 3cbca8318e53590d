package ingest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/otsiem/otsiem/ingest/ingesttest"
	"github.com/otsiem/otsiem/internal/poll"
	"github.com/otsiem/otsiem/setting"
)

// testPKI writes a CA, a server certificate for 127.0.0.1 and a client
// certificate into dir.
type testPKI struct {
	caFile, certFile, keyFile string
	client                    tls.Certificate
	pool                      *x509.CertPool
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "otsiem test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(cn string, usage x509.ExtKeyUsage, ips ...net.IP) ([]byte, *ecdsa.PrivateKey) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: ips,
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	srvDER, srvKey := issue("collector", x509.ExtKeyUsageServerAuth, net.ParseIP("127.0.0.1"))
	srvKeyDER, _ := x509.MarshalECPrivateKey(srvKey)
	cliDER, cliKey := issue("isa3000-c1", x509.ExtKeyUsageClientAuth)
	pki := &testPKI{
		caFile:   write("ca.pem", "CERTIFICATE", caDER),
		certFile: write("server.pem", "CERTIFICATE", srvDER),
		keyFile:  write("server-key.pem", "EC PRIVATE KEY", srvKeyDER),
		client:   tls.Certificate{Certificate: [][]byte{cliDER}, PrivateKey: cliKey},
		pool:     x509.NewCertPool(),
	}
	pki.pool.AddCert(ca)
	return pki
}

// recorder is a Handler keeping a copy of every frame.
type recorder struct {
	mu     sync.Mutex
	frames []Frame
	gate   chan struct{} // when set, Handle waits for it to close
}

func (r *recorder) Handle(ctx context.Context, f *Frame) error {
	if r.gate != nil {
		<-r.gate
	}
	c := *f
	c.Data = append([]byte(nil), f.Data...)
	r.mu.Lock()
	r.frames = append(r.frames, c)
	r.mu.Unlock()
	return nil
}

// count returns how many frames a listener delivered, without copying
// them: cheap enough to poll.
func (r *recorder) count(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for i := range r.frames {
		if r.frames[i].Listener.Name == name {
			n++
		}
	}
	return n
}

func (r *recorder) byListener(name string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, f := range r.frames {
		if f.Listener.Name == name {
			out = append(out, string(f.Data))
		}
	}
	return out
}

// waitFor waits for cond; generous, as the machine may be loaded: the
// deadline only bounds a failure.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	poll.True(t, time.Minute, what, cond)
}

func startCollector(t testing.TB, cfgs []ListenerConfig, h Handler, opts Options) (*Collector, func()) {
	t.Helper()
	c, err := NewCollector(cfgs, h, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = c.Run(ctx); close(done) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return c, stop
}

func messages(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("<166>Nov 23 2026 10:00:00 isa3000-c1 : %%ASA-6-302013: %s message %d", prefix, i)
	}
	return out
}

func sorted(s []string) string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return strings.Join(s, "\n")
}

func TestCollectorEndToEnd(t *testing.T) {
	pki := newTestPKI(t)
	reg := prometheus.NewRegistry()
	rec := &recorder{}
	c, stop := startCollector(t, []ListenerConfig{
		{Name: "udp", Protocol: ProtoUDP, Address: "127.0.0.1:0"},
		{Name: "tcp", Protocol: ProtoTCP, Address: "127.0.0.1:0"},
		{Name: "tls", Protocol: ProtoTLS, Address: "127.0.0.1:0", TLS: setting.ServerTLS{CertFile: pki.certFile, KeyFile: pki.keyFile, ClientCAFile: pki.caFile}},
	}, rec, Options{Registerer: reg})
	addrs := c.Addrs()

	lf, octet, overTLS := messages("lf", 500), messages("octet", 500), messages("tls", 500)
	conn, err := net.Dial("tcp", addrs["tcp"].String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write([]byte(strings.Join(lf, "\n") + "\n")); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	conn, err = net.Dial("tcp", addrs["tcp"].String())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range octet {
		fmt.Fprintf(conn, "%d %s", len(m), m)
	}
	conn.Close()

	tc, err := tls.Dial("tcp", addrs["tls"].String(), &tls.Config{RootCAs: pki.pool, Certificates: []tls.Certificate{pki.client}})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range overTLS {
		fmt.Fprintf(tc, "%d %s", len(m), m)
	}
	tc.Close()

	// Without a client certificate the handshake fails.
	if bad, err := tls.Dial("tcp", addrs["tls"].String(), &tls.Config{RootCAs: pki.pool}); err == nil {
		_, _ = bad.Write([]byte("<13>sneaky\n"))
		_, _ = bad.Read(make([]byte, 1)) // the alert arrives here in TLS 1.3
		bad.Close()
	}

	uc, err := net.Dial("udp", addrs["udp"].String())
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	_, _ = uc.Write([]byte("<13>udp one\n"))

	waitFor(t, "tcp and tls frames", func() bool {
		return len(rec.byListener("tcp")) == 1000 && len(rec.byListener("tls")) == 500 && len(rec.byListener("udp")) == 1
	})
	waitFor(t, "rejected handshake", func() bool {
		return testutil.ToFloat64(c.m.rejected.WithLabelValues("tls", "tls_handshake")) == 1
	})
	stop()
	if got, want := sorted(rec.byListener("tcp")), sorted(append(lf, octet...)); got != want {
		t.Error("tcp frames differ from what was sent")
	}
	if got, want := sorted(rec.byListener("tls")), sorted(overTLS); got != want {
		t.Error("tls frames differ from what was sent")
	}
	if got := rec.byListener("udp"); got[0] != "<13>udp one" {
		t.Errorf("udp: %q", got)
	}
	for _, f := range rec.frames {
		if !f.Sender.Addr().IsLoopback() || f.Received.IsZero() {
			t.Fatalf("frame without sender or time: %+v", f)
		}
	}
	if v := testutil.ToFloat64(c.m.received.WithLabelValues("tcp")); v != 1000 {
		t.Errorf("received metric %v", v)
	}
}

// What held in the issue's probes, kept: a TLS listener requiring client
// certificates refuses a client without one, one signed by another CA,
// TLS 1.1 and plain text, counts each refusal, and lets none of their
// lines through.
func TestCollectorTLSRefusals(t *testing.T) {
	pki, foreign := newTestPKI(t), newTestPKI(t)
	rec := &recorder{}
	c, stop := startCollector(t, []ListenerConfig{
		{Name: "tls", Protocol: ProtoTLS, Address: "127.0.0.1:0", TLS: setting.ServerTLS{CertFile: pki.certFile, KeyFile: pki.keyFile, ClientCAFile: pki.caFile}},
	}, rec, Options{Registerer: prometheus.NewRegistry()})
	defer stop()
	addr := c.Addrs()["tls"].String()
	attempts := map[string]*tls.Config{
		"no client certificate":   {RootCAs: pki.pool},
		"foreign CA's client":     {RootCAs: pki.pool, Certificates: []tls.Certificate{foreign.client}},
		"TLS 1.1 with a good one": {RootCAs: pki.pool, Certificates: []tls.Certificate{pki.client}, MaxVersion: tls.VersionTLS11},
	}
	for name, cfg := range attempts {
		conn, err := tls.Dial("tcp", addr, cfg)
		if err == nil {
			_, _ = conn.Write([]byte("<13>" + name + "\n"))
			_, err = conn.Read(make([]byte, 1)) // a TLS 1.3 server's refusal arrives here
			conn.Close()
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	plain, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = plain.Write([]byte("<13>plain text\n"))
	_, _ = plain.Read(make([]byte, 1))
	plain.Close()
	waitFor(t, "four refused handshakes", func() bool {
		return testutil.ToFloat64(c.m.rejected.WithLabelValues("tls", "tls_handshake")) == 4
	})
	if got := rec.byListener("tls"); len(got) != 0 {
		t.Errorf("refused connections delivered %q", got)
	}
}

func TestCollectorLimits(t *testing.T) {
	rec := &recorder{}
	c, _ := startCollector(t, []ListenerConfig{
		{Name: "tcp", Protocol: ProtoTCP, Address: "127.0.0.1:0", MaxMessageSize: 64, MaxConnections: 1},
	}, rec, Options{})
	addr := c.Addrs()["tcp"].String()
	first, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	_, _ = first.Write([]byte("<13>" + strings.Repeat("y", 100) + "\n<13>after\n"))
	waitFor(t, "frames", func() bool { return len(rec.byListener("tcp")) == 2 })
	got := rec.byListener("tcp")
	if len(got[0]) != 64 || rec.frames[0].Damage != ReasonOversize || got[1] != "<13>after" {
		t.Errorf("frames %q", got)
	}
	// A second connection is over the limit: closed at once.
	second, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = second.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := second.Read(make([]byte, 1)); err == nil {
		t.Error("second connection was not closed")
	}
	second.Close()
	if v := testutil.ToFloat64(c.m.rejected.WithLabelValues("tcp", "connection_limit")); v != 1 {
		t.Errorf("connection_limit rejections %v", v)
	}
}

// One address may hold MaxConnectionsPerSource connections; more are
// refused and counted, and a slot frees when one closes.
func TestCollectorPerSourceLimit(t *testing.T) {
	rec := &recorder{}
	c, _ := startCollector(t, []ListenerConfig{
		{Name: "tcp", Protocol: ProtoTCP, Address: "127.0.0.1:0", MaxConnectionsPerSource: 2},
	}, rec, Options{})
	addr := c.Addrs()["tcp"].String()
	dial := func() net.Conn {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	a, b := dial(), dial()
	for _, conn := range []net.Conn{a, b} {
		_, _ = conn.Write([]byte("<13>held\n"))
	}
	waitFor(t, "two connections", func() bool { return len(rec.byListener("tcp")) == 2 })
	third := dial()
	_ = third.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := third.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("third connection from one source not closed: %v", err)
	}
	if v := testutil.ToFloat64(c.m.rejected.WithLabelValues("tcp", "source_limit")); v != 1 {
		t.Errorf("source_limit rejections %v", v)
	}
	a.Close()
	waitFor(t, "the slot to free", func() bool { return testutil.ToFloat64(c.m.connections.WithLabelValues("tcp")) == 1 })
	fourth := dial()
	_, _ = fourth.Write([]byte("<13>after\n"))
	waitFor(t, "a frame from the new connection", func() bool { return len(rec.byListener("tcp")) == 3 })
}

// A connection that sends nothing for IdleTimeout is closed and counted.
func TestCollectorIdleTimeout(t *testing.T) {
	c, _ := startCollector(t, []ListenerConfig{
		{Name: "tcp", Protocol: ProtoTCP, Address: "127.0.0.1:0", IdleTimeout: 100 * time.Millisecond},
	}, &recorder{}, Options{})
	conn, err := net.Dial("tcp", c.Addrs()["tcp"].String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("idle connection not closed by the collector: %v", err)
	}
	waitFor(t, "idle close counted", func() bool { return testutil.ToFloat64(c.m.idleClosed.WithLabelValues("tcp")) == 1 })
	var l ListenerConfig
	l.Defaults()
	if l.IdleTimeout <= 0 || l.MaxConnectionsPerSource <= 0 {
		t.Errorf("defaults leave idle connections or one source unbounded: %+v", l)
	}
}

// The issue's probe over a real socket: a lying octet count, then 10,000
// framed lines. The lie is one oversize frame; every line after it arrives.
func TestCollectorLyingOctetCount(t *testing.T) {
	rec := &recorder{}
	c, _ := startCollector(t, []ListenerConfig{{Name: "tcp", Protocol: ProtoTCP, Address: "127.0.0.1:0"}}, rec, Options{})
	conn, err := net.Dial("tcp", c.Addrs()["tcp"].String())
	if err != nil {
		t.Fatal(err)
	}
	msgs := messages("after the lie", 10000)
	var buf strings.Builder
	buf.WriteString("9999999999 ")
	for _, m := range msgs {
		fmt.Fprintf(&buf, "%d %s", len(m), m)
	}
	if _, err := conn.Write([]byte(buf.String())); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	waitFor(t, "every frame", func() bool { return rec.count("tcp") == 10001 })
	got := rec.byListener("tcp")
	if got[0] != "9999999999 " || rec.frames[0].Damage != ReasonOversize {
		t.Errorf("first frame %q (%q), want the lying prefix as oversize", got[0], rec.frames[0].Damage)
	}
	if sorted(got[1:]) != sorted(msgs) {
		t.Error("the lines after the lie differ from what was sent")
	}
	if v := testutil.ToFloat64(c.m.truncated.WithLabelValues("tcp")); v != 1 {
		t.Errorf("truncated %v, want 1", v)
	}
	if v := testutil.ToFloat64(c.m.discarded.WithLabelValues("tcp")); v != 0 {
		t.Errorf("discarded %v bytes, want 0", v)
	}
}

func TestCollectorSenderAllowlist(t *testing.T) {
	rec := &recorder{}
	c, _ := startCollector(t, []ListenerConfig{
		{Name: "tcp", Protocol: ProtoTCP, Address: "127.0.0.1:0"},
		{Name: "udp", Protocol: ProtoUDP, Address: "127.0.0.1:0"},
	}, rec, Options{AllowSender: func(netip.Addr) bool { return false }})
	conn, err := net.Dial("tcp", c.Addrs()["tcp"].String())
	if err == nil {
		_, _ = conn.Write([]byte("<13>x\n"))
		conn.Close()
	}
	uc, _ := net.Dial("udp", c.Addrs()["udp"].String())
	_, _ = uc.Write([]byte("<13>spoofed"))
	uc.Close()
	waitFor(t, "udp frame", func() bool { return len(rec.byListener("udp")) == 1 })
	waitFor(t, "tcp rejection", func() bool {
		return testutil.ToFloat64(c.m.rejected.WithLabelValues("tcp", "sender_not_allowed")) == 1
	})
	if !rec.frames[0].Unauthorized || len(rec.byListener("tcp")) != 0 {
		t.Errorf("frames %+v", rec.frames)
	}
}

// A stalled handler must slow a TCP sender down, not drop its messages.
func TestCollectorBackpressure(t *testing.T) {
	rec := &recorder{gate: make(chan struct{})}
	c, _ := startCollector(t, []ListenerConfig{{Name: "tcp", Protocol: ProtoTCP, Address: "127.0.0.1:0"}}, rec, Options{})
	conn, err := net.Dial("tcp", c.Addrs()["tcp"].String())
	if err != nil {
		t.Fatal(err)
	}
	const n = 200_000 // ~10 MB: far more than socket buffers hold
	msgs := messages("bp", n)
	last, sent := ingesttest.SendUntilStalled(t, conn, msgs, 50*time.Millisecond)
	if last >= n {
		t.Fatalf("sender wrote all %d messages while the handler was stalled", n)
	}
	close(rec.gate)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every frame", func() bool { return rec.count("tcp") == n })
	if got := rec.byListener("tcp"); got[0] != msgs[0] || got[n-1] != msgs[n-1] {
		t.Error("frames out of order or changed")
	}
}

func tlsDial(addr string, pki *testPKI) (net.Conn, error) {
	return tls.Dial("tcp", addr, &tls.Config{RootCAs: pki.pool, Certificates: []tls.Certificate{pki.client}})
}

func testutilValue(c prometheus.Collector) float64 { return testutil.ToFloat64(c) }

// Stopping the collector right after a sender finished still takes every
// message it sent, however long handling them takes.
func TestCollectorDrainsOnStop(t *testing.T) {
	var n atomic.Int64
	slow := HandlerFunc(func(context.Context, *Frame) error {
		// 50 µs of work, not a 50 µs sleep: on a loaded machine a sleep
		// lasts a timer tick or more, and 20,000 of them outlast drainMax.
		for start := time.Now(); time.Since(start) < 50*time.Microsecond; {
		}
		n.Add(1)
		return nil
	})
	c, stop := startCollector(t, []ListenerConfig{{Name: "tcp", Protocol: ProtoTCP, Address: "127.0.0.1:0"}}, slow, Options{})
	conn, err := net.Dial("tcp", c.Addrs()["tcp"].String())
	if err != nil {
		t.Fatal(err)
	}
	const total = 20000 // at 50 µs each, over a second of work: longer than one drain timeout
	if _, err := conn.Write([]byte(strings.Join(messages("drain", total), "\n") + "\n")); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	stop()
	if got := n.Load(); got != total {
		t.Errorf("%d of %d messages handled after a graceful stop", got, total)
	}
}
