package correlate

import "github.com/otsiem/otsiem/ingest/event"

// Collector keeps the latest revision of every finding, in the order the
// findings were opened: what an offline replay prints.
type Collector struct {
	byID  map[string]int
	Items []event.Finding
}

// Emit records a finding revision; pass it as an Engine's emit function.
func (c *Collector) Emit(f *event.Finding) {
	if c.byID == nil {
		c.byID = map[string]int{}
	}
	cp := *f
	cp.EventIDs = append([]event.ID(nil), f.EventIDs...)
	cp.Attrs = append([]event.Attr(nil), f.Attrs...)
	if i, ok := c.byID[f.FindingID]; ok {
		c.Items[i] = cp
		return
	}
	c.byID[f.FindingID] = len(c.Items)
	c.Items = append(c.Items, cp)
}
