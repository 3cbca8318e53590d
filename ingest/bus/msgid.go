package bus

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/otsiem/otsiem/ingest/event"
)

// The Msg-Id (JetStream's Nats-Msg-Id header) of every message otsiem
// publishes. JetStream stores a message whose id it has seen within the
// stream's duplicate window (Config.DuplicateWindow) only once, so each id
// below is a function of what the message carries and never of when or by
// whom it was sent: a publish retried after a lost acknowledgement, a
// redelivered input judged again, a findings stage replaying events after
// a crash all send the same id again and are dropped. Each stream's
// readers (storage) still key rows by the content, for the replays that
// come after the window.

// BatchMsgID is the id of a batch of events (see Batcher): the id of its
// first event (event.NewID: a hash of the sender, the time received and
// the raw line) and the number of records, "<first id>+<n>". A retried
// publish sends the same batch, so the same first event and size.
func BatchMsgID(firstID string, n int) string {
	return firstID + "+" + strconv.Itoa(n)
}

// DeadLetterMsgID is the id of a dead letter: event.NewID of its bytes as
// received from sender at received, and their length,
// "<hash>-<length>". The same frame dead-lettered again (a retried
// publish) has the same sender, time and bytes.
func DeadLetterMsgID(sender netip.Addr, received time.Time, data []byte) string {
	return event.NewID(sender, "", received, data).String() + "-" + strconv.Itoa(len(data))
}

// EnrichedMsgID is the id of what the verdict stage publishes to subject
// (an EnrichedSubject) for the input message in: "<input id>/<site>.<verdict>",
// with "seq<stream sequence>" standing for an input without an id. The
// verdict is a function of the event and the model, so a redelivered input
// yields the same records under the same subjects, and so the same ids.
func EnrichedMsgID(in *Msg, subject string) string {
	id := in.ID()
	if id == "" {
		id = "seq" + strconv.FormatUint(in.Seq(), 10)
	}
	return id + "/" + subject[len(SubjectEnriched)+1:]
}

// FindingMsgID is the id of a finding revision, "<finding id>/<revision>".
// The findings engine is deterministic in stream order and its finding
// ids derive from the events that opened them (correlate), so a replay
// from the saved state yields the same findings with the same revisions.
func FindingMsgID(findingID string, revision uint64) string {
	return findingID + "/" + strconv.FormatUint(revision, 10)
}
