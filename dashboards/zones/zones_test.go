package zones

import (
	"reflect"
	"strings"
	"testing"

	"github.com/otsiem/otsiem/ingest/event"
)

func TestParse(t *testing.T) {
	q, err := Parse([]byte(`{"refId":"A","datasource":{"uid":"x"},"intervalMs":1000,"queryType":"findings",
		"zones":["Z2-BPCS,Z3-OPS", " Z2-BPCS ", ""],"severities":["critical,high"],"types":["scan"]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := Query{QueryType: Findings, Zones: []string{"Z2-BPCS", "Z3-OPS"}, Severities: []string{"critical", "high"},
		Types: []string{"scan"}, Limit: DefaultLimit}
	if !reflect.DeepEqual(q, want) {
		t.Errorf("got %+v\nwant %+v", q, want)
	}

	for raw, msg := range map[string]string{
		`{"queryType":"graph"}`:   `queryType "graph": want one of topology, matrix, conduit, findings`,
		`{}`:                      "queryType is missing",
		`{"queryType":"conduit"}`: "conduit: a conduit query needs the conduit to show",
		`{"queryType":"findings","severities":["urgent"]}`: `severities: "urgent" is not a severity`,
		`{"queryType":"findings","types":["malware"]}`:     `types: "malware" is not a finding type`,
		`{"queryType":"findings","limit":100000}`:          "limit 100000: at most 10000",
		`{"queryType":"findings","zones":"Z2"}`:            "query: json: cannot unmarshal string",
		`{"queryType":`:                                    "query: unexpected end of JSON input",
	} {
		if _, err := Parse([]byte(raw)); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("Parse(%s): %v, want %q", raw, err, msg)
		}
	}
}

func TestChannelRoundTrip(t *testing.T) {
	for _, c := range []struct {
		q    Query
		path string
	}{
		{Query{}, "findings"},
		{Query{Severities: []string{"critical"}}, "findings/critical"},
		{Query{Severities: []string{"critical", "high"}, Zones: []string{"Z3.5-DMZ"}, Conduits: []string{"C1-BPCS-OPS"}},
			"findings/severity=critical/severity=high/zone=Z3.5-DMZ/conduit=C1-BPCS-OPS"},
		{Query{Severities: []string{"high"}, Types: []string{"scan"}}, "findings/severity=high/type=scan"},
	} {
		c.q.QueryType = Findings
		path, err := c.q.Channel()
		if err != nil || path != c.path {
			t.Errorf("%+v: channel %q (%v), want %q", c.q, path, err, c.path)
			continue
		}
		back, err := ParseChannel(path)
		if err != nil || !reflect.DeepEqual(back, c.q) {
			t.Errorf("ParseChannel(%q) = %+v (%v), want %+v", path, back, err, c.q)
		}
	}
	if _, err := (Query{Zones: []string{"Zone 2 (BPCS)"}}).Channel(); err == nil || !strings.Contains(err.Error(), `the zone "Zone 2 (BPCS)" has characters`) {
		t.Errorf("a zone with spaces: %v", err)
	}
	if _, err := (Query{Zones: []string{strings.Repeat("Z", 60), strings.Repeat("Y", 60)}}).Channel(); err == nil || !strings.Contains(err.Error(), "more than a live channel can carry") {
		t.Errorf("long filters: %v", err)
	}
	for path, msg := range map[string]string{
		"events":                          "not a findings channel",
		"findings/urgent":                 `"urgent" is not a severity`,
		"findings/color=red":              `segment "color=red" is not one of`,
		"findings/zone=Z2/severity=high":  "zone comes after severity",
		"findings/severity=":              `segment "severity=" is not one of`,
		"findings/severity=high/critical": `segment "critical" is not one of`,
	} {
		if _, err := ParseChannel(path); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseChannel(%q): %v, want %q", path, err, msg)
		}
	}
}

func TestMatches(t *testing.T) {
	f := &event.Finding{Severity: event.SeverityHigh, Type: "violation", Site: "unit-3", SrcZone: "Z3-OPS", DstZone: "Z2-BPCS", Conduit: "C1-BPCS-OPS"}
	for _, c := range []struct {
		q    Query
		want bool
	}{
		{Query{}, true},
		{Query{Severities: []string{"critical", "high"}, Zones: []string{"Z2-BPCS"}, Conduits: []string{"C1-BPCS-OPS"}, Sites: []string{"unit-3"}, Types: []string{"violation"}}, true},
		{Query{Severities: []string{"critical"}}, false},
		{Query{Zones: []string{"Z4-DMZ"}}, false},
		{Query{Types: []string{"scan"}}, false},
		{Query{Conduits: []string{"C2-OPS-DMZ"}}, false},
		{Query{Sites: []string{"unit-4"}}, true}, // sites filter traffic, not findings
	} {
		if got := c.q.Matches(f); got != c.want {
			t.Errorf("%+v matches: %v, want %v", c.q, got, c.want)
		}
	}
	f.SetAttr("absorbed_by", "0123")
	if (Query{}).Matches(f) {
		t.Error("an absorbed finding matched")
	}
}

// FuzzParse: any bytes give a query or an error, never a panic; a valid
// findings query's channel, when it has one, reads back as its filters.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"queryType":"findings","zones":["Z2-BPCS,Z3-OPS"],"severities":["high"]}`))
	f.Add([]byte(`{"queryType":"conduit","conduit":"C1"}`))
	f.Add([]byte(`{"queryType":"topology","sites":["a","b"],"limit":5}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		q, err := Parse(raw)
		if err != nil {
			return
		}
		q.QueryType, q.Conduit, q.Limit, q.Sites = Findings, "", 0, nil
		path, err := q.Channel()
		if err != nil {
			return
		}
		back, err := ParseChannel(path)
		if err != nil || !reflect.DeepEqual(back.filters(), q.filters()) {
			t.Errorf("channel %q of %+v reads back as %+v (%v)", path, q, back, err)
		}
	})
}

// FuzzParseChannel: any path gives filters or an error, never a panic.
func FuzzParseChannel(f *testing.F) {
	f.Add("findings/critical")
	f.Add("findings/severity=high/zone=Z2/conduit=C1")
	f.Fuzz(func(t *testing.T, path string) {
		q, err := ParseChannel(path)
		if err == nil && q.QueryType != Findings {
			t.Errorf("%q: query type %q", path, q.QueryType)
		}
	})
}
