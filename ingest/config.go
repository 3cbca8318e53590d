package ingest

import (
	"errors"
	"fmt"
	"net"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/setting"
)

// Config is the ingest stage's section of the configuration file
// (`ingest:`): the syslog listeners, the sender allow-list, and the bounds
// and batches of what is published to NATS JetStream.
type Config struct {
	// Listeners are the syslog listeners; a list in the file replaces the
	// default ones.
	Listeners []ListenerConfig `yaml:"listeners"`
	// AllowOnlyModelDevices refuses senders whose address is not a device
	// declared in the model (TCP/TLS refused, UDP dead-lettered).
	AllowOnlyModelDevices bool `yaml:"allow_only_model_devices"`
	// Publish bounds what is read and not yet acknowledged by JetStream
	// (max_pending, max_pending_bytes, max_pending_records): past any,
	// readers stop reading and TCP senders slow down.
	Publish bus.PublisherConfig `yaml:",inline"`
	// Batch sizes the event batches sent to NATS.
	Batch bus.BatcherConfig `yaml:"batch"`
}

// DefaultConfig is syslog on 127.0.0.1:5514 over UDP and TCP, every
// listener setting at its default (ListenerConfig.Defaults), and the
// publisher's and batcher's defaults.
func DefaultConfig() Config {
	udp := ListenerConfig{Name: "syslog-udp", Protocol: ProtoUDP, Address: "127.0.0.1:5514"}
	tcp := ListenerConfig{Name: "syslog-tcp", Protocol: ProtoTCP, Address: "127.0.0.1:5514"}
	udp.Defaults()
	tcp.Defaults()
	return Config{Listeners: []ListenerConfig{udp, tcp}, Publish: bus.DefaultPublisherConfig(), Batch: bus.DefaultBatcherConfig()}
}

// Validate reports settings that cannot work, each a setting.FieldError
// naming the key ("listeners[1].framing").
func (c Config) Validate() error {
	var errs []error
	names := map[string]int{}
	for i, l := range c.Listeners {
		at := fmt.Sprintf("listeners[%d]", i)
		errs = append(errs, setting.Under(at, l.Validate()))
		l.Defaults()
		if j, ok := names[l.Name]; ok {
			errs = append(errs, setting.Errorf(at+".name", "%q is the name of listeners[%d] too", l.Name, j))
		}
		names[l.Name] = i
	}
	errs = append(errs, c.Publish.Validate(), setting.Under("batch", c.Batch.Validate()))
	return errors.Join(errs...)
}

// Listener protocols.
const (
	ProtoUDP = "udp"
	ProtoTCP = "tcp"
	ProtoTLS = "tls"
)

// ListenerConfig is one syslog listener.
type ListenerConfig struct {
	// Name labels metrics and events; default "<protocol>-<port>".
	Name     string `yaml:"name"`
	Protocol string `yaml:"protocol"` // udp, tcp or tls
	// Address to listen on; default 127.0.0.1:5514 (6514 for TLS).
	Address string `yaml:"address"`
	// MaxMessageSize cuts longer messages (they go to the dead letters);
	// default 64 KiB.
	MaxMessageSize int `yaml:"max_message_size"`
	// MaxConnections bounds open TCP/TLS connections; default 1024.
	MaxConnections int `yaml:"max_connections"`
	// MaxConnectionsPerSource bounds the open TCP/TLS connections from one
	// address, so that one sender cannot take them all; default 16.
	MaxConnectionsPerSource int `yaml:"max_connections_per_source"`
	// IdleTimeout closes a TCP/TLS connection silent this long, so that
	// dead or abandoned connections do not hold a slot; default 10m,
	// negative never.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// Framing is the TCP/TLS framing (RFC 6587); default auto.
	Framing Framing `yaml:"framing"`
	// TLS is the certificate of a tls listener (RFC 5425), and the CA its
	// senders' certificates must be signed by, when set.
	TLS setting.ServerTLS `yaml:"tls"`
	// Decoder forces a vendor decoder; empty detects by content.
	Decoder string `yaml:"decoder"`
	// Timezone (IANA name) for timestamps that carry none (RFC 3164);
	// default UTC.
	Timezone string `yaml:"timezone"`
	// QueueSize is the UDP receive queue, in datagrams; default 8192. A full
	// queue drops datagrams, counted.
	QueueSize int `yaml:"queue_size"`
	// ReadBuffer is each TCP/TLS connection's kernel receive buffer, in
	// bytes (the kernel doubles it); default 256 KiB. What it holds is
	// acknowledged to the sender by TCP and not yet read: a crash loses
	// it, so it is kept small (README, "What a crash can lose").
	ReadBuffer setting.ByteSize `yaml:"read_buffer"`
}

