// Package dataplane is the contract between apigw's xDS translator and the
// services Envoy calls at request time: what the translator writes into
// Envoy's configuration and what ext_authz and the rate-limit service read
// or answer. The translator, ext_authz and the rate-limit service depend on
// this package and not on each other.
//
// Names say which Envoy filter they belong to:
//
//   - ExtAuthz...: the ext_authz filter — the route context_extensions that
//     name the API, the dynamic metadata ext_authz returns, and the header
//     that selects a policy backend.
//   - RateLimit...: the rate-limit filter — the descriptor scheme of the
//     route actions and the dynamic metadata the service returns.
//   - StageHeader: the header the routes match to select an environment.
//   - Envoy's client certificate files (EnvoyTLSDir, ...) and the ports of
//     apigw's components, which the translator points Envoy's clusters at.
package dataplane
