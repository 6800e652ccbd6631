package accesslog

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/apigw/apigw/dataplane"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

// Member health states (GetChannelHealth).
const (
	MemberHealthy   = "healthy"
	MemberDegraded  = "degraded"
	MemberUnhealthy = "unhealthy"
	MemberNoTraffic = "no_traffic"
)

// memberSpan is the span member health covers, in one-minute buckets.
const (
	memberBuckets = 5
	memberWindow  = "5m"
)

// memberFailureFlags are the Envoy response flags that count a call as a
// failure of the member it was sent to.
var memberFailureFlags = []string{"UF", "UT", "UR", "UC", "URX", "UMSDR"}

// MembersOptions bound what Members tracks.
type MembersOptions struct {
	// MaxPerInstance is the number of (channel, address) pairs tracked per
	// instance (default 2000); calls to further ones are not counted.
	MaxPerInstance int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Members keeps, per channel member address, how the calls the Envoys
// sent to it ended over the last five minutes: the passive health that
// GetChannelHealth reports. It is an access-log Sink, safe for concurrent
// use.
type Members struct {
	opts MembersOptions

	mu    sync.Mutex
	hosts map[memberKey]*memberStats
	count map[string]int
}

type memberKey struct{ instance, channel, address string }

type memberStats struct {
	// buckets are per minute, indexed by minute % memberBuckets.
	buckets            [memberBuckets]memberBucket
	lastCall, lastFail time.Time
	lastReason         string
	lastCallFailed     bool
}

type memberBucket struct {
	minute          int64
	calls, failures int64
}

// NewMembers returns an empty Members.
func NewMembers(opts MembersOptions) *Members {
	if opts.MaxPerInstance <= 0 {
		opts.MaxPerInstance = 2000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Members{opts: opts, hosts: map[memberKey]*memberStats{}, count: map[string]int{}}
}

// Add counts a record whose request was sent to a channel member.
func (m *Members) Add(r *Record) {
	ch, ok := dataplane.ChannelOfCluster(r.UpstreamCluster)
	if !ok || r.UpstreamHost == "" {
		return
	}
	reason := failureReason(r)
	now := m.opts.Now()
	min := now.Unix() / 60
	k := memberKey{r.Instance, ch, r.UpstreamHost}
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.hosts[k]
	if s == nil {
		if m.count[k.instance] >= m.opts.MaxPerInstance {
			return
		}
		s = &memberStats{}
		m.hosts[k] = s
		m.count[k.instance]++
	}
	b := &s.buckets[min%memberBuckets]
	if b.minute != min {
		*b = memberBucket{minute: min}
	}
	b.calls++
	s.lastCall, s.lastCallFailed = now, reason != ""
	if reason != "" {
		b.failures++
		s.lastFail, s.lastReason = now, reason
	}
}

// failureReason is why a call counts as a failure of its member ("" for
// none): its upstream failure flags, or the status of a 5xx the member
// answered.
func failureReason(r *Record) string {
	var flags []string
	for _, f := range r.Flags {
		if slices.Contains(memberFailureFlags, f) {
			flags = append(flags, f)
		}
	}
	if len(flags) > 0 {
		return strings.Join(flags, ",")
	}
	if r.Status >= 500 && r.HasUpstream && r.ErrorCode == "" {
		return strconv.Itoa(r.Status)
	}
	return ""
}

// Channel returns the figures of the addresses of a channel that were
// called in the window, sorted by address (configured is left to the
// caller, which knows the channel's definition).
func (m *Members) Channel(instance, channelID string) []*adminv1.MemberHealth {
	cur := m.opts.Now().Unix() / 60
	var out []*adminv1.MemberHealth
	m.mu.Lock()
	for k, s := range m.hosts {
		if k.instance != instance || k.channel != channelID {
			continue
		}
		h := &adminv1.MemberHealth{Address: k.address, LastCall: timestamppb.New(s.lastCall), LastFailureReason: s.lastReason}
		if !s.lastFail.IsZero() {
			h.LastFailure = timestamppb.New(s.lastFail)
		}
		for _, b := range s.buckets {
			if cur-b.minute < memberBuckets {
				h.Calls += b.calls
				h.Failures += b.failures
			}
		}
		if h.Calls == 0 {
			continue
		}
		h.State = memberState(h.Calls, h.Failures, s.lastCallFailed)
		out = append(out, h)
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b *adminv1.MemberHealth) int { return strings.Compare(a.Address, b.Address) })
	return out
}

// memberState derives a state from the window's calls and failures.
func memberState(calls, failures int64, lastFailed bool) string {
	switch {
	case calls == 0:
		return MemberNoTraffic
	case failures == 0:
		return MemberHealthy
	case lastFailed && 2*failures >= calls:
		return MemberUnhealthy
	}
	return MemberDegraded
}

// Expire drops the addresses without calls in the window.
func (m *Members) Expire() {
	cur := m.opts.Now().Unix() / 60
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, s := range m.hosts {
		live := false
		for _, b := range s.buckets {
			if b.calls > 0 && cur-b.minute < memberBuckets {
				live = true
			}
		}
		if !live {
			delete(m.hosts, k)
			m.count[k.instance]--
		}
	}
}
