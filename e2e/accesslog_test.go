package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apigw/apigw/internal/envoysim"
	"github.com/apigw/apigw/internal/testutil"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

// tally counts what clients got through a gateway, per API route: the
// figures apigw must report from Envoy's access-log stream.
type tally struct {
	gateway
	mu sync.Mutex
	// by "apiID|envName" ("(none)|" for requests on no API route).
	calls map[string]int
	codes map[string]map[string]int
	class map[string]map[string]int
}

func newTally(gw gateway) *tally {
	return &tally{gateway: gw, calls: map[string]int{}, codes: map[string]map[string]int{}, class: map[string]map[string]int{}}
}

func (t *tally) send(ctx context.Context, c call) (*result, error) {
	r, err := t.gateway.send(ctx, c)
	if err != nil {
		return r, err
	}
	key := "(none)|"
	if rest, ok := strings.CutPrefix(r.route, "api."); ok {
		parts := strings.SplitN(rest, ".", 3)
		if len(parts) >= 2 {
			key = parts[0] + "|" + parts[1]
		}
	}
	var body struct {
		Code string `json:"error_code"`
	}
	_ = json.Unmarshal(r.body, &body)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.calls[key]++
	if t.codes[key] == nil {
		t.codes[key], t.class[key] = map[string]int{}, map[string]int{}
	}
	if strings.HasPrefix(body.Code, "APIG.") {
		t.codes[key][body.Code]++
	}
	t.class[key][strconv.Itoa(r.status/100)+"xx"]++
	return r, nil
}

// checkAPIMetrics compares what apigw reports per API (admin API, apigctl
// top, /metrics) with what the clients of the scenarios got.
func checkAPIMetrics(t *testing.T, g *apigw, flush func(), tl *tally) {
	t.Helper()
	flush()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	want := 0
	for _, n := range tl.calls {
		want += n
	}
	var resp *adminv1.GetAPIMetricsResponse
	eventually(t, 10*time.Second, func() error {
		var err error
		resp, err = g.adminClient().GetAPIMetrics(ctx, &adminv1.GetAPIMetricsRequest{Windows: []string{"1h", "5m"}})
		if err != nil {
			return err
		}
		got := int64(0)
		for _, a := range resp.GetApis() {
			got += a.GetWindows()[0].GetCalls()
		}
		if got != int64(want) {
			return fmt.Errorf("%d calls reported, the clients made %d", got, want)
		}
		return nil
	})
	if resp.GetStreams() < 1 {
		t.Errorf("streams = %d", resp.GetStreams())
	}
	seen := map[string]bool{}
	for _, a := range resp.GetApis() {
		key := a.GetApiId() + "|" + a.GetEnvName()
		if a.GetApiId() == "(none)" {
			key = "(none)|"
		}
		seen[key] = true
		w := a.GetWindows()[0]
		if int(w.GetCalls()) != tl.calls[key] {
			t.Errorf("%s (%s): %d calls reported, clients made %d", key, a.GetApiName(), w.GetCalls(), tl.calls[key])
		}
		for code, n := range tl.codes[key] {
			if int(w.GetErrorCodes()[code]) != n {
				t.Errorf("%s: %s reported %d times, clients got it %d times (reported %v)", key, code, w.GetErrorCodes()[code], n, w.GetErrorCodes())
			}
		}
		for code, n := range w.GetErrorCodes() {
			if tl.codes[key][code] == 0 {
				t.Errorf("%s: %s reported %d times, clients never got it", key, code, n)
			}
		}
		classes := map[string]int64{"2xx": w.GetStatus_2Xx(), "3xx": w.GetStatus_3Xx(), "4xx": w.GetStatus_4Xx(), "5xx": w.GetStatus_5Xx()}
		for cls, n := range classes {
			if int(n) != tl.class[key][cls] {
				t.Errorf("%s: %d %s reported, clients got %d", key, n, cls, tl.class[key][cls])
			}
		}
		if w.GetCalls() > 0 && (w.GetLatencyP50Ms() <= 0 || w.GetLatencyP99Ms() < w.GetLatencyP50Ms()) {
			t.Errorf("%s: latency p50 %.3f p99 %.3f ms", key, w.GetLatencyP50Ms(), w.GetLatencyP99Ms())
		}
		if a.GetApiId() != "(none)" && a.GetEnvId() == "" {
			t.Errorf("%s: no environment id", key)
		}
	}
	for key := range tl.calls {
		if !seen[key] {
			t.Errorf("%s: %d calls not reported", key, tl.calls[key])
		}
	}

	// apigctl top lists the busiest API first, with its name.
	top := g.apigctl(t, "top", "--window", "1h")
	var busiest string
	for k, n := range tl.calls {
		if busiest == "" || n > tl.calls[busiest] || n == tl.calls[busiest] && k < busiest {
			busiest = k
		}
	}
	lines := strings.Split(strings.TrimSpace(top), "\n")
	if len(lines) < 2 || !strings.Contains(lines[1], strconv.Itoa(tl.calls[busiest])) {
		t.Errorf("apigctl top: busiest %s (%d calls) not first:\n%s", busiest, tl.calls[busiest], top)
	}

	// /metrics: the same calls per API, environment and status class.
	series := g.Metrics(t)
	for key, byClass := range tl.class {
		api, env, _ := strings.Cut(key, "|")
		for cls, n := range byClass {
			found := false
			for name, v := range series {
				if strings.HasPrefix(name, "apigw_api_requests_total{") && strings.Contains(name, `api="`+api+`"`) &&
					strings.Contains(name, `class="`+cls+`"`) && (env == "" || strings.Contains(name, `env="`+envID(resp, api, env)+`"`)) {
					if int(v) != n {
						t.Errorf("%s = %v, clients got %d", name, v, n)
					}
					found = true
				}
			}
			if !found {
				t.Errorf("no apigw_api_requests_total series for %s %s (%d calls)", key, cls, n)
			}
		}
	}
}

