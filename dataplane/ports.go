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
