package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// apigctl audit shows each change with its revision, caller and changed
// fields, filters by object and operation, and prints yaml and json.
func TestAuditShowsChanges(t *testing.T) {
	e := start(t)
	dir := t.TempDir()
	f := writeFile(t, dir, "t.yaml", "kind: throttle\nname: basic\napi_call_limits: 10\ntime_interval: 1\ntime_unit: SECOND\n")
	e.must("", "apply", "-f", f)
	f = writeFile(t, dir, "t.yaml", "kind: throttle\nname: basic\napi_call_limits: 20\ntime_interval: 1\ntime_unit: SECOND\n")
	e.must("", "apply", "-f", f)
	e.must("", "apply", "-f", writeFile(t, dir, "g.yaml", "kind: group\nname: pets\n"))

	out := e.must("", "audit", "basic")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "updated throttle basic") || !strings.Contains(lines[1], "(api_call_limits)") ||
		!strings.Contains(lines[2], "created throttle basic") || !strings.Contains(lines[1], "apply") {
		t.Fatalf("apigctl audit basic:\n%s", out)
	}
	var js struct {
		Events []struct {
			Revision  string `json:"revision"`
			Operation string `json:"operation"`
			Caller    string `json:"caller"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(e.must("", "audit", "-o", "json", "--kind", "group", "--since", time.Hour.String())), &js); err != nil {
		t.Fatal(err)
	}
	if len(js.Events) != 1 || js.Events[0].Operation != "apply" || js.Events[0].Revision == "" || !strings.HasPrefix(js.Events[0].Caller, "anonymous ") {
		t.Errorf("audit -o json: %+v", js)
	}
	var y map[string]any
	if err := yaml.Unmarshal([]byte(e.must("", "audit", "-o", "yaml", "-n", "2")), &y); err != nil || len(y["events"].([]any)) != 2 {
		t.Errorf("audit -o yaml: %v %v", y, err)
	}
	if r := e.run("", "audit", "--kind", "nope"); r.code == 0 || !strings.Contains(r.err, "unknown kind") {
		t.Errorf("unknown kind: %+v", r)
	}
}
