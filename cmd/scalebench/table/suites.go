// Package table runs scalebench's suites and reads their output into rows
// measured against targets.
package table

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Suite is one benchmark command.
type Suite struct {
	Name string
	// Pkg, Bench and Benchtime make the go test command.
	Pkg, Bench, Benchtime string
	// Env is added to the command's environment.
	Env []string
	// Needs are environment variables without which the suite's
	// comparison rows are left out (reported as skipped).
	Needs []string
}

// Command is the go test command line of the suite.
func (s Suite) Command() []string {
	return []string{"go", "test", s.Pkg, "-run", "^$", "-bench", s.Bench, "-benchtime", s.Benchtime, "-timeout", "90m"}
}

func suites(fleet int) []Suite {
	return []Suite{
		{Name: "admin", Pkg: "./model/admin", Bench: "BenchmarkApply1000APIs|BenchmarkPublishGroup|BenchmarkPublishAll10k|BenchmarkApplyPublishOneAPI", Benchtime: "5x"},
		{Name: "fleet", Pkg: "./xds/bench", Bench: "BenchmarkFleet", Benchtime: "1x", Env: []string{"APIGW_BENCH_FLEET=" + strconv.Itoa(fleet)}},
		{Name: "rls", Pkg: "./ratelimit", Bench: "BenchmarkRLS", Benchtime: "8x", Needs: []string{"APIGW_BENCH_REFERENCE"}},
		{Name: "counters", Pkg: "./ratelimit/counter", Bench: "BenchmarkMemoryFootprint", Benchtime: "1x"},
		{Name: "extauth", Pkg: "./extauth", Bench: "BenchmarkGRPC", Benchtime: "8x"},
	}
}

// SuiteNames lists the suites in the order they run.
func SuiteNames() []string {
	var out []string
	for _, s := range suites(0) {
		out = append(out, s.Name)
	}
	return out
}

// Select returns the suites named in a comma list (every suite when it
// is empty).
func Select(only string, fleet int) ([]Suite, error) {
	all := suites(fleet)
	if strings.TrimSpace(only) == "" {
		return all, nil
	}
	var out []Suite
	for _, n := range strings.Split(only, ",") {
		i := slices.IndexFunc(all, func(s Suite) bool { return s.Name == strings.TrimSpace(n) })
		if i < 0 {
			return nil, fmt.Errorf("-only: unknown suite %q (have %s)", n, strings.Join(SuiteNames(), ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}
