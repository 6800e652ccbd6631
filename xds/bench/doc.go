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
// Settings: APIGW_BENCH_FLEET (clients of the fleet row; the benchmark is
// skipped without it), APIGW_BENCH_CLIENTS (100), APIGW_BENCH_CHANGES
// (40), APIGW_BENCH_GROUPS and APIGW_BENCH_APIS_PER_GROUP (100 × 100),
// APIGW_BENCH_PHASES (a comma list of propagation, fleet; default all),
// APIGW_BENCH_BINARY (an apigw binary to measure instead of building
// cmd/apigw, e.g. an earlier version as a baseline).
package bench
