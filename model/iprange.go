package model

import (
	"fmt"
	"net/netip"
	"strings"
)

// IPRange is an inclusive range of addresses of one family. ACLs, credential
// ACLs and source conditions accept single IPs, CIDRs and "a-b" ranges.
type IPRange struct {
	From, To netip.Addr
}

// Contains reports whether ip is inside the range.
func (r IPRange) Contains(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.BitLen() == r.From.BitLen() && r.From.Compare(ip) <= 0 && ip.Compare(r.To) <= 0
}

// Prefixes returns the smallest set of CIDR prefixes covering the range
// (Envoy RBAC only speaks CIDR).
func (r IPRange) Prefixes() []netip.Prefix {
	var out []netip.Prefix
	from := r.From
	for from.Compare(r.To) <= 0 {
		bits := from.BitLen()
		// Largest aligned block starting at from that stays inside the range.
		size := bits
		for size > 0 {
			p := netip.PrefixFrom(from, size-1).Masked()
			if p.Addr() != from || lastAddr(p).Compare(r.To) > 0 {
				break
			}
			size--
		}
		p := netip.PrefixFrom(from, size)
		out = append(out, p)
		last := lastAddr(p)
		next := last.Next()
		if !next.IsValid() || next.Compare(last) <= 0 {
			break
		}
		from = next
	}
	return out
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().AsSlice()
	bits := p.Bits()
	for i := range a {
		for b := 0; b < 8; b++ {
			if i*8+b >= bits {
				a[i] |= 0x80 >> b
			}
		}
	}
	addr, _ := netip.AddrFromSlice(a)
	return addr
}

// ParseIPRange parses "1.2.3.4", "10.0.0.0/8" or "10.0.0.1-10.0.0.9".
func ParseIPRange(s string) (IPRange, error) {
	s = strings.TrimSpace(s)
	if from, to, ok := strings.Cut(s, "-"); ok {
		a, err1 := netip.ParseAddr(strings.TrimSpace(from))
		b, err2 := netip.ParseAddr(strings.TrimSpace(to))
		if err1 != nil || err2 != nil {
			return IPRange{}, fmt.Errorf("%q is not an address range a-b", s)
		}
		a, b = a.Unmap(), b.Unmap()
		if a.BitLen() != b.BitLen() || a.Compare(b) > 0 {
			return IPRange{}, fmt.Errorf("%q: range start must not exceed its end and both must be of one family", s)
		}
		return IPRange{From: a, To: b}, nil
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return IPRange{}, fmt.Errorf("%q is not a CIDR", s)
		}
		p = p.Masked()
		return IPRange{From: p.Addr().Unmap(), To: lastAddr(p).Unmap()}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return IPRange{}, fmt.Errorf("%q is not an IP address, CIDR or a-b range", s)
	}
	a = a.Unmap()
	return IPRange{From: a, To: a}, nil
}

// IPSet is a list of ranges.
type IPSet []IPRange

// ParseIPSet parses a list of entries (see ParseIPRange).
func ParseIPSet(entries []string) (IPSet, error) {
	set := make(IPSet, 0, len(entries))
	for _, e := range entries {
		if strings.TrimSpace(e) == "" {
			continue
		}
		r, err := ParseIPRange(e)
		if err != nil {
			return nil, err
		}
		set = append(set, r)
	}
	return set, nil
}

// Contains reports whether ip is in any range of the set.
func (s IPSet) Contains(ip netip.Addr) bool {
	for _, r := range s {
		if r.Contains(ip) {
			return true
		}
	}
	return false
}

// SplitList splits a comma-separated list, trimming blanks.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
