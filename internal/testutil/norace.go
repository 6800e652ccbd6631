//go:build !race

package testutil

// RaceEnabled is true when the tests run under the race detector, which
// allocates where the code does not (allocation tests skip then).
const RaceEnabled = false
