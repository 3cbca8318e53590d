package correlate

import (
	"strconv"
	"time"

	"github.com/otsiem/otsiem/ingest/event"
)

// clockState follows device clocks for Engine.clock.
type clockState struct {
	// pending are devices whose latest event ran ahead of the watermark,
	// neither confirmed by another device nor contradicted yet, in the
	// order they ran ahead (a few at most).
	pending []aheadClock
	// skewed are devices found running ahead: their events never move the
	// watermark until one is in step again.
	skewed map[string]bool
}

// aheadClock is a device's event that ran ahead of the watermark.
type aheadClock struct {
	Device string
	T      time.Time
	Event  event.Event // what describes the device in a clock_skew finding
}

const (
	maxPendingClocks = 16
	maxSkewedClocks  = 10_000
)

func newClockState() clockState { return clockState{skewed: map[string]bool{}} }

// advanced forgets pending clocks the watermark t has caught up with.
func (c *clockState) advanced(t time.Time, skew time.Duration) {
	keep := c.pending[:0]
	for _, p := range c.pending {
		if p.T.After(t.Add(skew)) {
			keep = append(keep, p)
		}
	}
	c.pending = keep
}

// inStep records that a device's clock agrees with the watermark.
func (c *clockState) inStep(dev string) {
	delete(c.skewed, dev)
	for i := range c.pending {
		if c.pending[i].Device == dev {
			c.pending = append(c.pending[:i], c.pending[i+1:]...)
			return
		}
	}
}

// deviceClock names the clock an event comes from: its device's hostname,
// else its sender address.
func deviceClock(ev *event.Event) string {
	if ev.Device != "" {
		return ev.Device
	}
	if ev.DeviceIP.IsValid() {
		return ev.DeviceIP.String()
	}
	return ""
}

// clock returns the time an event counts at, and advances the watermark to
// it when the device's clock can be trusted.
//
// With Config.ReceiveClock, an event time more than ClockSkew ahead of its
// receive time comes from a clock running ahead. Without it (offline
// replays), an event more than ClockSkew ahead of the watermark is held
// until it is confirmed — by another device's event near the same time, or
// by the same device's next event ahead with no device in step between —
// and a device in step with the watermark meanwhile contradicts it: the
// held device runs ahead. An event from a clock running ahead is judged at
// the watermark and raises or grows that device's clock_skew finding.
func (e *Engine) clock(ev *event.Event) time.Time {
	t := ev.Time
	if t.IsZero() {
		t = ev.ReceivedAt
	}
	w := e.watermark
	switch {
	case t.IsZero():
		return w
	case w.IsZero():
		e.advance(t, e.recvGap)
		return t
	}
	dev := deviceClock(ev)
	skew := e.cfg.ClockSkew
	if e.cfg.ReceiveClock {
		if !ev.Time.IsZero() && !ev.ReceivedAt.IsZero() {
			if ahead := ev.Time.Sub(ev.ReceivedAt); ahead > skew {
				e.clockAhead(dev, ev, ahead)
				return w
			}
		}
		e.clocks.inStep(dev)
		e.advance(t, e.recvGap)
		return t
	}
	if !t.After(w.Add(skew)) {
		// In step: every other device still held ahead runs ahead.
		for _, p := range e.clocks.pending {
			if p.Device != dev {
				e.clockAhead(p.Device, &p.Event, p.T.Sub(t))
			}
		}
		e.clocks.pending = e.clocks.pending[:0]
		e.clocks.inStep(dev)
		e.advance(t, e.recvGap)
		return t
	}
	if e.clocks.skewed[dev] {
		e.clockAhead(dev, ev, t.Sub(w))
		return w
	}
	for _, p := range e.clocks.pending {
		if p.Device == dev || (t.Sub(p.T) <= skew && p.T.Sub(t) <= skew) {
			// Confirmed: otsiem's time really moved on (it was not
			// observing, or nothing was logged for a while).
			e.clocks.pending = e.clocks.pending[:0]
			e.advance(t, e.recvGap)
			return t
		}
	}
	if len(e.clocks.pending) >= maxPendingClocks {
		e.clocks.pending = e.clocks.pending[1:]
	}
	e.clocks.pending = append(e.clocks.pending, aheadClock{Device: dev, T: t,
		Event: event.Event{ID: ev.ID, Site: ev.Site, Device: ev.Device, DeviceIP: ev.DeviceIP, Vendor: ev.Vendor, Product: ev.Product}})
	// Held, not yet known to be wrong: the event keeps its own time, but
	// time does not move until it is confirmed.
	return t
}

// clockAhead records an event from a device whose clock runs ahead by
// ahead: the device's clock_skew finding opens or grows, at the watermark.
func (e *Engine) clockAhead(dev string, ev *event.Event, ahead time.Duration) {
	e.stats.ClockAhead++
	if len(e.clocks.skewed) < maxSkewedClocks {
		e.clocks.skewed[dev] = true
	}
	k := foldKey{typ: TypeClockSkew, reason: "ahead", device: dev, port: -1}
	e.foldInto(k, nil, ev, e.watermark, func(fo *fold) {
		f := &fo.f
		f.Device = ev.Device
		if ev.DeviceIP.IsValid() {
			f.SetAttr("device_ip", ev.DeviceIP.String())
		}
		if v, _ := f.Attr("ahead_seconds"); v == "" || parseSeconds(v) < ahead.Seconds() {
			f.SetAttr("ahead_seconds", strconv.FormatFloat(ahead.Round(time.Second).Seconds(), 'f', -1, 64))
		}
		f.Summary = clockSummary(f, dev)
	})
}

func parseSeconds(s string) float64 {
	v, _ := strconv.ParseFloat(s, 64)
	return v
}
