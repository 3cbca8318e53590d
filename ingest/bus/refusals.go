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
	log     *slog.Logger
	counter *prometheus.CounterVec

	mu       sync.Mutex
	since    time.Time // first refusal of the current run; zero while accepted
	lastFull time.Time // last refusal for want of space
	last     error
	n        int       // refusals not yet in a log line
	lastLog  time.Time // of the last refusal logged, over every run
	logged   bool      // the current run was logged
}

// NewRefusals returns a tracker for a stage ("ingest", "correlate"); it
// registers its counter with reg when reg is not nil.
func NewRefusals(stage string, reg prometheus.Registerer, log *slog.Logger) (*Refusals, error) {
	if log == nil {
		log = slog.Default()
	}
	r := &Refusals{log: log, counter: prometheus.NewCounterVec(prometheus.CounterOpts{
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

// logEvery is how often refusals are logged at most.
const logEvery = time.Minute

// Refused records a refused write to subject.
func (r *Refusals) Refused(subject string, err error) {
	reason := RefusalReason(err)
	r.counter.WithLabelValues(reason).Inc()
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.since.IsZero() {
		r.since = now
	}
	if reason == RefusedFull {
		r.lastFull = now
	}
	r.last = err
	r.n++
	if r.lastLog.IsZero() || now.Sub(r.lastLog) >= logEvery {
		r.log.Error("JetStream refuses writes; retrying, readers slowed until it accepts them",
			"reason", reason, "subject", subject, "refused", r.n, "since", r.since.UTC().Format(time.RFC3339), "err", err)
		r.lastLog, r.n, r.logged = now, 0, true
	}
}

// Accepted records an accepted write: a refusal in progress ends.
func (r *Refusals) Accepted() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.since.IsZero() {
		return
	}
	if r.logged {
		r.log.Info("JetStream accepts writes again", "refused_for", time.Since(r.since).Round(time.Millisecond).String())
	}
	r.since, r.last, r.logged = time.Time{}, nil, false
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
	err := fmt.Errorf("JetStream refuses writes since %s: %w", r.since.UTC().Format(time.RFC3339), r.last)
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
