package bus

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Trim removes from a stream the messages that every consumer taking
// acknowledgements has acknowledged, and that keep (when not 0) is past:
// the first message kept is the lowest of the consumers' acknowledgement
// floors plus one, and keep. It returns how many messages it removed.
//
// This is otsiem's retention: ClickHouse is the system of record, so a
// message every reader is done with goes, and the streams hold only the
// backlog. It is not JetStream's interest retention because the findings
// stage reads in order from its saved position with an ordered consumer,
// which takes no acknowledgements (its position is keep), and because an
// interest stream drops what is published while no consumer exists yet. A
// stream without such a consumer and without keep is not trimmed. Consumers
// that acknowledge nothing (ordered ones, tools) hold nothing back.
func (b *Bus) Trim(ctx context.Context, stream string, keep uint64) (uint64, error) {
	st, err := b.JS.Stream(ctx, stream)
	if err != nil {
		return 0, fmt.Errorf("trim %s: %w", stream, err)
	}
	floor, bounded := keep, keep > 0
	l := st.ListConsumers(ctx)
	for ci := range l.Info() {
		if ci.Config.AckPolicy == jetstream.AckNonePolicy {
			continue
		}
		if acked := ci.AckFloor.Stream + 1; !bounded || acked < floor {
			floor, bounded = acked, true
		}
	}
	if err := l.Err(); err != nil {
		return 0, fmt.Errorf("trim %s: consumers: %w", stream, err)
	}
	info := st.CachedInfo()
	if !bounded || info == nil || info.State.Msgs == 0 || floor <= info.State.FirstSeq {
		return 0, nil
	}
	before := info.State.Msgs
	if err := st.Purge(ctx, jetstream.WithPurgeSequence(floor)); err != nil {
		return 0, fmt.Errorf("trim %s up to %d: %w", stream, floor, err)
	}
	after, err := st.Info(ctx)
	if err != nil || after.State.Msgs > before {
		return 0, nil
	}
	return before - after.State.Msgs, nil
}

// Trimmer trims one stream when it is due: every Every, and at once when
// the stream holds half of what it may. Listing a stream's consumers is
// one of JetStream's costlier requests on a cluster, so a stage calls Due
// often and trims seldom while there is room. A failed trim (JetStream
// away, its disk full) is logged to Logger at most once a minute.
type Trimmer struct {
	Bus    *Bus
	Stream string
	Every  time.Duration // default 10s
	Logger *slog.Logger  // nil: failures are not logged
	last   time.Time
	warned time.Time // last failure logged
	failed int       // failures since then
}

// Due reports whether the stream should be trimmed now.
func (t *Trimmer) Due(ctx context.Context) bool {
	every := t.Every
	if every <= 0 {
		every = 10 * time.Second
	}
	if time.Since(t.last) >= every {
		return true
	}
	st, err := t.Bus.JS.Stream(ctx, t.Stream)
	if err != nil {
		return false
	}
	info := st.CachedInfo()
	return info.Config.MaxBytes > 0 && int64(info.State.Bytes)*2 >= info.Config.MaxBytes
}

// Trim trims the stream (see Trim) if it is due.
func (t *Trimmer) Trim(ctx context.Context, keep uint64) (uint64, error) {
	if !t.Due(ctx) {
		return 0, nil
	}
	t.last = time.Now()
	n, err := t.Bus.Trim(ctx, t.Stream, keep)
	if err != nil && ctx.Err() == nil && t.Logger != nil {
		t.failed++
		if time.Since(t.warned) >= logEvery {
			t.Logger.Warn("trim", "stream", t.Stream, "failures", t.failed, "err", err)
			t.warned, t.failed = time.Now(), 0
		}
	}
	return n, err
}

// Backlog returns how many messages of the named streams (all of otsiem's
// when none are named) the durable consumers have not acknowledged yet:
// pending delivery or delivered and unacknowledged. Ordered consumers (the
// findings stage, tools) keep a position of their own and are left out.
// Zero means every stage reading them is idle.
func (b *Bus) Backlog(ctx context.Context, streams ...string) (uint64, error) {
	if len(streams) == 0 {
		for _, sc := range b.StreamConfigs() {
			streams = append(streams, sc.Name)
		}
	}
	var n uint64
	for _, name := range streams {
		st, err := b.JS.Stream(ctx, name)
		if err != nil {
			return 0, err
		}
		l := st.ListConsumers(ctx)
		for ci := range l.Info() {
			if ci.Config.Durable != "" {
				n += ci.NumPending + uint64(ci.NumAckPending)
			}
		}
		if err := l.Err(); err != nil {
			return 0, err
		}
	}
	return n, nil
}
