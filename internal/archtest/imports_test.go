package archtest

import (
	"slices"
	"testing"
)

// TestDataPlaneContract checks that the xDS translator and the services
// Envoy calls at request time (ext_authz, the rate-limit service and the
// access-log service) share their names through the dataplane package
// only: each depends on it, and none depends on another.
func TestDataPlaneContract(t *testing.T) {
	g := importGraph(moduleFiles(t, false))
	sides := []string{"xds/translate", "extauth", "ratelimit", "accesslog"}
	for _, side := range sides {
		pkgs := []string{}
		for p := range g {
			if under(p, side) {
				pkgs = append(pkgs, p)
			}
		}
		if len(pkgs) == 0 {
			t.Fatalf("no package under %s", side)
		}
		if ds := deps(g, module+"/"+side); !slices.Contains(ds, module+"/dataplane") {
			t.Errorf("%s does not depend on %s/dataplane; deps: %v", side, module, ds)
		}
		for _, p := range pkgs {
			for _, d := range deps(g, p) {
				for _, other := range sides {
					if other != side && under(d, other) {
						t.Errorf("%s depends on %s: the translator and the request-time services share only dataplane", p, d)
					}
				}
			}
		}
	}
	// The contract itself depends on nothing of the module.
	if ds := deps(g, module+"/dataplane"); len(ds) != 0 {
		t.Errorf("dataplane depends on %v; it must stand alone", ds)
	}
}
