// Package ingest receives syslog from firewalls, DPI sensors and data
// diodes over UDP, TCP and TLS, turns each message into a normalized event
// and publishes it to NATS JetStream. Subpackages hold the event type, the
// syslog header parser, the vendor decoders and the bus.
package ingest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/otsiem/otsiem/setting"
)

// Frame is one received syslog message. Data is only valid during the
// Handle call.
type Frame struct {
	Data     []byte
	Sender   netip.AddrPort
	Received time.Time
	Listener *ListenerConfig
	// Damage is "" for a whole message, else why it is not one, the
	// dead-letter reason: ReasonOversize (cut at MaxMessageSize, or an octet
	// count over it), ReasonIncomplete (the stream ended or stalled inside
	// it), ReasonFraming (octet counting without a length).
	Damage string
	// Unauthorized is set when the sender is not an allowed device.
	Unauthorized bool
}

// Handler takes received frames. It may block: a TCP or TLS reader then
// stops reading, and the sender's window fills. An error closes the
// connection.
type Handler interface {
	Handle(ctx context.Context, f *Frame) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, f *Frame) error

// Handle calls h.
func (h HandlerFunc) Handle(ctx context.Context, f *Frame) error { return h(ctx, f) }

// At shutdown a TCP/TLS listener keeps accepting for acceptDrain (the
// connections already queued), and a reader keeps reading while data keeps
// coming: it stops after drainTimeout without data, or after drainMax.
const (
	acceptDrain  = 100 * time.Millisecond
	drainTimeout = 500 * time.Millisecond
	drainMax     = 30 * time.Second
)

// Collector runs syslog listeners.
type Collector struct {
	listeners []*listener
	handler   Handler
	allow     func(netip.Addr) bool
	log       *slog.Logger
	m         *collectorMetrics
	wg        sync.WaitGroup
}

type listener struct {
	cfg      ListenerConfig
	ln       net.Listener // tcp, tls
	raw      *net.TCPListener
	pc       net.PacketConn // udp
	sem      chan struct{}
	mu       sync.Mutex
	conn     map[net.Conn]struct{}
	bySource map[netip.Addr]int // open connections per sender address
}

// Options configures a Collector.
type Options struct {
	// AllowSender, when set, admits only senders it accepts: other TCP/TLS
	// connections are refused, other datagrams are marked Unauthorized.
	AllowSender func(netip.Addr) bool
	Registerer  prometheus.Registerer
	Logger      *slog.Logger
}

// NewCollector opens every listener (so a bad address fails at start-up)
// without accepting yet.
func NewCollector(cfgs []ListenerConfig, h Handler, opts Options) (*Collector, error) {
	c := &Collector{handler: h, allow: opts.AllowSender, log: opts.Logger, m: newCollectorMetrics(opts.Registerer)}
	if c.log == nil {
		c.log = slog.Default()
	}
	names := map[string]bool{}
	for _, cfg := range cfgs {
		l, err := openListener(cfg)
		if err != nil {
			c.release()
			return nil, err
		}
		if names[l.cfg.Name] {
			c.release()
			return nil, fmt.Errorf("listener name %q used twice", l.cfg.Name)
		}
		names[l.cfg.Name] = true
		c.listeners = append(c.listeners, l)
	}
	return c, nil
}

func openListener(cfg ListenerConfig) (*listener, error) {
	cfg.Defaults()
	l := &listener{cfg: cfg, conn: map[net.Conn]struct{}{}, bySource: map[netip.Addr]int{}}
	var err error
	switch cfg.Protocol {
	case ProtoUDP:
		l.pc, err = net.ListenPacket("udp", cfg.Address)
		if err == nil {
			if uc, ok := l.pc.(*net.UDPConn); ok {
				_ = uc.SetReadBuffer(8 << 20)
			}
		}
	case ProtoTCP, ProtoTLS:
		var tc *tls.Config
		if cfg.Protocol == ProtoTLS {
			tc, err = serverTLS(cfg.TLS)
		}
		if err == nil {
			var ln net.Listener
			if ln, err = net.Listen("tcp", cfg.Address); err == nil {
				l.raw, l.ln = ln.(*net.TCPListener), ln
				if tc != nil {
					l.ln = tls.NewListener(ln, tc)
				}
			}
		}
	default:
		return nil, fmt.Errorf("listener %s: protocol %q: want udp, tcp or tls", cfg.Name, cfg.Protocol)
	}
	if err != nil {
		return nil, fmt.Errorf("listener %s: %w", cfg.Name, err)
	}
	switch cfg.Framing {
	case FramingAuto, FramingOctetCounting, FramingNonTransparent:
	default:
		l.release()
		return nil, fmt.Errorf("listener %s: framing %q: want auto, octet-counting or non-transparent", cfg.Name, cfg.Framing)
	}
	l.sem = make(chan struct{}, cfg.MaxConnections)
	return l, nil
}

