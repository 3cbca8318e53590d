package review

import (
	"fmt"
	"io"
	"time"

	"github.com/otsiem/otsiem/storage"
)

// judgeEnforcing fills the review of a firewall that enforces already:
// no readiness to judge, so no checks; its log coverage, and what it
// blocked that the model allows (false_block) — legitimate traffic its
// rules cut, which is what an OT engineer looks at once a firewall
// enforces. Silent days and recent false blocks become notes.
func (p *Plant) judgeEnforcing(r *DeviceReview, days []storage.DeviceDay, blocked []storage.DeviceFlow, o Options) {
	t := o.Thresholds
	recentFrom := t.recentFrom(r.To)
	recentSilent := r.coverage(days, recentFrom)
	recent := t.recentLabel(r.To)
	r.AlreadyEnforcing, r.Checks = true, []Check{}
	r.Blocked = p.group(blocked, false)
	if len(recentSilent) > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("no logs on %s in %s: what %s blocked then is not seen", countDates(recentSilent), recent, r.Device))
	}
	var recentBlocked []*Group
	for _, g := range r.Blocked {
		if !g.LastSeen.Before(recentFrom) {
			recentBlocked = append(recentBlocked, g)
		}
	}
	if len(recentBlocked) > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d %s the model allows %s blocked in %s and today (%s): fix %s's rules, or the model if it allows too much",
			len(recentBlocked), plural(len(recentBlocked), "flow", "flows"), plural(len(recentBlocked), "was", "were"), recent, describe(recentBlocked), r.Device))
	}
}

// enforcingSince says since when a firewall enforces, as far as the model
// knows.
func (d *DeviceReview) enforcingSince() string {
	if d.Since.IsZero() {
		return "the model gives no date (devices[].since)"
	}
	return "since " + d.Since.Format(time.DateOnly)
}

// enforcingText is the text review of a firewall that enforces already.
func (d *DeviceReview) enforcingText(w io.Writer) {
	fmt.Fprintf(w, "otsiem review: %s\n\n", d.title())
	fmt.Fprintf(w, "ALREADY ENFORCING: %s is in enforce mode, %s.\n", clean(d.Device), d.enforcingSince())
	fmt.Fprintf(w, "  Nothing to decide: otsiem review asks whether a firewall in monitor mode may enforce.\n")
	fmt.Fprintf(w, "  Below is what it blocked that the model allows: legitimate traffic its rules cut.\n\n")
	if d.periodText(w) {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "BLOCKED although the model allows it (false_block): denied by %s's rules\n", clean(d.Device))
		groupTable(w, d.Blocked, "  none", false)
	}
	if len(d.Warnings) > 0 {
		fmt.Fprintln(w)
	}
	for _, s := range d.Warnings {
		fmt.Fprintf(w, "  note %s\n", clean(s))
	}
}

// enforcingMarkdown is the Markdown review of a firewall that enforces
// already.
func (d *DeviceReview) enforcingMarkdown(w io.Writer) {
	fmt.Fprintf(w, "## Review: %s — **ALREADY ENFORCING**\n\n", md(d.title()))
	fmt.Fprintf(w, "%s is in enforce mode, %s: nothing to decide (otsiem review asks whether a firewall in monitor mode may enforce). Below is what it blocked that the model allows.\n\n",
		md(d.Device), md(d.enforcingSince()))
	if !d.periodMarkdown(w) {
		return
	}
	fmt.Fprintf(w, "### Blocked although the model allows it (false_block)\n\nDenied by %s's rules.\n\n", md(d.Device))
	mdGroups(w, d.Blocked, false)
}
