package loadtest

import "testing"

// AtLeast logs a benchmark figure against its target, a floor. Like
// AtMost it logs nothing in the single-iteration run the testing package
// makes first (run the benchmarks with -benchtime=Nx, N > 1).
func AtLeast(b *testing.B, what string, got, target float64) {
	b.Helper()
	if b.N == 1 {
		return
	}
	b.Logf("%s: %.3g (target ≥ %.3g): %s", what, got, target, met(got >= target))
}

// AtMost logs a benchmark figure against its target, a ceiling.
func AtMost(b *testing.B, what string, got, target float64) {
	b.Helper()
	if b.N == 1 {
		return
	}
	b.Logf("%s: %.3g (target ≤ %.3g): %s", what, got, target, met(got <= target))
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}
