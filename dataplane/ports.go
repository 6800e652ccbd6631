package dataplane

// Ports reserved for the components. The translator points Envoy's
// apigw.extauth, apigw.ratelimit and apigw.accesslog clusters at
// PortExtAuth, PortRateLimit and PortAccessLog on loopback unless told
// other addresses.
const (
	PortXDS       = 18000
	PortExtAuth   = 18001
	PortRateLimit = 18002
	PortAdmin     = 18003
	PortOps       = 18004
	// PortAccessLog serves Envoy's gRPC AccessLogService.
	PortAccessLog = 18005
	// PortConsole serves the web console (Envoy never calls it).
	PortConsole = 18006
)

// PortFunctions serves the function component: Envoy routes FUNCTION
// backends to it over HTTP (cluster apigw.functions).
const PortFunctions = 18007

// PortBreakers serves the breaker-only access-log sink of the sidecar
// layout (component breakers): Envoy streams its access log to it on
// loopback as well, so that the sidecar's ext_authz decides breakers for
// its own node (cluster apigw.breakers).
const PortBreakers = 18008

// Request headers Envoy's routes to apigw.functions set (overwriting any
// the client sent): which instance, API and environment the call is for,
// and which of the API's FUNCTION backends serves it: the name of the
// FUNCTION policy backend (policy_functions) whose route ext_authz or the
// route's own match selected, or empty for the default backend
// (func_info).
const (
	FunctionInstanceHeader = "x-apigw-function-instance"
	FunctionAPIHeader      = "x-apigw-function-api"
	FunctionEnvHeader      = "x-apigw-function-env"
	FunctionPolicyHeader   = "x-apigw-function-policy"
)
