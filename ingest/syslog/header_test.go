package syslog

import (
	"strings"
	"testing"
	"time"

	"github.com/leodido/go-syslog/v4/rfc3164"
)

var recv = time.Date(2026, 4, 15, 13, 40, 0, 0, time.UTC)

func TestParse(t *testing.T) {
	p := NewParser(Config{})
	type want struct {
		format   Format
		pri      int // -1: none
		time     string
		host     string
		app, pid string
		body     string
	}
	for _, tc := range []struct {
		in string
		want
	}{
		{`<164>Apr 15 09:36:50 isa3000-c1 %ASA-4-106023: Deny tcp src zone-ops:10.30.1.50/51234 dst zone-bpcs:10.20.1.10/502`,
			want{FormatRFC3164, 164, "2026-04-15T09:36:50Z", "isa3000-c1", "", "", "%ASA-4-106023: Deny tcp src zone-ops:10.30.1.50/51234 dst zone-bpcs:10.20.1.10/502"}},
		{`<166>Apr 15 2013 09:36:50 EDT: %ASA-6-302013: Built`,
			want{FormatRFC3164, 166, "2013-04-15T13:36:50Z", "", "", "", "%ASA-6-302013: Built"}},
		{`<166>Apr 15 2013 09:36:50.123 CEST: %ASA-6-302013: Built`,
			want{FormatRFC3164, 166, "2013-04-15T07:36:50.123Z", "", "", "", "%ASA-6-302013: Built"}},
		{`<166>Apr 15 2013 09:36:50 isa3000-c1 : %ASA-6-302013: Built`,
			want{FormatRFC3164, 166, "2013-04-15T09:36:50Z", "isa3000-c1", "", "", "%ASA-6-302013: Built"}},
		{`<166>Apr 15 2013 09:36:50: %FTD-6-430003: DeviceUUID: x`,
			want{FormatRFC3164, 166, "2013-04-15T09:36:50Z", "", "", "", "%FTD-6-430003: DeviceUUID: x"}},
		{`<166>Apr 15 2013 09:36:50 isa3000-c1: %ASA-6-302013: Built`,
			want{FormatRFC3164, 166, "2013-04-15T09:36:50Z", "isa3000-c1", "", "", "%ASA-6-302013: Built"}},
		{`<164>%ASA-4-106023: Deny tcp`,
			want{FormatRFC3164, 164, "", "", "", "", "%ASA-4-106023: Deny tcp"}},
		{`<166>isa3000-c1 : %ASA-6-302013: Built`,
			want{FormatRFC3164, 166, "", "isa3000-c1", "", "", "%ASA-6-302013: Built"}},
		{`%ASA-4-106023: Deny tcp`,
			want{FormatNone, -1, "", "", "", "", "%ASA-4-106023: Deny tcp"}},
		{`<189>date=2026-04-15 time=09:36:50 devname="fgr-c2" logid="0000000013"`,
			want{FormatRFC3164, 189, "", "", "", "", `date=2026-04-15 time=09:36:50 devname="fgr-c2" logid="0000000013"`}},
		{`date=2026-04-15 time=09:36:50 devname=fgr-c2 logid=0000000013`,
			want{FormatNone, -1, "", "", "", "", `date=2026-04-15 time=09:36:50 devname=fgr-c2 logid=0000000013`}},
		{`<189>Apr 15 09:36:50 fgr-c2 date=2026-04-15 time=09:36:50`,
			want{FormatRFC3164, 189, "2026-04-15T09:36:50Z", "fgr-c2", "", "", `date=2026-04-15 time=09:36:50`}},
		{`<14>Apr 15 09:36:50 pa-c3 1,2026/04/15 09:36:50,012801000001,TRAFFIC,end`,
			want{FormatRFC3164, 14, "2026-04-15T09:36:50Z", "pa-c3", "", "", `1,2026/04/15 09:36:50,012801000001,TRAFFIC,end`}},
		{`<134>2026-04-15T09:36:50.123456+02:00 ids-z2 suricata[2211]: {"event_type":"alert"}`,
			want{FormatRFC3164, 134, "2026-04-15T07:36:50.123456Z", "ids-z2", "suricata", "2211", `{"event_type":"alert"}`}},
		{`2026-04-15T09:36:50Z ids-z3 zeek: {"_path":"conn"}`,
			want{FormatRFC3164, -1, "2026-04-15T09:36:50Z", "ids-z3", "zeek", "", `{"_path":"conn"}`}},
		{"\xef\xbb\xbf<14>Apr  5 09:36:50 diode-rx diode[7]: \xef\xbb\xbfdiode=DMZ-DD-01 side=rx\r\n",
			want{FormatRFC3164, 14, "2026-04-05T09:36:50Z", "diode-rx", "diode", "7", "diode=DMZ-DD-01 side=rx"}},
		{`<13>Apr 15 09:36:50 su: 'su root' failed`,
			want{FormatRFC3164, 13, "2026-04-15T09:36:50Z", "", "su", "", "'su root' failed"}},
		{`<189>*Apr 15 09:36:50.5: %ASA-5-111008: cmd`,
			want{FormatRFC3164, 189, "2026-04-15T09:36:50.5Z", "", "", "", "%ASA-5-111008: cmd"}},
		{`<165>1 2026-04-15T09:36:50.003Z ids-z3 zeek 99 conn [meta@32473 site="refinery"] {"_path":"conn"}`,
			want{FormatRFC5424, 165, "2026-04-15T09:36:50.003Z", "ids-z3", "zeek", "99", `{"_path":"conn"}`}},
		{`{"timestamp":"2026-04-15T09:36:50.000000+0000","event_type":"flow"}`,
			want{FormatNone, -1, "", "", "", "", `{"timestamp":"2026-04-15T09:36:50.000000+0000","event_type":"flow"}`}},
		// EMBLEM: an empty sequence number, the zone name, no hostname
		// (cases/real-world/asa-message-class-emblem).
		{`<166>:Mar 03 10:15:22 EDT: %ASA-session-6-106100: access-list A permitted tcp`,
			want{FormatRFC3164, 166, "2026-03-03T14:15:22Z", "", "", "", "%ASA-session-6-106100: access-list A permitted tcp"}},
		// IOS/EMBLEM sequence numbers.
		{`<189>1234: *Mar  3 10:15:22.123 UTC: %SYS-5-CONFIG_I: Configured`,
			want{FormatRFC3164, 189, "2026-03-03T10:15:22.123Z", "", "", "", "%SYS-5-CONFIG_I: Configured"}},
		{`<189>000042: Mar  3 10:15:22 CET: %ASA-6-302013: Built`,
			want{FormatRFC3164, 189, "2026-03-03T09:15:22Z", "", "", "", "%ASA-6-302013: Built"}},
		// A relay's FACILITY.SEVERITY word, with and without a PRI.
		{`LOCAL4.WARNING: %ASA-4-106023: Deny tcp`,
			want{FormatRFC3164, 164, "", "", "", "", "%ASA-4-106023: Deny tcp"}},
		{`<134>Mar  3 10:15:22 relay-01 local4.warning: %ASA-4-106023: Deny tcp`,
			want{FormatRFC3164, 134, "2026-03-03T10:15:22Z", "relay-01", "", "", "%ASA-4-106023: Deny tcp"}},
		{"2026-03-03 10:15:22\tLocal4.Warning\t10.30.1.1\tMar 03 2026 10:15:22: %ASA-4-106023: Deny tcp",
			want{FormatRFC3164, 164, "2026-03-03T10:15:22Z", "10.30.1.1", "", "", "%ASA-4-106023: Deny tcp"}},
		// A relay's header in front of the device's own: the device's time
		// (with its zone) and hostname win.
		{`<164>Mar  3 10:15:25 relay-01 Mar 03 2026 10:15:22 EDT: %ASA-4-106023: Deny tcp`,
			want{FormatRFC3164, 164, "2026-03-03T14:15:22Z", "relay-01", "", "", "%ASA-4-106023: Deny tcp"}},
		{`<164>Mar  3 10:15:25 relay-01 Mar 03 2026 10:15:22 isa3000-c1 : %ASA-4-106023: Deny tcp`,
			want{FormatRFC3164, 164, "2026-03-03T10:15:22Z", "isa3000-c1", "", "", "%ASA-4-106023: Deny tcp"}},
		{`<164>1 2026-03-03T10:15:25Z relay-01 - - - - Mar 03 2026 10:15:22 CEST: %ASA-4-106023: Deny tcp`,
			want{FormatRFC5424, 164, "2026-03-03T08:15:22Z", "relay-01", "", "", "%ASA-4-106023: Deny tcp"}},
		// Hostnames that are not DNS names, before a Cisco message.
		{`<166>Mar 03 2026 10:15:22 FW#1(primary) : %ASA-6-302013: Built`,
			want{FormatRFC3164, 166, "2026-03-03T10:15:22Z", "FW#1(primary)", "", "", "%ASA-6-302013: Built"}},
		{`<166>Mar 03 2026 10:15:22 ctx/admin %ASA-6-302013: Built`,
			want{FormatRFC3164, 166, "2026-03-03T10:15:22Z", "ctx/admin", "", "", "%ASA-6-302013: Built"}},
		// An unknown zone name ending in ':' is not a hostname.
		{`<166>Mar 03 2026 10:15:22 XST: %ASA-6-302013: Built`,
			want{FormatRFC3164, 166, "2026-03-03T10:15:22Z", "", "", "", "%ASA-6-302013: Built"}},
		{`<166>Mar 03 2026 10:15:22 NZDT: %ASA-6-302013: Built`,
			want{FormatRFC3164, 166, "2026-03-02T21:15:22Z", "", "", "", "%ASA-6-302013: Built"}},
		// What rsyslog writes when it relays lines it read as RFC 3164: a
		// tag without its colon before JSON, the device's id after its own
		// hostname, and in RFC 5424 the message's first word as APP-NAME.
		{`<134>2026-10-02T08:00:06Z ids-z3 zeek {"_path":"conn"}`,
			want{FormatRFC3164, 134, "2026-10-02T08:00:06Z", "ids-z3", "zeek", "", `{"_path":"conn"}`}},
		{`<164>Mar  3 10:15:33 localhost ISA3000#C1/pri/act : %ASA-4-106023: Deny tcp`,
			want{FormatRFC3164, 164, "2026-03-03T10:15:33Z", "ISA3000#C1/pri/act", "", "", "%ASA-4-106023: Deny tcp"}},
		{`<164>1 2026-03-03T10:15:23+00:00 localhost %ASA-4-106023 - - -  Deny tcp src`,
			want{FormatRFC5424, 164, "2026-03-03T10:15:23Z", "localhost", "", "", "%ASA-4-106023 Deny tcp src"}},
		{`<134>1 2026-03-03T10:15:30+00:00 syslog-relay Mar - - -  03 2026 10:15:28 EST: %ASA-4-106023: Deny`,
			want{FormatRFC5424, 134, "2026-03-03T15:15:28Z", "syslog-relay", "", "", "%ASA-4-106023: Deny"}},
		{`<189>1 2026-11-29T10:26:28.735415+00:00 localhost date=2026-03-03 - - -  time=11:15:22 devname="fgr-c2"`,
			want{FormatRFC5424, 189, "2026-11-29T10:26:28.735415Z", "localhost", "", "", `date=2026-03-03 time=11:15:22 devname="fgr-c2"`}},
		{`<164>1 2026-03-03T10:15:33+00:00 localhost ISA3000#C1 - - -  : %ASA-4-106023: Deny`,
			want{FormatRFC5424, 164, "2026-03-03T10:15:33Z", "ISA3000#C1", "", "", "%ASA-4-106023: Deny"}},
		// An APP-NAME that is one stays.
		{`<14>1 2026-03-03T10:15:33Z pa-c1 panos - - - 1,2026/03/03 10:15:33,x,TRAFFIC`,
			want{FormatRFC5424, 14, "2026-03-03T10:15:33Z", "pa-c1", "panos", "", "1,2026/03/03 10:15:33,x,TRAFFIC"}},
		// PAN-OS's "-" for a nil TAG.
		{`<14>Mar  3 21:15:22 pa-c3 - 1,2026/03/03 21:15:22,013201000001,TRAFFIC,end`,
			want{FormatRFC3164, 14, "2026-03-03T21:15:22Z", "pa-c3", "", "", `1,2026/03/03 21:15:22,013201000001,TRAFFIC,end`}},
		// Not a PRI: the line is read as having no header.
		{`<999>Apr 15 09:36:50 h t: x`, want{FormatNone, -1, "", "", "", "", `<999>Apr 15 09:36:50 h t: x`}},
		{``, want{FormatNone, -1, "", "", "", "", ``}},
		{`<14>`, want{FormatRFC3164, 14, "", "", "", "", ``}},
	} {
		h := p.Parse(tc.in, recv)
		pri := -1
		if sev, ok := h.Severity(); ok {
			fac, _ := h.Facility()
			pri = int(fac)*8 + int(sev)
		}
		ts := ""
		if !h.Time.IsZero() {
			ts = h.Time.Format(time.RFC3339Nano)
		}
		got := want{h.Format, pri, ts, h.Hostname, h.AppName, h.ProcID, h.Body}
		if got != tc.want {
			t.Errorf("Parse(%q)\n got %+v\nwant %+v", tc.in, got, tc.want)
		}
	}
}

