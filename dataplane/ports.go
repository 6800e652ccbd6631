package dataplane

// Ports reserved for the components. The translator points Envoy's
// apigw.extauth and apigw.ratelimit clusters at PortExtAuth and
// PortRateLimit on loopback unless told other addresses.
const (
	PortXDS       = 18000
	PortExtAuth   = 18001
	PortRateLimit = 18002
	PortAdmin     = 18003
	PortOps       = 18004
)
