package simulate

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"
)

// Target is where lines go: a syslog collector over udp, tcp or tls, or a
// file ("-" for standard output).
type Target struct {
	Network string // udp, tcp, tls or file
	Address string // host:port, or the file path
	TLS     *tls.Config
}

// Writer sends lines to a target: one datagram per line over UDP,
// octet-counted frames (RFC 6587) over TCP and TLS, one line per line to a
// file.
type Writer struct {
	w     *bufio.Writer
	c     io.Closer
	udp   net.Conn
	octet bool
}

// Dial opens a target.
func Dial(ctx context.Context, t Target) (*Writer, error) {
	var d net.Dialer
	switch t.Network {
	case "udp":
		c, err := d.DialContext(ctx, "udp", t.Address)
		if err != nil {
			return nil, err
		}
		return &Writer{udp: c, c: c}, nil
	case "tcp":
		c, err := d.DialContext(ctx, "tcp", t.Address)
		if err != nil {
			return nil, err
		}
		return &Writer{w: bufio.NewWriterSize(c, 64<<10), c: c, octet: true}, nil
	case "tls":
		td := tls.Dialer{NetDialer: &d, Config: t.TLS}
		c, err := td.DialContext(ctx, "tcp", t.Address)
		if err != nil {
			return nil, err
		}
		return &Writer{w: bufio.NewWriterSize(c, 64<<10), c: c, octet: true}, nil
	case "file":
		if t.Address == "-" || t.Address == "" {
			return &Writer{w: bufio.NewWriterSize(os.Stdout, 64<<10)}, nil
		}
		f, err := os.Create(t.Address)
		if err != nil {
			return nil, err
		}
		return &Writer{w: bufio.NewWriterSize(f, 64<<10), c: f}, nil
	}
	return nil, fmt.Errorf("target network %q: want udp, tcp, tls or file", t.Network)
}

// Write sends one line.
func (w *Writer) Write(line string) error {
	if w.udp != nil {
		_, err := io.WriteString(w.udp, line)
		return err
	}
	if w.octet {
		w.w.WriteString(strconv.Itoa(len(line)))
		w.w.WriteByte(' ')
		_, err := w.w.WriteString(line)
		return err
	}
	w.w.WriteString(line)
	return w.w.WriteByte('\n')
}

// Flush sends what is buffered.
func (w *Writer) Flush() error {
	if w.w == nil {
		return nil
	}
	return w.w.Flush()
}

// Close flushes and closes.
func (w *Writer) Close() error {
	err := w.Flush()
	if w.c != nil {
		if cerr := w.c.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// Stats counts what a run sent.
type Stats struct {
	Lines      int
	ByDevice   map[string]int
	ByScenario map[string]int
}

// Run sends lines from g to w at the generator's rate until ctx ends, the
// duration of event time passes, or (when max > 0) max lines are sent.
// With paced false it sends as fast as it can, event times still spaced
// at the rate.
func Run(ctx context.Context, g *Generator, w *Writer, duration time.Duration, max int, paced bool) (Stats, error) {
	st := Stats{ByDevice: map[string]int{}, ByScenario: map[string]int{}}
	end := g.cfg.Start.Add(duration)
	start := time.Now()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if duration > 0 && !g.Now().Before(end) || max > 0 && st.Lines >= max {
			return st, w.Flush()
		}
		if paced {
			due := int(time.Since(start).Seconds() * g.cfg.Rate)
			if st.Lines >= due {
				if err := w.Flush(); err != nil {
					return st, err
				}
				select {
				case <-ctx.Done():
					return st, w.Flush()
				case <-tick.C:
				}
				continue
			}
		} else if ctx.Err() != nil {
			return st, w.Flush()
		}
		l := g.Next()
		if err := w.Write(l.Text); err != nil {
			return st, err
		}
		st.Lines++
		st.ByDevice[l.Device]++
		if l.Scenario != "" {
			st.ByScenario[l.Scenario]++
		}
	}
}