func TestStructuredData(t *testing.T) {
	h := NewParser(Config{}).Parse(`<165>1 2026-04-15T09:36:50.003Z ids-z3 zeek - conn [meta@32473 site="refinery"] x`, recv)
	if h.MsgID != "conn" || h.StructuredData["meta@32473"]["site"] != "refinery" || h.Body != "x" {
		t.Fatalf("got %+v", h)
	}
}

func TestYearInference(t *testing.T) {
	p := NewParser(Config{})
	for _, tc := range []struct {
		line string
		recv time.Time
		want string
	}{
		{`<14>Dec 31 23:59:58 h t: x`, time.Date(2027, 1, 1, 0, 0, 3, 0, time.UTC), "2026-12-31T23:59:58Z"},
		{`<14>Jan  1 00:00:02 h t: x`, time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), "2027-01-01T00:00:02Z"},
		{`<14>Jun  1 00:00:02 h t: x`, time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), "2026-06-01T00:00:02Z"},
		{`<14>Feb 29 12:00:00 h t: x`, time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC), "2028-02-29T12:00:00Z"},
	} {
		if got := p.Parse(tc.line, tc.recv).Time.Format(time.RFC3339); got != tc.want {
			t.Errorf("%s received %v: got %s want %s", tc.line, tc.recv, got, tc.want)
		}
	}
}

