package breaker_test

import (
	"testing"
	"time"

	"github.com/apigw/apigw/breaker"
)

// BenchmarkAdd is the breaker's cost per access-log entry, on top of the
// access-log service's own (breaker/alsink copies the record into a Call): an API with a condition breaker (the
// expression evaluated on status and backend time, the machine updated
// under its lock), an API with a timeout breaker, and an API without one
// (the index lookup only).
//
//	go test ./breaker -run '^$' -bench Add -benchmem
func BenchmarkAdd(b *testing.B) {
	// A threshold never reached: the breaker stays closed and counts.
	content := `{"breaker_condition":{"breaker_type":"condition","unhealthy_condition":"[\"OR\",[\"$context.statusCode\",\"in\",\"500,502,503\"],[\"$context.backendResponseTime\",\">\",2000]]",` +
		`"unhealthy_threshold":2147483647,"time_window":3600,"open_breaker_time":30}}`
	timeout := `{"breaker_condition":{"breaker_type":"timeout","unhealthy_threshold":2147483647,"time_window":3600,"open_breaker_time":30}}`
	for _, c := range []struct {
		name, content, api string
	}{{"condition", content, "a1"}, {"timeout", timeout, "a1"}, {"no-breaker", content, "a3"}} {
		b.Run(c.name, func(b *testing.B) {
			r, _, _ := newRegistry(b, world(c.content))
			recs := []*breaker.Call{rec(c.api, 200, 12*time.Millisecond), rec(c.api, 502, 3*time.Millisecond), rec(c.api, 200, 2500*time.Millisecond)}
			r.Add(recs[0])
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r.Add(recs[i%len(recs)])
			}
		})
	}
}
