// Package diode decodes data diode health reports. No diode vendor
// publishes a log format, so otsiem defines one; a diode's TX and RX
// proxies (or a small script beside them) send it over syslog at a fixed
// interval, by default every 10 seconds.
//
// Key=value form (the body of a syslog line; quoted values may hold
// spaces):
//
//	diode=DMZ-DD-01 side=tx status=ok seq=184467 bps=5242880 lag_ms=35 ts=2026-04-15T09:36:50.120Z
//
// JSON form (one object on the line):
//
//	{"diode":"DMZ-DD-01","side":"rx","status":"degraded","seq":184467,"bps":0,"lag_ms":4200}
//
// Fields: diode (required) is the diode's id as the model names it; side
// is tx (the sending, high-security side) or rx; status is ok, degraded,
// down, starting or stopped; seq is the heartbeat sequence number, which
// increases by one per report and lets a receiver count lost reports; bps
// is the throughput in bits per second over the last interval; lag_ms is
// how far the RX side trails the TX side (replication lag); ts is the
// report time in RFC 3339. Optional: src, dst (the diode's TX and RX
// addresses), port (the replicated service port), reason (free text), and
// any other keys, which are kept as attrs. Endpoints are kept as attrs,
// not src_ip/dst_ip: a health report is not traffic to judge.
package diode

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/otsiem/otsiem/ingest/decode"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/ingest/jsonlex"
	"github.com/otsiem/otsiem/ingest/syslog"
)

func init() { decode.Register(Decoder{}) }

// Decoder is the diode health decoder, registered as "diode".
type Decoder struct{}

// Name returns "diode".
func (Decoder) Name() string { return "diode" }

// Detect claims bodies starting with "diode=" or the JSON object key
// "diode".
func (Decoder) Detect(h *syslog.Header) bool {
	b := h.Body
	return strings.HasPrefix(b, "diode=") || strings.HasPrefix(b, `{"diode":`)
}

var (
	errNoID   = errors.New("no diode id")
	errSide   = errors.New("side must be tx or rx")
	errNumber = errors.New("not a non-negative integer")
)

// Decode decodes one health report.
func (Decoder) Decode(h *syslog.Header, ev *event.Event) error {
	ev.Kind = event.KindDiode
	ev.Vendor, ev.Product = "otsiem", "diode"
	ev.MessageID = "heartbeat"
	var err error
	if strings.HasPrefix(h.Body, "{") {
		err = decodeJSON(h.Body, ev)
	} else {
		for k, v := range decode.KV(h.Body) {
			if err = set(ev, k, v); err != nil {
				break
			}
		}
	}
	if err != nil {
		return err
	}
	if ev.DiodeID == "" {
		return errNoID
	}
	if ev.DiodeStatus == "" {
		ev.DiodeStatus = "unknown"
	}
	return nil
}

// decodeJSON applies the members of the JSON form in order: strings
// unescaped, numbers and booleans as their text, nested objects and arrays
// as their JSON text; null is no value.
func decodeJSON(body string, ev *event.Event) error {
	return jsonlex.EachMember(body, func(k string, v jsonlex.Value) error {
		switch v.Kind() {
		case 'n':
			return nil
		case '{', '[':
			return set(ev, k, v.Raw)
		}
		return set(ev, k, v.Str())
	})
}

// set applies one field.
func set(ev *event.Event, k, v string) error {
	num := func(dst *event.Opt[uint64]) error {
		n := decode.Uint(v)
		if !n.OK {
			return fmt.Errorf("%s=%q: %w", k, v, errNumber)
		}
		*dst = n
		return nil
	}
	switch k {
	case "diode", "diode_id":
		ev.DiodeID = v
	case "side":
		switch strings.ToLower(v) {
		case "tx":
			ev.DiodeSide = "tx"
		case "rx":
			ev.DiodeSide = "rx"
		default:
			return fmt.Errorf("side=%q: %w", v, errSide)
		}
	case "status":
		ev.DiodeStatus = strings.ToLower(v)
	case "seq":
		return num(&ev.DiodeSeq)
	case "bps":
		return num(&ev.DiodeBPS)
	case "lag_ms":
		return num(&ev.DiodeLagMS)
	case "ts":
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return fmt.Errorf("ts: %w", err)
		}
		ev.Time = t.UTC()
	case "host":
		ev.Device = v
	default:
		ev.Attrs = append(ev.Attrs, event.Attr{Key: k, Value: v})
	}
	return nil
}
