package envoysim

import (
	"testing"

	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
)

func TestMirrorSampling(t *testing.T) {
	never := &typev3.FractionalPercent{Numerator: 0, Denominator: typev3.FractionalPercent_MILLION}
	always := &typev3.FractionalPercent{Numerator: 100, Denominator: typev3.FractionalPercent_HUNDRED}
	quarter := &typev3.FractionalPercent{Numerator: 250_000, Denominator: typev3.FractionalPercent_MILLION}
	n := 0
	for range 4000 {
		if sampled(never) || !sampled(always) || !sampled(nil) {
			t.Fatal("0 % sampled, or 100 % / no fraction not sampled")
		}
		if sampled(quarter) {
			n++
		}
	}
	if n < 800 || n > 1200 { // 1000 expected; far beyond 6 standard deviations
		t.Errorf("25 %% sampled %d of 4000", n)
	}
}
