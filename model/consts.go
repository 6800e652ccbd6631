package model

import "slices"

// Enumerated values of the resource fields, as APIG spells them.
const (
	// Built-in objects.
	DefaultInstance = "default"
	ReleaseEnvID    = "DEFAULT_ENVIRONMENT_RELEASE_ID"
	ReleaseEnvName  = "RELEASE"
	DefaultResponse = "default"

	ProtoHTTP  = "HTTP"
	ProtoHTTPS = "HTTPS"
	ProtoBoth  = "BOTH"

	MethodAny = "ANY"

	MatchNormal = "NORMAL"
	MatchPrefix = "SWA"

	AuthNone       = "NONE"
	AuthApp        = "APP"
	AuthIAM        = "IAM"
	AuthAuthorizer = "AUTHORIZER"

	AppCodeDisable = "DISABLE"
	AppCodeHeader  = "HEADER"

	BackendHTTP     = "HTTP"
	BackendFunction = "FUNCTION"
	BackendMock     = "MOCK"

	LocPath   = "PATH"
	LocQuery  = "QUERY"
	LocHeader = "HEADER"
	LocCookie = "COOKIE"

	TypeString = "STRING"
	TypeNumber = "NUMBER"

	OriginRequest  = "REQUEST"
	OriginConstant = "CONSTANT"
	OriginSystem   = "SYSTEM"

	SysParamInternal = "internal"
	SysParamFrontend = "frontend"
	SysParamBackend  = "backend"

	Yes = 1
	No  = 2

	ChannelOn  = 1
	ChannelOff = 2
	// ChannelReference is the type of a channel whose member groups point
	// at other channels.
	ChannelReference = "reference"
	// ChannelMemberGroups calls the channel's member groups, each with its
	// own URL (member_group_url_infos).
	ChannelMemberGroups = 4

	EffectAny = "ANY"
	EffectAll = "ALL"

	CondParam              = "param"
	CondSource             = "source"
	CondSystem             = "system"
	CondCookie             = "cookie"
	CondFrontendAuthorizer = "frontend_authorizer"

	CondExact   = "exact"
	CondEnum    = "enum"
	CondPattern = "pattern"

	UnitSecond = "SECOND"
	UnitMinute = "MINUTE"
	UnitHour   = "HOUR"
	UnitDay    = "DAY"

	ThrottleExclusive = 1
	ThrottleShared    = 2

	SpecialApp  = "APP"
	SpecialUser = "USER"

	ACLPermit = "PERMIT"
	ACLDeny   = "DENY"

	EntityIP       = "IP"
	EntityDomain   = "DOMAIN"
	EntityDomainID = "DOMAIN_ID"

	AuthorizerFrontend = "FRONTEND"
	AuthorizerBackend  = "BACKEND"

	TLS11 = "TLSv1.1"
	TLS12 = "TLSv1.2"

	StrategyWRR     = 1
	StrategyWLC     = 2
	StrategySrcHash = 3
	StrategyURIHash = 4
)

// methods are the HTTP methods an API may declare (besides ANY).
var methods = [...]string{"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"}

// Methods returns the HTTP methods an API may declare (besides ANY), in a
// new slice.
func Methods() []string { return slices.Clone(methods[:]) }

// IsMethod reports whether an API may declare m (besides ANY).
func IsMethod(m string) bool { return slices.Contains(methods[:], m) }

// systemParams are the $context variables usable as SYSTEM backend
// parameters (docs/apig-semantics.md#system-parameters), by their short
// names.
var systemParams = [...]string{
	"sourceIp", "stage", "apiId", "appId", "requestId", "serverAddr", "serverName",
	"handleTime", "providerAppId", "apiName", "appName", "member_group_name", "member_group_id",
}

// Response types of gateway responses and their default HTTP status
// (docs/apig-semantics.md#gateway-responses). 0 keeps the underlying
// status.
var responseTypes = map[string]int32{
	"ACCESS_DENIED":                     403,
	"AUTH_FAILURE":                      401,
	"AUTH_HEADER_MISSING":               401,
	"AUTHORIZER_FAILURE":                500,
	"AUTHORIZER_CONF_FAILURE":           500,
	"AUTHORIZER_IDENTITIES_FAILURE":     401,
	"BACKEND_UNAVAILABLE":               502,
	"BACKEND_TIMEOUT":                   504,
	"THROTTLED":                         429,
	"UNAUTHORIZED":                      401,
	"NOT_FOUND":                         404,
	"REQUEST_PARAMETERS_FAILURE":        400,
	"DEFAULT_4XX":                       0,
	"DEFAULT_5XX":                       0,
	"THIRD_AUTH_FAILURE":                401,
	"THIRD_AUTH_IDENTITIES_FAILURE":     401,
	"THIRD_AUTH_CONF_FAILURE":           500,
	"JWT_AUTH_FAILURE":                  401,
	"OIDC_AUTH_CODE_FLOW_FAIL":          401,
	"OIDC_AUTH_TOKEN_VERIFY_FAIL":       401,
	"OIDC_AUTH_GET_DISCOVERY_ERROR":     500,
	"ORCHESTRATION_PARAMETER_NOT_FOUND": 400,
	"ORCHESTRATION_FAILURE":             400,
}

// unrenderedTypes are APIG gateway-response types apigw knows but never
// renders: Envoy's oauth2 filter (oidc_auth plug-ins) answers its own
// failures, and apigw has no OpenID discovery nor ID-token verification
// (docs/plugins.md#oidc_auth). A response set cannot customize them.
var unrenderedTypes = map[string]string{
	"OIDC_AUTH_CODE_FLOW_FAIL":      "Envoy's oauth2 filter answers a failed code flow itself (401 \"OAuth flow failed.\")",
	"OIDC_AUTH_TOKEN_VERIFY_FAIL":   "apigw's oidc_auth does not verify ID tokens",
	"OIDC_AUTH_GET_DISCOVERY_ERROR": "apigw's oidc_auth has no OpenID discovery",
}

// ResponseType returns the default HTTP status of a gateway-response type
// (0: the underlying status is kept) and whether the type exists.
func ResponseType(typ string) (status int32, ok bool) {
	status, ok = responseTypes[typ]
	return status, ok
}

// UnitSeconds returns the length of a time unit in seconds (0 if unknown).
func UnitSeconds(unit string) int64 {
	switch unit {
	case UnitSecond:
		return 1
	case UnitMinute:
		return 60
	case UnitHour:
		return 3600
	case UnitDay:
		return 86400
	}
	return 0
}