// UnmarshalYAML reads a listener and fills in its defaults (Defaults), so
// that a configuration shows every value in force; a listener without a
// protocol is left for Validate to refuse.
func (cfg *ListenerConfig) UnmarshalYAML(n *yaml.Node) error {
	type plain ListenerConfig
	if err := n.Decode((*plain)(cfg)); err != nil {
		return err
	}
	if cfg.Protocol != "" {
		cfg.Defaults()
	}
	return nil
}

// Validate reports a listener setting that cannot work.
func (cfg ListenerConfig) Validate() error {
	var errs []error
	switch cfg.Protocol {
	case ProtoUDP, ProtoTCP:
	case ProtoTLS:
		errs = append(errs, setting.Under("tls", cfg.TLS.Validate(true)))
	case "":
		errs = append(errs, setting.Errorf("protocol", "missing: want udp, tcp or tls"))
	default:
		errs = append(errs, setting.Errorf("protocol", "%q: want udp, tcp or tls", cfg.Protocol))
	}
	if cfg.Address != "" {
		if err := setting.CheckHostPort(cfg.Address); err != nil {
			errs = append(errs, setting.Errorf("address", "%q: %w", cfg.Address, unwrapAddr(err)))
		}
	}
	switch cfg.Framing {
	case "", FramingAuto, FramingOctetCounting, FramingNonTransparent:
	default:
		errs = append(errs, setting.Errorf("framing", "%q: want auto, octet-counting or non-transparent", cfg.Framing))
	}
	if cfg.Timezone != "" {
		if _, err := time.LoadLocation(cfg.Timezone); err != nil {
			errs = append(errs, setting.Errorf("timezone", "%q is not an IANA time zone such as America/Chicago", cfg.Timezone))
		}
	}
	for _, v := range []struct {
		key string
		n   int
	}{{"max_message_size", cfg.MaxMessageSize}, {"max_connections", cfg.MaxConnections},
		{"max_connections_per_source", cfg.MaxConnectionsPerSource}, {"queue_size", cfg.QueueSize}, {"read_buffer", int(cfg.ReadBuffer)}} {
		if v.n < 0 {
			errs = append(errs, setting.Errorf(v.key, "%d: want 0 (the default) or more", v.n))
		}
	}
	return errors.Join(errs...)
}

// unwrapAddr drops net.AddrError's repetition of the address.
func unwrapAddr(err error) error {
	var ae *net.AddrError
	if errors.As(err, &ae) {
		return errors.New(ae.Err)
	}
	return err
}

// Defaults fills in a listener's defaults.
func (cfg *ListenerConfig) Defaults() {
	if cfg.Protocol == "" {
		cfg.Protocol = ProtoUDP
	}
	if cfg.Address == "" {
		cfg.Address = "127.0.0.1:5514"
		if cfg.Protocol == ProtoTLS {
			cfg.Address = "127.0.0.1:6514"
		}
	}
	if cfg.Name == "" {
		_, port, _ := net.SplitHostPort(cfg.Address)
		cfg.Name = cfg.Protocol + "-" + port
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = 64 << 10
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = 1024
	}
	if cfg.MaxConnectionsPerSource <= 0 {
		cfg.MaxConnectionsPerSource = 16
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 10 * time.Minute
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 8192
	}
	if cfg.ReadBuffer <= 0 {
		cfg.ReadBuffer = 256 << 10
	}
	if cfg.Framing == "" {
		cfg.Framing = FramingAuto
	}
}