func serverTLS(t setting.ServerTLS) (*tls.Config, error) {
	if t.CertFile == "" || t.KeyFile == "" {
		return nil, errors.New("tls needs cert_file and key_file")
	}
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("tls certificate: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if t.ClientCAFile != "" {
		pem, err := os.ReadFile(t.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("tls client ca: %w", err)
		}
		tc.ClientCAs = x509.NewCertPool()
		if !tc.ClientCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls client ca %s: no certificates", t.ClientCAFile)
		}
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

// Addrs returns each listener's bound address by name (useful with port 0).
func (c *Collector) Addrs() map[string]net.Addr {
	out := map[string]net.Addr{}
	for _, l := range c.listeners {
		if l.ln != nil {
			out[l.cfg.Name] = l.ln.Addr()
		} else {
			out[l.cfg.Name] = l.pc.LocalAddr()
		}
	}
	return out
}

// Run accepts and reads until ctx ends, then closes the listeners, lets
// every connection's reader drain what it has received, and returns once
// the handler has taken every frame. The handler's context is not
// cancelled with ctx, so frames read during the drain are still handled;
// it is cancelled drainMax after ctx if the handler still blocks.
func (c *Collector) Run(ctx context.Context) error {
	hctx, giveUp := context.WithCancel(context.WithoutCancel(ctx))
	defer giveUp()
	for _, l := range c.listeners {
		c.wg.Add(1)
		if l.pc != nil {
			go c.serveUDP(ctx, hctx, l)
		} else {
			go c.serveStream(ctx, hctx, l)
		}
	}
	<-ctx.Done()
	c.close()
	// A handler still blocked after the drain (the store refusing every
	// write) is given up on: what it holds is counted as lost where it
	// is held (bus.Publisher), and the connections close.
	t := time.AfterFunc(drainMax, giveUp)
	c.wg.Wait()
	t.Stop()
	return nil
}

func (c *Collector) close() {
	for _, l := range c.listeners {
		l.closeAll()
	}
}

// release closes the sockets of a listener that never served.
func (l *listener) release() {
	if l.ln != nil {
		l.ln.Close()
	}
	if l.pc != nil {
		l.pc.Close()
	}
}

// release closes every listener's sockets, for a collector that never ran.
func (c *Collector) release() {
	for _, l := range c.listeners {
		l.release()
	}
}

func (l *listener) closeAll() {
	if l.raw != nil {
		// Take the connections already waiting to be accepted, then stop.
		_ = l.raw.SetDeadline(time.Now().Add(acceptDrain))
	}
	if l.pc != nil {
		l.pc.Close()
	}
	l.mu.Lock()
	for conn := range l.conn {
		// Readers drain what the connection already holds, then stop.
		_ = conn.SetReadDeadline(time.Now().Add(drainTimeout))
	}
	l.mu.Unlock()
}

func (c *Collector) serveStream(ctx, hctx context.Context, l *listener) {
	defer c.wg.Done()
	name := l.cfg.Name
	defer l.ln.Close()
	for {
		conn, err := l.ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			c.log.Warn("accept failed", "listener", name, "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		sender := addrPort(conn.RemoteAddr())
		setReadBuffer(conn, int(l.cfg.ReadBuffer))
		if c.allow != nil && !c.allow(sender.Addr()) {
			c.m.rejected.WithLabelValues(name, "sender_not_allowed").Inc()
			conn.Close()
			continue
		}
		l.mu.Lock()
		full := l.bySource[sender.Addr()] >= l.cfg.MaxConnectionsPerSource
		if !full {
			l.bySource[sender.Addr()]++
		}
		l.mu.Unlock()
		if full {
			c.m.rejected.WithLabelValues(name, "source_limit").Inc()
			conn.Close()
			continue
		}
		select {
		case l.sem <- struct{}{}:
		default:
			c.m.rejected.WithLabelValues(name, "connection_limit").Inc()
			l.forget(sender.Addr())
			conn.Close()
			continue
		}
		l.mu.Lock()
		l.conn[conn] = struct{}{}
		if ctx.Err() != nil {
			_ = conn.SetReadDeadline(time.Now().Add(drainTimeout))
		}
		l.mu.Unlock()
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			defer func() {
				l.mu.Lock()
				delete(l.conn, conn)
				l.mu.Unlock()
				l.forget(sender.Addr())
				conn.Close()
				<-l.sem
			}()
			c.readStream(ctx, hctx, l, conn, sender)
		}()
	}
}

// setReadBuffer bounds a connection's kernel receive buffer, which also
// turns off its automatic growth.
func setReadBuffer(conn net.Conn, size int) {
	if tc, ok := conn.(*tls.Conn); ok {
		conn = tc.NetConn()
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(size)
	}
}

// forget takes a closed connection off its sender's count.
func (l *listener) forget(a netip.Addr) {
	l.mu.Lock()
	if l.bySource[a]--; l.bySource[a] <= 0 {
		delete(l.bySource, a)
	}
	l.mu.Unlock()
}

func (c *Collector) readStream(ctx, hctx context.Context, l *listener, conn net.Conn, sender netip.AddrPort) {
	name := l.cfg.Name
	c.m.connections.WithLabelValues(name).Inc()
	defer c.m.connections.WithLabelValues(name).Dec()
	if tc, ok := conn.(*tls.Conn); ok {
		_ = tc.SetDeadline(time.Now().Add(30 * time.Second))
		if err := tc.HandshakeContext(hctx); err != nil {
			c.m.rejected.WithLabelValues(name, "tls_handshake").Inc()
			return
		}
		_ = tc.SetDeadline(time.Time{})
	}
	received := c.m.received.WithLabelValues(name)
	bytesIn := c.m.bytes.WithLabelValues(name)
	truncated := c.m.truncated.WithLabelValues(name)
	framing := c.m.framing.WithLabelValues(name)
	discarded := c.m.discarded.WithLabelValues(name)
	fr := newFrameReader(conn, l.cfg.MaxMessageSize, l.cfg.Framing)
	f := Frame{Sender: sender, Listener: &l.cfg}
	var drainUntil time.Time
	var counted int64 // of fr.discarded
	for {
		switch {
		case ctx.Err() != nil:
			// Shutting down: keep reading what the sender already sent.
			now := time.Now()
			if drainUntil.IsZero() {
				drainUntil = now.Add(drainMax)
			}
			d := now.Add(drainTimeout)
			if d.After(drainUntil) {
				d = drainUntil
			}
			_ = conn.SetReadDeadline(d)
		case l.cfg.IdleTimeout > 0:
			_ = conn.SetReadDeadline(time.Now().Add(l.cfg.IdleTimeout))
		}
		data, kind, err := fr.Next()
		if fr.discarded > counted {
			discarded.Add(float64(fr.discarded - counted))
			counted = fr.discarded
		}
		if len(data) > 0 {
			received.Inc()
			bytesIn.Add(float64(len(data)))
			f.Damage = ""
			switch kind {
			case frameCut:
				truncated.Inc()
				f.Damage = ReasonOversize
			case frameIncomplete:
				truncated.Inc()
				f.Damage = ReasonIncomplete
			case frameBad:
				framing.Inc()
				f.Damage = ReasonFraming
			}
			f.Data, f.Received = data, time.Now()
			if herr := c.handler.Handle(hctx, &f); herr != nil {
				if hctx.Err() != nil {
					c.log.Warn("stopped waiting for the store at shutdown; closing connection", "listener", name, "sender", sender.String())
				} else {
					c.log.Error("handler failed; closing connection", "listener", name, "err", herr)
				}
				return
			}
		}
		if err != nil {
			if ctx.Err() == nil && errors.Is(err, os.ErrDeadlineExceeded) {
				c.m.idleClosed.WithLabelValues(name).Inc()
			}
			return
		}
	}
}

func (c *Collector) serveUDP(ctx, hctx context.Context, l *listener) {
	defer c.wg.Done()
	name := l.cfg.Name
	queue := make(chan *Frame, l.cfg.QueueSize)
	var workers sync.WaitGroup
	workers.Add(1)
	shutdown := c.m.drops.WithLabelValues(name, "shutdown")
	go func() {
		defer workers.Done()
		for f := range queue {
			if hctx.Err() != nil {
				shutdown.Inc() // given up at shutdown: the store refuses writes
				continue
			}
			if err := c.handler.Handle(hctx, f); err != nil && hctx.Err() == nil {
				c.log.Error("handler failed", "listener", name, "err", err)
			}
		}
	}()
	defer func() {
		close(queue)
		workers.Wait()
	}()
	received := c.m.received.WithLabelValues(name)
	bytesIn := c.m.bytes.WithLabelValues(name)
	truncated := c.m.truncated.WithLabelValues(name)
	dropped := c.m.drops.WithLabelValues(name, "queue_full")
	kernel := c.m.drops.WithLabelValues(name, "kernel_buffer")
	buf := make([]byte, 65536)
	uc := l.pc.(*net.UDPConn)
	var oob []byte
	if enableDropCount(uc) {
		oob = make([]byte, 64)
	}
	var lastDrops uint32
	for {
		n, oobn, _, from, err := uc.ReadMsgUDPAddrPort(buf, oob)
		if oobn > 0 {
			if d, ok := kernelDrops(oob[:oobn]); ok && d != lastDrops {
				kernel.Add(float64(d - lastDrops))
				lastDrops = d
			}
		}
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			c.log.Warn("udp read failed", "listener", name, "err", err)
			continue
		}
		received.Inc()
		bytesIn.Add(float64(n))
		data := trimCR(trimLF(buf[:n]))
		f := &Frame{Sender: netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), Received: time.Now(), Listener: &l.cfg}
		if len(data) > l.cfg.MaxMessageSize {
			data, f.Damage = data[:l.cfg.MaxMessageSize], ReasonOversize
			truncated.Inc()
		}
		if len(data) == 0 {
			continue
		}
		f.Data = append([]byte(nil), data...)
		f.Unauthorized = c.allow != nil && !c.allow(f.Sender.Addr())
		select {
		case queue <- f:
		default:
			dropped.Inc()
		}
	}
}

