package dataplane

// The rate-limit descriptor scheme shared by the xDS translator (route
// rate-limit actions) and the rate-limit service.
//
// Every descriptor is [instance, api, env, dim] plus, for dimensions with a
// subject, one subject entry:
//
//	instance=<name> api_id=<id> env_id=<id> dim=api
//	instance=<name> api_id=<id> env_id=<id> dim=user  account_id=<account>
//	instance=<name> api_id=<id> env_id=<id> dim=app   app_id=<app id>
//	instance=<name> api_id=<id> env_id=<id> dim=ip    client_ip=<ip>
//	instance=<name> api_id=<id> env_id=<id> dim=app_quota app_id=<app id>
//	instance=<name> api_id=<id> env_id=<id> dim=rule  rule=<rule name>
//
// The rule descriptor exists on APIs with a rate_limit plug-in that has
// rules: ext_authz evaluates the rules' expressions and names the first
// matching rule in its dynamic metadata (ExtAuthzMetaRateLimitRule); no
// rule matching, no descriptor.
//
// Subjects come from ext_authz's dynamic metadata (ExtAuthzMeta*); when a
// subject is absent Envoy drops that descriptor, so e.g. app limits only
// apply to calls with an authenticated app. Descriptors the service does
// not recognise are answered OK.

// RateLimitDomain is the RateLimit filter domain.
const RateLimitDomain = "apigw"

// Entry keys.
const (
	RateLimitKeyInstance = "instance"
	RateLimitKeyAPI      = "api_id"
	RateLimitKeyEnv      = "env_id"
	RateLimitKeyDim      = "dim"
	RateLimitKeyAccount  = "account_id"
	RateLimitKeyApp      = "app_id"
	RateLimitKeyClientIP = "client_ip"
	RateLimitKeyRule     = "rule"
)

// Dimensions (values of RateLimitKeyDim).
const (
	RateLimitDimAPI  = "api"
	RateLimitDimUser = "user"
	RateLimitDimApp  = "app"
	RateLimitDimIP   = "ip"
	// RateLimitDimRule is the limit of the rate_limit plug-in's rule
	// matched by the request.
	RateLimitDimRule     = "rule"
	RateLimitDimAppQuota = "app_quota"
	// RateLimitDimDebugDomain counts the calls through a group's debug
	// sub-domain (per group and day).
	RateLimitDimDebugDomain = "debug_domain"
)

// RateLimitDims returns the dimensions in evaluation order (api, user,
// app, ip, the rate_limit plug-in's rule; then the credential quota and
// the debug sub-domain's daily calls; docs/apig-semantics.md#throttling).
// The result is a value: callers cannot change the order seen by others.
func RateLimitDims() [7]string {
	return [...]string{RateLimitDimAPI, RateLimitDimUser, RateLimitDimApp, RateLimitDimIP, RateLimitDimRule, RateLimitDimAppQuota, RateLimitDimDebugDomain}
}

// RateLimitSubjectKey returns the entry key holding a dimension's subject
// ("" for RateLimitDimAPI).
func RateLimitSubjectKey(dim string) string {
	switch dim {
	case RateLimitDimUser:
		return RateLimitKeyAccount
	case RateLimitDimApp, RateLimitDimAppQuota:
		return RateLimitKeyApp
	case RateLimitDimIP:
		return RateLimitKeyClientIP
	case RateLimitDimRule:
		return RateLimitKeyRule
	}
	return ""
}

// RateLimitDescriptor is one descriptor of the scheme in structured form.
type RateLimitDescriptor struct {
	Instance string
	API      string
	Env      string
	Dim      string
	// Subject is the account id, app id, client IP or rule name of
	// dimensions that have one (RateLimitSubjectKey(Dim)).
	Subject string
}

// RateLimitEntry is one descriptor entry.
type RateLimitEntry struct{ Key, Value string }

// Entries returns d's entries in the order the translator's actions
// produce them: instance, api_id, env_id, dim, then the subject if any.
func (d RateLimitDescriptor) Entries() []RateLimitEntry {
	out := []RateLimitEntry{{RateLimitKeyInstance, d.Instance}, {RateLimitKeyAPI, d.API}, {RateLimitKeyEnv, d.Env}, {RateLimitKeyDim, d.Dim}}
	if k := RateLimitSubjectKey(d.Dim); k != "" {
		out = append(out, RateLimitEntry{k, d.Subject})
	}
	return out
}
