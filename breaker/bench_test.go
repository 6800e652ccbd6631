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

type mapRequest map[string]string

func (m mapRequest) Value(typ, value string) (string, bool) { v, ok := m[typ+":"+value]; return v, ok }

// BenchmarkDecide is what ext_authz adds to a check of an API with a
// breaker: the default breaker alone, and two downgrade rules evaluated
// before it (neither matching).
//
//	go test ./breaker -run '^$' -bench Decide -benchmem
func BenchmarkDecide(b *testing.B) {
	rules := `{"breaker_condition":{"breaker_type":"timeout","unhealthy_threshold":5,"time_window":10,"open_breaker_time":30},` +
		`"downgrade_parameters":[{"name":"reqPath","type":"path","value":"path"},{"name":"tier","type":"header","value":"x-tier"}],` +
		`"downgrade_rules":[{"rule_name":"reports","match_regex":"[\"reqPath\",\"~~\",\"^/reports/\"]"},{"rule_name":"gold","match_regex":"[\"tier\",\"==\",\"gold\"]"}]}`
	plain := `{"breaker_condition":{"breaker_type":"timeout","unhealthy_threshold":5,"time_window":10,"open_breaker_time":30}}`
	req := mapRequest{"path:path": "/a1/items/42", "header:x-tier": "silver"}
	for _, c := range []struct{ name, content string }{{"default", plain}, {"two-rules", rules}} {
		b.Run(c.name, func(b *testing.B) {
			r, feed, _ := newRegistry(b, world(c.content))
			snap := feed.Current()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if d := r.Decide(snap, "default", "a1", "DEFAULT_ENVIRONMENT_RELEASE_ID", req); d.Open {
					b.Fatal("open")
				}
			}
		})
	}
}
