package loadtest

import (
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Backend is one server driven by a benchmark.
type Backend struct {
	Name string
	// Call makes call number i. It returns whether the answer is one the
	// benchmark counts apart (e.g. an over-limit answer), or an error that
	// stops the benchmark.
	Call func(i int) (marked bool, err error)
	// Procs are the processes whose CPU time counts for the backend (the
	// server, its Redis); the calling process is always measured as
	// "client".
	Procs []*Proc
}

// Sample is what a backend did over one or more turns.
type Sample struct {
	Calls   int
	Marked  int
	Elapsed time.Duration
	Lat     []time.Duration
	// CPU is the CPU time per process name, "client" included.
	CPU map[string]time.Duration
}

// Add adds another turn.
func (s *Sample) Add(o Sample) {
	s.Calls += o.Calls
	s.Marked += o.Marked
	s.Elapsed += o.Elapsed
	s.Lat = append(s.Lat, o.Lat...)
	if s.CPU == nil {
		s.CPU = map[string]time.Duration{}
	}
	for k, v := range o.CPU {
		s.CPU[k] += v
	}
}

// QPS is calls per second.
func (s *Sample) QPS() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Calls) / s.Elapsed.Seconds()
}

// Pct returns the p-th percentile latency (0 < p < 100) in microseconds.
func (s *Sample) Pct(p float64) float64 {
	if len(s.Lat) == 0 {
		return 0
	}
	slices.Sort(s.Lat)
	i := min(int(p/100*float64(len(s.Lat))), len(s.Lat)-1)
	return float64(s.Lat[i]) / float64(time.Microsecond)
}

// CPUPerCall returns the CPU time process name spent per call, in
// microseconds (0 if it was not measured).
func (s *Sample) CPUPerCall(name string) float64 {
	if s.Calls == 0 {
		return 0
	}
	return float64(s.CPU[name]) / float64(time.Microsecond) / float64(s.Calls)
}

// MarkedShare is the share of calls the backend marked.
func (s *Sample) MarkedShare() float64 {
	if s.Calls == 0 {
		return 0
	}
	return float64(s.Marked) / float64(s.Calls)
}

// Drive keeps inflight calls to be going for d and records them, with
// the CPU time of be's processes and of this one over the turn.
func Drive(be Backend, inflight int, d time.Duration) (Sample, error) {
	procs := append([]*Proc{{Name: "client", PID: os.Getpid()}}, be.Procs...)
	before := cpuOf(procs)
	var (
		next    atomic.Int64
		marked  atomic.Int64
		errOnce sync.Once
		firstEr error
		wg      sync.WaitGroup
	)
	lat := make([][]time.Duration, inflight)
	start := time.Now()
	deadline := start.Add(d)
	for g := range inflight {
		wg.Go(func() {
			l := make([]time.Duration, 0, 1024)
			for {
				t0 := time.Now()
				if !t0.Before(deadline) {
					break
				}
				m, err := be.Call(int(next.Add(1) - 1))
				l = append(l, time.Since(t0))
				if err != nil {
					errOnce.Do(func() { firstEr = err })
					break
				}
				if m {
					marked.Add(1)
				}
			}
			lat[g] = l
		})
	}
	wg.Wait()
	s := Sample{Elapsed: time.Since(start), Marked: int(marked.Load()), Lat: slices.Concat(lat...), CPU: map[string]time.Duration{}}
	s.Calls = len(s.Lat)
	after := cpuOf(procs)
	for i, p := range procs {
		if before[i] >= 0 && after[i] >= 0 {
			s.CPU[p.Name] = after[i] - before[i]
		}
	}
	return s, firstEr
}

func cpuOf(procs []*Proc) []time.Duration {
	out := make([]time.Duration, len(procs))
	for i, p := range procs {
		out[i] = -1
		if p.PID > 0 {
			if c, err := CPU(p.PID); err == nil {
				out[i] = c
			}
		}
	}
	return out
}

// Interleave drives every backend for slice in turn, rounds times (after
// a warm-up turn of slice/4 each), and returns their samples.
func Interleave(bes []Backend, inflight, rounds int, slice time.Duration) ([]Sample, error) {
	for _, be := range bes {
		if _, err := Drive(be, inflight, slice/4); err != nil {
			return nil, err
		}
	}
	out := make([]Sample, len(bes))
	for range rounds {
		for i, be := range bes {
			s, err := Drive(be, inflight, slice)
			if err != nil {
				return nil, err
			}
			out[i].Add(s)
		}
	}
	return out, nil
}
