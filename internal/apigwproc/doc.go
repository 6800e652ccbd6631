// Package apigwproc runs the apigw binary as a child process for tests
// and benchmarks (the end-to-end tests, the binary's own tests, the xDS
// fleet benchmark): it builds the binary, picks free loopback addresses,
// starts it, waits for /readyz, stops it with SIGTERM and reads /metrics.
// Only tests import it.
package apigwproc
