// Package health is otsiem's /healthz: it turns what each stage reports
// into one answer for a probe or a person. A stage reports nil while it
// works, a [Degraded] error while it works slowed down by design
// (backpressure from a JetStream stream at its size bound), or any other
// error when it cannot make progress.
//
// The answer (HTTP, text/plain):
//
//	200 "ok"                        every stage works
//	200 "degraded: <reasons>"       every problem is Degraded: data flows, slower
//	503 "<reasons>"                 a stage cannot make progress
//
// A load balancer or Kubernetes probe that looks only at the status thus
// restarts nothing while otsiem sheds load as designed, and still sees a
// stage that is stuck.
package health

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Degraded marks a stage's condition as working but slowed down: its
// output is at its bound and writes go through as readers free room.
type Degraded struct{ Err error }

func (d *Degraded) Error() string { return d.Err.Error() }
func (d *Degraded) Unwrap() error { return d.Err }

// Judge splits a stage report (nil, an error, or errors joined with
// errors.Join) into the problems that stop progress and those that only
// slow it (Degraded).
func Judge(err error) (down, degraded []error) {
	switch e := err.(type) {
	case nil:
		return nil, nil
	case *Degraded:
		return nil, []error{err}
	case interface{ Unwrap() []error }:
		for _, x := range e.Unwrap() {
			dn, dg := Judge(x)
			down, degraded = append(down, dn...), append(degraded, dg...)
		}
		return down, degraded
	}
	// A wrapper (fmt.Errorf with one %w) is what it wraps, when that is
	// only Degraded.
	if dn, dg := Judge(errors.Unwrap(err)); len(dn) == 0 && len(dg) > 0 {
		return nil, []error{err}
	}
	return []error{err}, nil
}

// Handler serves /healthz from check, called on each request.
func Handler(check func() error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		down, degraded := Judge(check())
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		switch {
		case len(down) > 0:
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, lines(append(down, degraded...)))
		case len(degraded) > 0:
			fmt.Fprintln(w, "degraded: "+lines(degraded))
		default:
			fmt.Fprintln(w, "ok")
		}
	})
}

func lines(errs []error) string {
	var s []string
	for _, e := range errs {
		s = append(s, e.Error())
	}
	return strings.Join(s, "\n")
}
