// Package dataplane is the contract between apigw's xDS translator and the
// services Envoy calls at request time: what the translator writes into
// Envoy's configuration and what ext_authz, the rate-limit service and the
// access-log service read or answer. The translator, ext_authz, the
// rate-limit service and the access-log service depend on this package and
// not on each other.
//
// Names say which Envoy filter they belong to:
//
//   - ExtAuthz...: the ext_authz filter — the route context_extensions that
//     name the API, the dynamic metadata ext_authz returns, and the header
//     that selects a policy backend.
//   - RateLimit...: the rate-limit filter — the descriptor scheme of the
//     route actions and the dynamic metadata the service returns.
//   - AccessLog...: the HCM's access loggers — the route metadata and
//     custom tags that name a request's API in the gRPC access-log stream,
//     and the fields of the JSON access-log lines.
//   - DebugLatency...: the filter adding the latency headers of debug mode.
//   - StageHeader: the header the routes match to select an environment.
//   - Envoy's client certificate files (EnvoyTLSDir, ...) and the ports of
//     apigw's components, which the translator points Envoy's clusters at.
package dataplane