func trimLF(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == 0) {
		b = b[:len(b)-1]
	}
	return b
}

func addrPort(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		ap := ta.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

type collectorMetrics struct {
	received    *prometheus.CounterVec
	bytes       *prometheus.CounterVec
	truncated   *prometheus.CounterVec
	framing     *prometheus.CounterVec
	discarded   *prometheus.CounterVec
	drops       *prometheus.CounterVec
	rejected    *prometheus.CounterVec
	idleClosed  *prometheus.CounterVec
	connections *prometheus.GaugeVec
}

func newCollectorMetrics(reg prometheus.Registerer) *collectorMetrics {
	m := &collectorMetrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "otsiem_ingest_messages_received_total",
			Help: "Syslog messages received, per listener."}, []string{"listener"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "otsiem_ingest_bytes_received_total",
			Help: "Bytes of syslog messages received, per listener."}, []string{"listener"}),
		truncated: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "otsiem_ingest_messages_truncated_total",
			Help: "Messages cut at the maximum message size, or where the stream ended inside them (sent to the dead letters)."}, []string{"listener"}),
		framing: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "otsiem_ingest_framing_errors_total",
			Help: "Octet-counted TCP/TLS streams without a length where one must be: the bytes up to the next frame go to the dead letters."}, []string{"listener"}),
		discarded: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "otsiem_ingest_discarded_bytes_total",
			Help: "Bytes received in no message: the rest of a cut message, skipped to resynchronise on the next frame."}, []string{"listener"}),
		drops: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "otsiem_ingest_drops_total",
			Help: "Messages dropped before decoding, per listener and reason."}, []string{"listener", "reason"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "otsiem_ingest_connections_rejected_total",
			Help: "TCP/TLS connections refused, per listener and reason."}, []string{"listener", "reason"}),
		idleClosed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "otsiem_ingest_connections_idle_closed_total",
			Help: "TCP/TLS connections closed after idle_timeout without data, per listener."}, []string{"listener"}),
		connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "otsiem_ingest_connections",
			Help: "Open TCP/TLS connections, per listener."}, []string{"listener"}),
	}
	if reg != nil {
		reg.MustRegister(m.received, m.bytes, m.truncated, m.framing, m.discarded, m.drops, m.rejected, m.idleClosed, m.connections)
	}
	return m
}