func TestLocation(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	p := NewParser(Config{Location: ny, Zones: map[string]*time.Location{"EDT": time.FixedZone("X", 3600)}})
	if got := p.Parse(`<14>Apr 15 09:36:50 h t: x`, recv).Time; !got.Equal(time.Date(2026, 4, 15, 13, 36, 50, 0, time.UTC)) {
		t.Errorf("local time: %v", got)
	}
	if got := p.Parse(`<14>Apr 15 2026 09:36:50 EDT: x`, recv).Time; !got.Equal(time.Date(2026, 4, 15, 8, 36, 50, 0, time.UTC)) {
		t.Errorf("overridden zone: %v", got)
	}
	// A zone name otsiem does not know is still a zone name, read in the
	// configured location: not a tag, not a hostname.
	if got := p.Parse(`<14>Apr 15 2026 09:36:50 XYZ: x`, recv); got.AppName != "" || got.Hostname != "" || got.Body != "x" ||
		!got.Time.Equal(time.Date(2026, 4, 15, 13, 36, 50, 0, time.UTC)) {
		t.Errorf("unknown zone name: %+v", got)
	}
	if got := p.Parse(`<14>Apr 15 09:36:50 h t: x`, recv).Location; got != ny {
		t.Errorf("header location %v", got)
	}
}

