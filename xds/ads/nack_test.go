package ads_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/xds/xdstest"
)

// countingHandler counts the log records at warning level or above.
type countingHandler struct {
	mu    sync.Mutex
	warns []string
}

func (h *countingHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.warns = append(h.warns, r.Message)
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }

func (h *countingHandler) count(substr string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, w := range h.warns {
		if strings.Contains(w, substr) {
			n++
		}
	}
	return n
}

// events drains the ACK/NACK events observed so far.
func (h *harness) drain() []string {
	var out []string
	for {
		select {
		case e := <-h.events:
			kind := "ack"
			if e.Nack {
				kind = "nack"
			}
			out = append(out, kind+" "+e.TypeURL+" "+e.Version)
		default:
			return out
		}
	}
}

// TestNackBeforeFirstAckIsNotResent: an Envoy that rejects the first
// version of a type it ever received (so its request carries no accepted
// version) must not get that version again, SotW or delta; the NACK is
// recorded once, logged once, and the next change is delivered.
func TestNackBeforeFirstAckIsNotResent(t *testing.T) {
	for _, delta := range []bool{false, true} {
		name := map[bool]string{false: "sotw", true: "delta"}[delta]
		t.Run(name, func(t *testing.T) {
			logs := &countingHandler{}
			h := startWith(t, slog.New(logs))
			in := newInstance(t, model.DefaultInstance, 3)
			h.cache.Set(model.DefaultInstance, 30, build(t, in))

			var nackAgain, quiet, next func()
			if delta {
				c := xdstest.DialDelta(t, h.addr, "envoy-n", model.DefaultInstance)
				c.Subscribe(resource.ClusterType)
				r := c.Recv()
				c.Nack(r, "cluster rejected by test")
				nackAgain = func() { c.Nack(r, "cluster rejected by test") }
				quiet = func() { c.Quiet(time.Second) }
				next = func() {
					r := c.Recv()
					if got := deltaNames(t, r); !slices.Equal(got, []string{"backend.http.10.0.0.11.8080"}) {
						t.Fatalf("after the NACK, the next change sent %v", got)
					}
				}
			} else {
				c := xdstest.DialSotw(t, h.addr, "envoy-n", model.DefaultInstance)
				c.Subscribe(resource.ClusterType)
				r := c.Recv()
				c.Nack(r, "cluster rejected by test")
				nackAgain = func() { c.Nack(r, "cluster rejected by test") }
				quiet = func() { c.Quiet(time.Second) }
				next = func() {
					r := c.Recv()
					if r.VersionInfo == "" || !slices.Contains(names(t, r.Resources), "backend.http.10.0.0.11.8080") {
						t.Fatalf("after the NACK, the next change sent version %q %v", r.VersionInfo, names(t, r.Resources))
					}
				}
			}
			quiet()
			// Envoy repeats its error detail on later requests of the
			// type until it accepts a version: still one NACK.
			nackAgain()
			quiet()
			if got := h.drain(); len(got) != 1 || !strings.HasPrefix(got[0], "nack ") {
				t.Fatalf("events %v, want exactly one NACK", got)
			}
			if n := nodeStatus(t, h.status, "envoy-n", resource.ClusterType); !strings.Contains(n.LastNack, "cluster rejected by test") || n.AckedVersion != "" {
				t.Fatalf("status %+v, want the NACK and nothing accepted", n)
			}
			if n := logs.count("rejected"); n != 1 {
				t.Fatalf("%d warnings about the rejection, want 1", n)
			}
			in = change(t, in, 10, 1)
			h.cache.Set(model.DefaultInstance, 31, build(t, in))
			next()
		})
	}
}
