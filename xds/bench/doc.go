// Package bench holds the xDS benchmarks: the translation of 10 000 APIs
// (BenchmarkTranslate10k) and the fleet table (BenchmarkFleet), which runs
// an apigw binary as its own process with 10 000 APIs in 100 groups and
// measures it with ADS clients that subscribe, ACK and NACK like Envoy:
// RSS after a publishing session and after a restart, propagation from an
// etcd commit to the last of 100 clients (SotW and delta) with the stage
// breakdown from apigw's /metrics, the bytes a one-API change costs each
// client per routing mode, and 1 000 clients syncing at once (time, RSS).
// Each row is printed with its target and the ratio measured/target:
//
//	make bench-xds
//
// The clients run in the benchmark process, on the same cores as apigw,
// so what they cost is taken from apigw. Like Envoy they decode what they
// need to follow the protocol, but no more (decode_test.go): with
// protowire, the names of clusters and listeners, the EDS service names of
// EDS clusters, the route configuration names of the listeners' HTTP
// connection managers (or that they use scoped routes), the secret names
// of their TLS contexts, the scopes' route configuration names; route
// configurations are read as a stream for their name (and the marker of
// the change being measured), in place in the reader's buffer; endpoints
// and secrets are skipped. Versions, nonces and type URLs are read from
// the responses as before, and each response is ACKed, or NACKed when it
// cannot be parsed. The first client of each run (APIGW_BENCH_FULL_CLIENTS
// clients) instead decodes every resource of every type into its Envoy
// message, with the Any fields inside, and validates it with Envoy's
// constraints (protoc-gen-validate): it NACKs what Envoy would reject, and
// a NACK fails the run. The CPU the clients use is reported beside
// apigw's in the fleet row (docs/xds.md#performance).
//
// Settings: APIGW_BENCH_FLEET (clients of the fleet row; the benchmark is
// skipped without it), APIGW_BENCH_CLIENTS (100), APIGW_BENCH_CHANGES
// (40), APIGW_BENCH_GROUPS and APIGW_BENCH_APIS_PER_GROUP (100 × 100),
// APIGW_BENCH_PHASES (a comma list of propagation, fleet; default all),
// APIGW_BENCH_BINARY (an apigw binary to measure instead of building
// cmd/apigw, e.g. an earlier version as a baseline),
// APIGW_BENCH_FULL_CLIENTS (1: how many clients of each run decode and
// validate everything; 0 for none).
package bench
