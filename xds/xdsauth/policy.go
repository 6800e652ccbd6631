package xdsauth

import (
	"bufio"
	"bytes"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/apigw/apigw/dataplane"
)

// Policy decides whether an Envoy with the given identities may subscribe
// to an instance.
type Policy interface {
	Allows(ids []string, instance string) bool
}

// Convention is the Policy used without an identities file: an identity
// spiffe://<any trust domain>/apigw/envoy/<instance> is allowed that
// instance and nothing else. The trust domain is whatever the client CA
// vouches for.
type Convention struct{}

// Allows implements Policy.
func (Convention) Allows(ids []string, instance string) bool {
	for _, id := range ids {
		u, err := url.Parse(id)
		if err != nil || u.Scheme != "spiffe" || u.Host == "" {
			continue
		}
		if name, ok := strings.CutPrefix(u.Path, dataplane.EnvoyIdentityPrefix); ok && name == instance {
			return true
		}
	}
	return false
}

// Rules is a parsed identities file: one rule a line,
//
//	<identity> <instance>[,<instance>...]
//
// where identity is a SAN URI (spiffe://apigw.local/apigw/envoy/default) or
// a DNS SAN (envoy-0.gw.example.com), and may end with * to match every
// identity that starts with the rest; an instance * allows every instance.
// Blank lines and lines starting with # are ignored. An identity that no
// rule matches may subscribe to nothing.
type Rules struct{ rules []rule }

type rule struct {
	id        string
	prefix    bool
	instances []string
}

// ParseRules parses an identities file; errors name the line.
func ParseRules(data []byte) (*Rules, error) {
	r := &Rules{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			return nil, fmt.Errorf("line %d: want <identity> <instance>[,<instance>...], got %q", n, line)
		}
		ru := rule{id: fields[0]}
		if p, ok := strings.CutSuffix(ru.id, "*"); ok {
			ru.id, ru.prefix = p, true
		}
		for _, f := range fields[1:] {
			for _, inst := range strings.Split(f, ",") {
				if inst = strings.TrimSpace(inst); inst != "" {
					ru.instances = append(ru.instances, inst)
				}
			}
		}
		if len(ru.instances) == 0 {
			return nil, fmt.Errorf("line %d: no instance for %s", n, fields[0])
		}
		r.rules = append(r.rules, ru)
	}
	return r, sc.Err()
}

// Allows implements Policy.
func (r *Rules) Allows(ids []string, instance string) bool {
	for _, ru := range r.rules {
		for _, id := range ids {
			if id == ru.id || ru.prefix && strings.HasPrefix(id, ru.id) {
				for _, inst := range ru.instances {
					if inst == "*" || inst == instance {
						return true
					}
				}
			}
		}
	}
	return false
}

// File is a Policy read from an identities file and read again when the
// file changes (checked on a new stream, at most once per interval). A
// change that does not parse is logged and the previous rules stay.
type File struct {
	path     string
	log      *slog.Logger
	interval time.Duration

	mu      sync.Mutex
	raw     []byte
	rules   *Rules
	checked time.Time
	bad     string // the last failure logged
}

// NewFile reads the identities file at path.
func NewFile(path string, log *slog.Logger, interval time.Duration) (*File, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rules, err := ParseRules(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &File{path: path, log: log, interval: interval, raw: raw, rules: rules, checked: time.Now()}, nil
}

// Allows implements Policy.
func (f *File) Allows(ids []string, instance string) bool {
	return f.current().Allows(ids, instance)
}

func (f *File) current() *Rules {
	f.mu.Lock()
	defer f.mu.Unlock()
	if time.Since(f.checked) < f.interval {
		return f.rules
	}
	f.checked = time.Now()
	raw, err := os.ReadFile(f.path)
	if err == nil && bytes.Equal(raw, f.raw) {
		return f.rules
	}
	var rules *Rules
	if err == nil {
		rules, err = ParseRules(raw)
	}
	if err != nil {
		if key := err.Error() + "\x00" + string(raw); key != f.bad {
			f.bad = key
			f.log.Error("identities file changed but does not load; keeping the previous rules", "file", f.path, "err", err)
		}
		return f.rules
	}
	f.raw, f.rules = raw, rules
	f.log.Info("identities file reloaded", "file", f.path, "rules", len(rules.rules))
	return f.rules
}
