package main

import (
	"context"
	"testing"
	"time"

	"github.com/otsiem/otsiem/simulate"
)

// A fast replay of hours of plant time through every stage (README's
// "Going from monitor to enforce"): the collectors batch per subject, so
// the events stream holds minutes of other devices' traffic before each
// batch of diode heartbeats. The diode is down exactly as often as the
// outage scenario silenced it, on each side, once each time.
func TestRunFastReplayDiodeOutages(t *testing.T) {
	s, p, _ := startRun(t, "")
	const every, span = 2 * time.Hour, 6*time.Hour + 5*time.Minute
	g, err := simulate.New(simulate.Config{Start: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), Rate: 0.5, Seed: 7,
		Scenarios: []string{"diode-outage"}, ScenarioEvery: every})
	if err != nil {
		t.Fatal(err)
	}
	st := sendAndStop(t, s, p, g, span)
	// The simulator injects a scenario half an interval after its start,
	// then every interval: 45 s of silence at 1h, 3h and 5h.
	outages := int((span-every/2)/every) + 1
	if st.ByScenario["diode-outage"] == 0 {
		t.Fatal("no outage injected")
	}
	db, err := openStore(context.Background(), s.cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Conn.Query(context.Background(),
		"SELECT attrs['side'], count, attrs['flaps'], first_seen FROM findings WHERE type = 'diode_down' ORDER BY first_seen")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	perSide := map[string]int{}
	for rows.Next() {
		var side, flaps string
		var count uint64
		var first time.Time
		if err := rows.Scan(&side, &count, &flaps, &first); err != nil {
			t.Fatal(err)
		}
		perSide[side]++
		if count != 1 || flaps != "" {
			t.Errorf("diode_down %s side at %s: count %d, flaps %q; want one silence, no flaps", side, first, count, flaps)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, side := range []string{"tx", "rx"} {
		if perSide[side] != outages {
			t.Errorf("%d diode_down findings on the %s side, want %d (the outages injected)", perSide[side], side, outages)
		}
	}
}
