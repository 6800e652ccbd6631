package quota

import (
	"time"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/gwresp"
)

// pluginLimit is the limit of a rate_limit plug-in (Request Throttling
// 2.0, docs/plugins.md#rate_limit) for a descriptor: api, user, app and
// ip per the plug-in's default period (0 and -1: not limited), specials
// replacing the user and app limits, and the limit of the rule ext_authz
// matched. The counters of scope basic are the API's (as with an
// exclusive policy), those of scope share the plug-in's.
func (s *Scope) pluginLimit(d *dataplane.RateLimitDescriptor, key []byte) (Limit, []byte, bool) {
	if !s.served || (d.Dim != dataplane.RateLimitDimAPI && d.Subject == "") {
		return Limit{}, key, false
	}
	rl := s.rl
	l := Limit{Dim: d.Dim, Name: rl.Name, Interval: rl.Interval, Unit: rl.Unit, Error: gwresp.ErrThrottled}
	var n int32
	switch d.Dim {
	case dataplane.RateLimitDimAPI:
		n = rl.API
	case dataplane.RateLimitDimUser:
		n = rl.User
		if v, ok := rl.Special(model.RateLimitSpecialUser, d.Subject); ok {
			n, l.Special = v, true
		}
	case dataplane.RateLimitDimApp:
		n = rl.App
		if v, ok := rl.Special(model.RateLimitSpecialApp, d.Subject); ok {
			n, l.Special = v, true
		}
	case dataplane.RateLimitDimIP:
		n = rl.IP
	case dataplane.RateLimitDimRule:
		r := rl.Rule(d.Subject)
		if r == nil {
			return Limit{}, key, false // a rule renamed or removed since ext_authz matched it
		}
		n, l.Interval, l.Unit = r.Limit, r.Interval, r.Unit
		l.Name = rl.Name + "/" + r.Name
	}
	if n <= 0 {
		return Limit{}, key, false
	}
	l.Requests = uint64(n)
	l.Period = time.Duration(l.Interval) * time.Duration(model.UnitSeconds(l.Unit)) * time.Second
	key = append(s.appendPrefix(key), d.Dim...)
	if d.Dim != dataplane.RateLimitDimAPI {
		key = append(append(key, '/'), d.Subject...)
	}
	return l, key, true
}
