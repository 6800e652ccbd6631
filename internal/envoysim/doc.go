// Package envoysim plays an Envoy of an apigw instance at the protocol
// level, for end-to-end tests that cannot run a real Envoy, and for
// apigw's explain (package explain), which routes a request through the
// translated configuration with it, its ext_authz and rate-limit calls
// going to apigw's services in process (Options.Services) and its upstream
// request captured instead of sent (Options.Upstream).
//
// An ADS client (Connect) subscribes like Envoy does — clusters and
// listeners, then the endpoints, route configurations, scopes and secrets
// they reference — validates every resource it receives (NACKing invalid
// ones, as Envoy would) and ACKs the rest. Envoy.Serve then processes one
// HTTP request the way Envoy's HTTP connection manager would with that
// configuration:
//
//   - listener by port, filter chain by SNI (the TLS certificate is checked
//     against the SNI, the handshake itself is not performed);
//   - HCM request preparation: path normalisation, x-forwarded-for /
//     x-forwarded-proto, a fresh x-request-id;
//   - route selection: scoped routes (SRDS key from :authority), virtual
//     host by :authority (exact, suffix and prefix wildcards, optional port
//     stripping), then the first route whose path (path, prefix,
//     path_separated_prefix, safe_regex or URI template), headers and query
//     parameters match;
//   - the HTTP filters in their configured order: cors, body_size_limit,
//     rbac (per-route remote_ip rules), ext_authz (the CheckRequest Envoy
//     sends for the route — context extensions, headers or header_map,
//     body (buffered under the route's request_body_buffer_limit, else the
//     listener's per-connection limit, 1 MiB by default: a 413 beyond it),
//     source and destination, TLS session — sent to the address of
//     the ext_authz cluster from CDS; the OK response's header, query and
//     dynamic-metadata mutations under the mutation rules, headers applied
//     per append_action as Envoy 1.38+ does (the deprecated append, when
//     set, decides; the default appends a second header); the route cache
//     cleared as clear_route_cache(_headers) say), ratelimit (descriptors
//     from the route's actions, sent to the rate-limit cluster),
//     header_mutation (per-route mutations too) and match_delegate around
//     it (matchers on request headers, or on response headers when the
//     response passes), ext_proc (a gRPC Process stream per request to
//     the filter's cluster with the per-route grpc_initial_metadata:
//     request headers answered CONTINUE with header mutations or by an
//     immediate response, response headers and a buffered or partially
//     buffered body on the way back, message_timeout and
//     failure_mode_allow; see extproc.go), oauth2
//     (the OpenID Connect code flow of Envoy's filter from its config and
//     SDS generic secrets: redirect with state and PKCE, code exchange at
//     the token endpoint's cluster, encrypted session cookies under an
//     HMAC, refresh, sign-out; see oauth2.go), router;
//   - the router: direct responses, cluster and endpoint selection (static,
//     EDS, weighted round robin, priorities), path rewrites (prefix, regex,
//     URI template, formatter path_rewrite), host rewrites, route and
//     virtual-host header mutations with Envoy's formatters, a real
//     HTTP request to the endpoint, and the shadow requests of
//     request_mirror_policies (sampled, not awaited, see mirror.go);
//   - local replies rendered through local_reply_config;
//   - access logs when the stream ends: the http_grpc logger batching
//     entries onto a StreamAccessLogs stream to the logger's cluster as
//     Envoy's GrpcAccessLogger does (see accesslog.go), and JSON lines of
//     the stdout, stderr and file loggers.
//
// Connections to apigw's gRPC services (ADS with WithTLS, ext_authz and the
// rate-limit service from their clusters' transport sockets) use real TLS
// built by UpstreamTLS, file-based SDS included.
//
// What it does not emulate (tests assert on the configuration instead):
// TLS handshakes on Envoy's listeners, HTTP/2 and WebSocket, retries, health checking and outlier
// detection (every endpoint is healthy), circuit breakers, hash-based load
// balancing (ring hash and Maglev fall back to round robin), stats, the
// exact timing of Envoy's timeouts (ext_authz and rate-limit timeouts can
// be widened with Options.MinServiceTimeout so that a loaded CI machine
// does not fail open), and any filter or match field it does not
// know: those make Serve return an error rather than a guess.
package envoysim