// envID is the environment id reported for an API's environment name.
func envID(resp *adminv1.GetAPIMetricsResponse, api, envName string) string {
	for _, a := range resp.GetApis() {
		if a.GetApiId() == api && a.GetEnvName() == envName {
			return a.GetEnvId()
		}
	}
	return "?"
}

// checkAccessLogLines turns on the instance's JSON access-log lines and
// checks what the Envoy writes for a signed call and a denied one.
func checkAccessLogLines(t *testing.T, g *apigw, ads *envoysim.ADS, gw gateway, out *testutil.Buffer, ps *petstore) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "instance.yaml")
	doc := `kind: instance
name: default
config:
  access_log:
    enabled: true
    fields: [request_id, api_id, api_name, app_id, http_status, request_time, upstream_response_time, error_code, response_flags]
    custom_fields:
      - {location: header, name: X-Tenant}
      - {location: query, name: limit}
`
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	g.apigctl(t, "apply", "-f", file)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := ads.WaitFor(ctx, func(c *envoysim.Config) error {
		hcms, err := c.HCMs()
		if err != nil {
			return err
		}
		for name, h := range hcms {
			if len(h.GetAccessLog()) != 2 {
				return fmt.Errorf("%s: %d access loggers", name, len(h.GetAccessLog()))
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ok := do(t, gw, call{path: "/pets?limit=7", header: http.Header{"X-Tenant": {"acme"}}, key: webKey, secret: webSecret})
	denied := do(t, gw, call{path: "/pets"})
	lines := map[string]map[string]any{}
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("access-log line is not JSON: %v: %s", err, l)
		}
		if id, _ := m["request_id"].(string); id != "" {
			lines[id] = m
		}
	}
	o := lines[ok.requestID]
	if o == nil {
		t.Fatalf("no access-log line for request %s:\n%s", ok.requestID, out)
	}
	for k, want := range map[string]any{"api_id": ps.apis["list_pets"], "api_name": "list_pets", "app_id": ps.apps["petstore_web"],
		"http_status": float64(200), "custom_data_log01": "acme", "custom_data_log02": "7", "error_code": nil} {
		if o[k] != want {
			t.Errorf("signed call: %s = %v, want %v (%v)", k, o[k], want, o)
		}
	}
	if v, ok := o["request_time"].(float64); !ok || v < 0 {
		t.Errorf("request_time %v", o["request_time"])
	}
	if _, ok := o["upstream_response_time"].(float64); !ok {
		t.Errorf("upstream_response_time %v", o["upstream_response_time"])
	}
	d := lines[denied.requestID]
	if d == nil || d["error_code"] != "APIG.0303" || d["http_status"] != float64(401) || d["response_flags"] != "UAEX" || d["upstream_response_time"] != nil {
		t.Errorf("denied call line %v", d)
	}
}

// checkAudit checks `apigctl audit` after the scenarios: the quick start's
// apply and publishes, and the last change (the access-log settings),
// each with its etcd revision and caller.
func checkAudit(t *testing.T, g *apigw) {
	t.Helper()
	var out struct {
		Events []struct {
			Revision  string `json:"revision"`
			Caller    string `json:"caller"`
			Operation string `json:"operation"`
			Objects   []struct {
				Kind          string   `json:"kind"`
				Action        string   `json:"action"`
				ChangedFields []string `json:"changed_fields"`
			} `json:"objects"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(g.apigctl(t, "audit", "-n", "1000", "-o", "json")), &out); err != nil {
		t.Fatal(err)
	}
	ops := map[string]int{}
	for _, ev := range out.Events {
		ops[ev.Operation]++
		if ev.Revision == "" || ev.Caller == "" {
			t.Errorf("audit event without revision or caller: %+v", ev)
		}
	}
	// apigctl publish sends one PublishBatch per command.
	if ops["apply"] < 2 || ops["publish_batch"] < 2 {
		t.Errorf("audit operations %v, want the quick start's applies and publish batches", ops)
	}
	last := out.Events[0]
	// The default instance was not stored before: it is created.
	if last.Operation != "apply" || len(last.Objects) != 1 || last.Objects[0].Kind != "instance" ||
		last.Objects[0].Action != "created" && !slices.Contains(last.Objects[0].ChangedFields, "config.access_log.enabled") {
		t.Errorf("newest audit event %+v, want the access-log settings", last)
	}
	table := g.apigctl(t, "audit", "-n", "3")
	if !strings.Contains(table, "REVISION") || !strings.Contains(table, "updated instance") && !strings.Contains(table, "created instance") {
		t.Errorf("apigctl audit:\n%s", table)
	}
}
