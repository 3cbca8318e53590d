package storage

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/otsiem/otsiem/ingest/event"
)

// Ack is an analyst's action on a finding: acknowledge it (seen, being
// handled) or close it (handled). It applies to the revision the analyst
// saw: a later revision with new evidence reopens the finding (see
// [FindingState]).
type Ack struct {
	FindingID string
	Action    string // event.StateAcknowledged or event.StateClosed
	At        time.Time
	By, Note  string
	Revision  uint64    // the finding's revision acted on
	LastSeen  time.Time // and its last evidence
}

// Acknowledge stores analysts' actions in finding_acks, each a new row of
// the audit trail. An action other than acknowledged or closed is an error.
func Acknowledge(ctx context.Context, conn driver.Conn, acks []Ack) error {
	var (
		ids, actions, bys, notes col[string]
		ats, lastSeen            col[time.Time]
		revisions                col[uint64]
	)
	b := newBatch("finding_acks", namedColumn{"finding_id", &ids}, namedColumn{"action", &actions}, namedColumn{"at", &ats},
		namedColumn{"by", &bys}, namedColumn{"note", &notes}, namedColumn{"revision", &revisions},
		namedColumn{"last_seen", &lastSeen})
	for _, a := range acks {
		if a.Action != event.StateAcknowledged && a.Action != event.StateClosed {
			return fmt.Errorf("storage: acknowledge %s: action %q is not %s or %s", a.FindingID, a.Action,
				event.StateAcknowledged, event.StateClosed)
		}
		ids.add(a.FindingID)
		actions.add(a.Action)
		ats.add(a.At.UTC())
		bys.add(a.By)
		notes.add(a.Note)
		revisions.add(a.Revision)
		lastSeen.add(a.LastSeen.UTC())
		b.keys.add(a.FindingID + "/" + a.Action + "/" + strconv.FormatInt(a.At.UnixNano(), 10))
		b.times.add(a.At)
	}
	return Insert(ctx, conn, b)
}
