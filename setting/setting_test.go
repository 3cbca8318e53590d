package setting

import (
	"errors"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestUnderAndFields(t *testing.T) {
	err := errors.Join(Errorf("framing", "bad"), Under("tls", errors.Join(Errorf("key_file", "missing"), errors.New("plain"))), nil)
	got := Fields(Under("listeners[1]", err))
	want := []string{"listeners[1].framing: bad", "listeners[1].tls.key_file: missing", "listeners[1].tls: plain"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i, f := range got {
		if f.Error() != want[i] {
			t.Errorf("%d: %q, want %q", i, f.Error(), want[i])
		}
	}
	if Under("x", nil) != nil || Fields(nil) != nil {
		t.Error("nil must stay nil")
	}
	if p := Join("severities", "[new_pair]"); p != "severities[new_pair]" {
		t.Errorf("join %q", p)
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]ByteSize{"4096": 4096, "64KiB": 64 << 10, "1.5GiB": 3 << 29, "500MB": 500e6, "2 TB": 2e12, "-1": -1, "0": 0} {
		var b ByteSize
		if err := yaml.Unmarshal([]byte(in), &b); err != nil || b != want {
			t.Errorf("%q: %d %v, want %d", in, b, err, want)
		}
	}
	for _, in := range []string{"lots", "2 GiBs", "1e3", "[1]", "KiB"} {
		var b ByteSize
		err := yaml.Unmarshal([]byte(in), &b)
		var te *yaml.TypeError
		if !errors.As(err, &te) || !strings.Contains(err.Error(), "line 1: column 1: ") {
			t.Errorf("%q: %v, want a type error at line 1 column 1", in, err)
		}
	}
}

func TestPrefix(t *testing.T) {
	for in, want := range map[string]string{"10.30.1.60": "10.30.1.60/32", "10.100.0.0/16": "10.100.0.0/16", "fd00::1": "fd00::1/128", `""`: "invalid Prefix"} {
		var p Prefix
		if err := yaml.Unmarshal([]byte(in), &p); err != nil || p.String() != want {
			t.Errorf("%q: %v %v, want %s", in, p, err, want)
		}
	}
	for _, in := range []string{"10.0.0.0/33", "plc-1", "10.0.0", "{a: b}"} {
		var p Prefix
		if err := yaml.Unmarshal([]byte(in), &p); err == nil {
			t.Errorf("%q accepted as %v", in, p)
		}
	}
}

func TestCheckHostPort(t *testing.T) {
	for _, ok := range []string{"127.0.0.1:5514", ":6514", "[::1]:0", "0.0.0.0:65535", "127.0.0.1:syslog"} {
		if err := CheckHostPort(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"127.0.0.1", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:no-such-service", "::1:5514"} {
		if err := CheckHostPort(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestTLS(t *testing.T) {
	if err := (ServerTLS{}).Validate(false); err != nil {
		t.Errorf("no TLS: %v", err)
	}
	for _, c := range []struct {
		t    ServerTLS
		want string
	}{{ServerTLS{}, "TLS needs cert_file and key_file"}, {ServerTLS{CertFile: "c"}, "key_file: missing"},
		{ServerTLS{KeyFile: "k", ClientCAFile: "ca"}, "cert_file: missing"}} {
		if err := c.t.Validate(true); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %s", c.t, err, c.want)
		}
	}
	if err := (ClientTLS{KeyFile: "k"}).Validate(); err == nil || !strings.HasPrefix(err.Error(), "cert_file: missing") {
		t.Errorf("client key without certificate: %v", err)
	}
	if tc, err := (ClientTLS{}).Load(false); tc != nil || err != nil {
		t.Errorf("no client TLS: %v %v", tc, err)
	}
	if tc, err := (ClientTLS{}).Load(true); tc == nil || err != nil || tc.RootCAs != nil {
		t.Errorf("TLS with the system roots: %v %v", tc, err)
	}
	_, err := ClientTLS{CAFile: "/no/such/ca.pem"}.Load(false)
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Path != "ca_file" {
		t.Errorf("missing CA file: %v, want an error at ca_file", err)
	}
}

// FuzzValues: no input makes a size or prefix panic, and what is accepted
// reads back the same way.
func FuzzValues(f *testing.F) {
	for _, s := range []string{"64KiB", "1.5GiB", "-1", "10.0.0.0/8", "fd00::/64", "10.30.1.60", "", "1e309GiB", "::ffff:10.0.0.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := &yaml.Node{Kind: yaml.ScalarNode, Value: s, Line: 1, Column: 1}
		var b ByteSize
		_ = b.UnmarshalYAML(n)
		var p Prefix
		if err := p.UnmarshalYAML(n); err == nil && s != "" {
			q, err := ParsePrefix(p.String())
			if err != nil || q != p {
				t.Errorf("%q read as %v, which reads back as %v %v", s, p, q, err)
			}
		}
	})
}
