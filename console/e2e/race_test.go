//go:build race

package e2e_test

// raceEnabled skips the browser test under the race detector: the test
// only drives other processes, which -race does not instrument.
const raceEnabled = true
