package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/otsiem/otsiem/health"
)

// Refusal reasons: why JetStream did not take a write.
const (
	// RefusedFull: a stream is at its size bound (max_bytes, with
	// discard new) or the server's store is out of space.
	RefusedFull = "full"
	// RefusedUnavailable: no server answered (down, JetStream disabled
	// after the disk filled, a cluster without a leader, a timeout).
	RefusedUnavailable = "unavailable"
	// RefusedOther: any other error.
	RefusedOther = "other"
)

// Refusals tracks whether JetStream accepts a stage's writes. Every refused
// write is counted (otsiem_<stage>_publish_refused_total{reason}); the
// first refusal, and then at most one a minute while they go on, is
// logged, and so is the first write accepted after them. Err reports the
// refusal for /healthz, judged degraded or down. It is safe for
// concurrent use.
type Refusals struct {
	Outage
	counter  *prometheus.CounterVec
	lastFull time.Time // last refusal for want of space; under Outage.mu
}

// NewRefusals returns a tracker for a stage ("ingest", "correlate"); it
// registers its counter with reg when reg is not nil.
func NewRefusals(stage string, reg prometheus.Registerer, log *slog.Logger) (*Refusals, error) {
	if log == nil {
		log = slog.Default()
	}
	r := &Refusals{Outage: Outage{Logger: log, Level: slog.LevelError,
		Failing:   "JetStream refuses writes; retrying, readers slowed until it accepts them",
		Recovered: "JetStream accepts writes again", Summary: "JetStream refuses writes"},
		counter: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "otsiem_" + stage + "_publish_refused_total",
			Help: "Writes JetStream refused (retried until accepted), per reason: full, unavailable, other.",
		}, []string{"reason"})}
	for _, reason := range []string{RefusedFull, RefusedUnavailable, RefusedOther} {
		r.counter.WithLabelValues(reason)
	}
	if reg != nil {
		if err := reg.Register(r.counter); err != nil {
			return nil, fmt.Errorf("refusal metrics: %w", err)
		}
	}
	return r, nil
}

// Refused records a refused write to subject.
func (r *Refusals) Refused(subject string, err error) {
	reason := RefusalReason(err)
	r.counter.WithLabelValues(reason).Inc()
	if reason == RefusedFull {
		r.mu.Lock()
		r.lastFull = time.Now()
		r.mu.Unlock()
	}
	r.Failed(err, "reason", reason, "subject", subject)
}

// Accepted records an accepted write: a refusal in progress ends.
func (r *Refusals) Accepted() { r.Succeeded() }

// logEvery is how often a run of failures is logged at most.
const logEvery = time.Minute

// Outage tracks a run of failures of something retried until it works
// (JetStream refusing writes, ClickHouse failing inserts): the first
// failure, then at most one a minute while they go on, is logged (at
// Level, with how many failures there were since the last line), and so is
// the first success after them. Err describes the run in progress, for
// /healthz. Set the fields before use; it is safe for concurrent use.
type Outage struct {
	Logger    *slog.Logger // nil: slog.Default
	Level     slog.Level
	Failing   string // the message of a failure's log line
	Recovered string // the message of the line after the first success
	Summary   string // Err's text: "<Summary> since <RFC 3339 time>: <last error>"

	mu      sync.Mutex
	since   time.Time // first failure of the current run; zero while it works
	last    error
	n       int       // failures not yet in a log line
	lastLog time.Time // of the last failure logged, over every run
	logged  bool      // the current run was logged
}

func (o *Outage) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.Default()
	}
	return o.Logger
}

// Failed records a failure; attrs go on its log line (slog key-value pairs).
func (o *Outage) Failed(err error, attrs ...any) {
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.since.IsZero() {
		o.since = now
	}
	o.last = err
	o.n++
	if o.lastLog.IsZero() || now.Sub(o.lastLog) >= logEvery {
		attrs = append(attrs, "failures", o.n, "since", o.since.UTC().Format(time.RFC3339), "err", err)
		o.logger().Log(context.Background(), o.Level, o.Failing, attrs...)
		o.lastLog, o.n, o.logged = now, 0, true
	}
}

// Succeeded records a success: a run of failures in progress ends.
func (o *Outage) Succeeded() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.since.IsZero() {
		return
	}
	if o.logged {
		o.logger().Info(o.Recovered, "failed_for", time.Since(o.since).Round(time.Millisecond).String())
	}
	o.since, o.last, o.n, o.logged = time.Time{}, nil, 0, false
}

// Err returns an error describing the run of failures in progress, or nil.
func (o *Outage) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.since.IsZero() {
		return nil
	}
	return fmt.Errorf("%s since %s: %w", o.Summary, o.since.UTC().Format(time.RFC3339), o.last)
}

// stallAfter is how long writes may be refused as full, none accepted,
// before the stage counts as stuck rather than slowed down: well above
// the second in which a reader's trim frees room.
var stallAfter = time.Minute

// fullRecently is how long after its last refusal as full a stage still
// reports itself degraded, so that a probe under sustained overload does
// not see "ok" between two refusals.
var fullRecently = 10 * time.Second

// Err describes the refusal in progress as /healthz judges it (package
// health): nil while JetStream takes the writes; a health.Degraded while
// a stream is at its size bound (max_bytes, discard new) but writes still
// go through as the readers free room — backpressure working as designed
// — and for fullRecently after; the refusal itself (503) when JetStream
// is away or refuses for another reason, or has accepted no write for
// stallAfter.
func (r *Refusals) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if r.since.IsZero() {
		if !r.lastFull.IsZero() && now.Sub(r.lastFull) < fullRecently {
			return &health.Degraded{Err: fmt.Errorf("JetStream refused writes as full until %s (a stream at its bound, senders slowed); it takes them again",
				r.lastFull.UTC().Format(time.RFC3339))}
		}
		return nil
	}
	err := fmt.Errorf("%s since %s: %w", r.Summary, r.since.UTC().Format(time.RFC3339), r.last)
	switch {
	case RefusalReason(r.last) != RefusedFull:
		return err
	case now.Sub(r.since) >= stallAfter:
		return fmt.Errorf("no write accepted for %s, the readers do not free room: %w", now.Sub(r.since).Round(time.Second), err)
	}
	return &health.Degraded{Err: fmt.Errorf("%w (a stream at its bound: senders slowed while the readers free room)", err)}
}

// RefusalReason classifies a failed JetStream write.
func RefusalReason(err error) string {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case 10023, 10047: // insufficient resources, insufficient storage resources
			return RefusedFull
		case 10076, 10039: // JetStream not enabled (for the account)
			return RefusedUnavailable
		}
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "maximum bytes exceeded"), strings.Contains(msg, "maximum messages exceeded"),
		strings.Contains(msg, "insufficient"), strings.Contains(msg, "no space left"):
		return RefusedFull
	case errors.Is(err, jetstream.ErrNoStreamResponse), errors.Is(err, nats.ErrNoResponders), errors.Is(err, nats.ErrTimeout),
		errors.Is(err, jetstream.ErrAsyncPublishTimeout), errors.Is(err, nats.ErrAsyncPublishTimeout),
		errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrDisconnected), errors.Is(err, jetstream.ErrJetStreamNotEnabled),
		errors.Is(err, context.DeadlineExceeded):
		return RefusedUnavailable
	}
	return RefusedOther
}
