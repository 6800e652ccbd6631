// Package loadtest is the load harness of the request-time benchmarks
// (ext_authz and rate limiting): it runs each server under test in a
// process of its own, as Envoy sees them, drives it with a fixed number of
// calls in flight, and measures throughput, latency percentiles and the CPU
// time every process involved spent per call.
//
// Servers run in the test binary itself, re-executed as a child
// (StartChild) to run the package's TestLoadtestChild, which hands
// Child a function building the server of each role. Backends of one
// benchmark are driven in turns (Interleave) so that noise from other work
// on the machine hits all of them alike; the benchmarks report ratios
// between backends measured in the same run.
package loadtest
