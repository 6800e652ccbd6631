package dataplane

// The debug latency headers: the HTTP filter the translator adds answers
// requests carrying DebugLatencyModeHeader with value DebugLatencyModeValue
// (ignoring case) with the gateway latency until the backend's response
// headers (DebugLatencyHeader) and the backend's own part of it
// (DebugLatencyUpstreamHeader), in milliseconds
// (docs/apig-semantics.md#debug-headers).
const (
	DebugLatencyModeHeader     = "x-apig-mode"
	DebugLatencyModeValue      = "debug"
	DebugLatencyHeader         = "X-Apig-Latency"
	DebugLatencyUpstreamHeader = "X-Apig-Upstream-Latency"
)
