package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// A kafka_log plug-in bound with apigctl: requests through the emulated
// Envoy reach a Kafka broker (kfake, in the test) as records with the
// plug-in's fields, the headers Envoy was told to log included; an API
// without the plug-in writes none. A plug-in whose Kafka is unreachable
// leaves its API served; its records are counted as failed on /metrics.
func TestKafkaLogThroughEnvoy(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "apig.logs"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers, _ := json.Marshal(c.ListenAddrs())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := lis.Addr().String()
	lis.Close()
	w := startFS(t, fsGroup+fsAPI("logged_api", "/logged", "")+fsAPI("quiet_api", "/quiet", "")+fsAPI("dead_api", "/dead", "")+`---
kind: plugin
plugin_name: kafka_dead
plugin_type: kafka_log
plugin_content: '{"broker_list":["`+dead+`"],"topic":"apig.logs","max_retry_count":0,"retry_backoff":1}'
---
kind: plugin_binding
api_id: dead_api
env_id: RELEASE
plugin_id: kafka_dead
---
kind: plugin
plugin_name: kafka_calls
plugin_type: kafka_log
plugin_content: '{"broker_list":`+string(brokers)+`,"topic":"apig.logs","meta_config":{"system":{"request_id":true,"api_name":true,"http_status":true,"request_method":true,"uri":true},"call_data":{"log_request_header":true,"request_header_filter":"X-Tenant","log_request_query_string":true,"request_query_string_filter":"q","log_response_header":true,"response_header_filter":"Content-Type"}}}'
---
kind: plugin_binding
api_id: logged_api
env_id: RELEASE
plugin_id: kafka_calls
`)
	quiet := w.call(t, call{path: "/quiet"})
	wantStatus(t, quiet, http.StatusOK)
	r := w.call(t, call{path: "/logged?q=shoes&x=1", header: http.Header{"X-Tenant": {"acme"}}})
	wantStatus(t, r, http.StatusOK)
	w.envoy.FlushAccessLogs()

	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("apig.logs"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) == 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatal("no record reached Kafka in 20 s")
		}
		recs = append(recs, fs.Records()...)
	}
	var got struct {
		RequestID     string            `json:"request_id"`
		APIName       string            `json:"api_name"`
		Status        int               `json:"http_status"`
		Method        string            `json:"request_method"`
		URI           string            `json:"uri"`
		RequestHeader map[string]string `json:"request_header"`
		Query         map[string]string `json:"request_query_string"`
		RespHeader    map[string]string `json:"response_header"`
	}
	if err := json.Unmarshal(recs[0].Value, &got); err != nil {
		t.Fatalf("record %s: %v", recs[0].Value, err)
	}
	if got.RequestID != r.requestID || got.APIName != "logged_api" || got.Status != 200 || got.Method != "GET" ||
		!strings.HasPrefix(got.URI, "/logged?q=shoes") || got.RequestHeader["x-tenant"] != "acme" || got.Query["q"] != "shoes" ||
		len(got.Query) != 1 || got.RespHeader["content-type"] == "" {
		t.Fatalf("record %s (request %s)", recs[0].Value, r.requestID)
	}
	if len(recs) > 1 {
		t.Fatalf("records of an API without the plug-in: %d records", len(recs))
	}

	for range 3 {
		wantStatus(t, w.call(t, call{path: "/dead"}), http.StatusOK)
	}
	w.envoy.FlushAccessLogs()
	// Usually failed within milliseconds (the broker refuses the first
	// connection). When the Kafka client is between metadata attempts,
	// the records wait for the next one, or at most the delivery timeout
	// (30 s with no retries): the wait covers that bound.
	eventually(t, 45*time.Second, func() error {
		failed, sent := 0.0, 0.0
		for name, v := range w.g.Metrics(t) {
			if strings.HasPrefix(name, "apigw_kafka_log_records_total{") && strings.Contains(name, `plugin="kafka_dead"`) && strings.Contains(name, `result="failed"`) {
				failed += v
			}
			if strings.HasPrefix(name, "apigw_kafka_log_records_total{") && strings.Contains(name, `plugin="kafka_calls"`) && strings.Contains(name, `result="sent"`) {
				sent += v
			}
		}
		if failed != 3 || sent != 1 {
			return fmt.Errorf("kafka_dead failed %v (want 3), kafka_calls sent %v (want 1)", failed, sent)
		}
		return nil
	})
}
