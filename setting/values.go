package setting

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ByteSize is a size in bytes, written as a number or with a unit: 64KiB,
// 512MiB, 2GiB, 1TiB (powers of 1024), 500KB, 2GB (powers of 1000, as in
// IEC 80000-13).
type ByteSize int64

var sizeRE = regexp.MustCompile(`^\s*(-?[0-9]+(?:\.[0-9]+)?)\s*([KMGT]i?B|B)?\s*$`)

var sizeUnits = map[string]float64{"": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
	"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}

// UnmarshalYAML reads a size.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	m := sizeRE.FindStringSubmatch(n.Value)
	if n.Kind != yaml.ScalarNode || m == nil {
		return NodeError(n, "cannot read %q as a size: want bytes, or a number with B, KiB, MiB, GiB, TiB, KB, MB, GB or TB", n.Value)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	*b = ByteSize(v * sizeUnits[m[2]])
	return nil
}

// Prefix is an address prefix written as CIDR (10.100.0.0/16, fd00::/64)
// or as one address (10.30.1.60, the /32 or /128 prefix holding it). The
// zero Prefix, from an empty value, matches nothing and means "any" where
// a setting says so.
type Prefix struct{ netip.Prefix }

// ParsePrefix reads a prefix as Prefix's UnmarshalYAML does.
func ParsePrefix(s string) (Prefix, error) {
	if s == "" {
		return Prefix{}, nil
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return Prefix{p}, err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return Prefix{}, err
	}
	return Prefix{netip.PrefixFrom(a, a.BitLen())}, nil
}

// UnmarshalYAML reads a prefix or an address.
func (p *Prefix) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParsePrefix(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return NodeError(n, "%q is not an address or CIDR prefix such as 10.30.1.60 or 10.100.0.0/16", n.Value)
	}
	*p = v
	return nil
}

// CheckHostPort checks a listening address: host:port, the port a number
// from 0 to 65535 (0: any free port) or a service name; the host may be
// empty (every interface).
func CheckHostPort(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if strings.Trim(port, "0123456789") == "" {
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return fmt.Errorf("port %q is not a number from 0 to 65535", port)
		}
		return nil
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("port %q is not a number from 0 to 65535 or a service name", port)
	}
	return nil
}

// Positive sets *v to def unless it is positive: the stages' reading of a
// zero (or, where no meaning is given to it, negative) setting as "the
// default".
func Positive[T int | int64 | time.Duration | ByteSize](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