// TestAgreesWithLibrary checks the fast path against go-syslog's RFC 3164
// parser on plain RFC 3164 lines.
func TestAgreesWithLibrary(t *testing.T) {
	lib := rfc3164.NewParser(rfc3164.WithYear(rfc3164.Year{YYYY: 2026}))
	p := NewParser(Config{})
	for _, line := range []string{
		`<34>Apr 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8`,
		`<13>Feb  5 17:32:18 10.20.1.10 plc[42]: Use the BFG!`,
		`<189>Apr 15 09:36:50 fgr-c2 fortigate: date=2026-04-15 time=09:36:50`,
		`<14>Apr 15 09:36:50 ids-z2 suricata[2211]: {"event_type":"alert"}`,
		`<165>Mar 24 05:34:00 diode-tx.refinery.local heartbeat: seq=1`,
	} {
		m, err := lib.Parse([]byte(line))
		if err != nil {
			t.Fatalf("library rejects %q: %v", line, err)
		}
		lm := m.(*rfc3164.SyslogMessage)
		h := p.Parse(line, recv)
		if h.Hostname != *lm.Hostname || h.AppName != *lm.Appname || h.Body != *lm.Message ||
			!h.Time.Equal(*lm.Timestamp) || h.Priority != *lm.Priority || (lm.ProcID != nil && h.ProcID != *lm.ProcID) {
			t.Errorf("%q: ours %+v, library host=%s app=%s msg=%s ts=%v", line, h, *lm.Hostname, *lm.Appname, *lm.Message, lm.Timestamp)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`<166>Apr 15 2013 09:36:50 EDT: %ASA-6-302013: Built`, `<164>%ASA-4-106023: Deny`,
		`<134>2026-04-15T09:36:50.123456+02:00 ids-z2 suricata[2211]: {}`, "\xef\xbb\xbf<14>Apr  5 09:36:50 a b: c",
		`<165>1 2026-04-15T09:36:50.003Z ids-z3 zeek - conn [a@1 b="c"] x`, `<189>date=2026-04-15 time=09:36:50`,
		`<14>1,2026/04/15 09:36:50,x,TRAFFIC`, `*Apr 15 09:36:50.1234567891 h : x`,
	} {
		f.Add(s)
	}
	p := NewParser(Config{})
	f.Fuzz(func(t *testing.T, line string) {
		h := p.Parse(line, recv)
		if h.Format != FormatRFC5424 && !strings.Contains(line, h.Body) {
			t.Fatalf("body %q not part of %q", h.Body, line)
		}
		if len(h.Body) > len(line) {
			t.Fatalf("body longer than line")
		}
	})
}

var benchLines = []string{
	`<164>Apr 15 09:36:50 isa3000-c1 %ASA-4-106023: Deny tcp src zone-ops:10.30.1.50/51234 dst zone-bpcs:10.20.1.10/502 by access-group "OPS-to-BPCS" [0x8ed66b60, 0xf8852875]`,
	`<166>Apr 15 2026 09:36:50 EDT: %ASA-6-106100: access-list OPS-to-BPCS permitted tcp zone-ops/10.30.1.50(51234) -> zone-bpcs/10.20.1.10(502) hit-cnt 1 first hit [0x8ed66b60, 0x0]`,
}

func BenchmarkParse(b *testing.B) {
	p := NewParser(Config{})
	for i, line := range benchLines {
		b.Run([]string{"bsd", "cisco_year_tz"}[i], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = p.Parse(line, recv)
			}
		})
	}
	b.Run("library_rfc3164", func(b *testing.B) {
		lib := rfc3164.NewParser(rfc3164.WithYear(rfc3164.Year{YYYY: 2026}))
		in := []byte(benchLines[0])
		b.ReportAllocs()
		for b.Loop() {
			_, _ = lib.Parse(in)
		}
	})
	b.Run("rfc5424", func(b *testing.B) {
		line := `<165>1 2026-04-15T09:36:50.003Z ids-z3 zeek 99 conn [meta@32473 site="refinery"] {"_path":"conn"}`
		b.ReportAllocs()
		for b.Loop() {
			_ = p.Parse(line, recv)
		}
	})
}
