package translate

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/out")

// testTime stamps the publications of golden inputs.
var testTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// caseOptions are the translation options of cases that do not use the
// defaults. Cases with wildcard domains run in single routing, where the
// HTTP listener serves them. The single-routing variant that scoped
// routing carries for older Envoys (Resources.SingleListeners,
// SingleRoutes) is not rendered: TestRoutingModeNeverSwitches checks it.
var caseOptions = map[string]Options{
	"scoped_wildcard":     {HTTPRouting: RoutingScoped},
	"responses":           {HTTPRouting: RoutingSingle},
	"tls":                 {HTTPRouting: RoutingSingle},
	"defaultgroup_single": {HTTPRouting: RoutingSingle},
	"approute_single":     {HTTPRouting: RoutingSingle},
	"breaker_sidecar": {ExtAuthzAddress: "127.0.0.1:18001", RateLimitAddress: "127.0.0.1:18002",
		AccessLogAddress: "apigw-xds:18005", AccessLogTLS: true, BreakerAccessLogAddress: "127.0.0.1:18008"},
}

// goldenInput is a golden case: what sits in etcd for one instance.
type goldenInput struct {
	Instance json.RawMessage   `json:"instance"`
	Objects  []json.RawMessage `json:"objects"`
	Publish  []struct {
		API string `json:"api"`
		Env string `json:"env"`
	} `json:"publish"`
}

// loadInstance decodes a golden input strictly and publishes its APIs the
// way the admin API does (model.Instance.Publication).
func loadInstance(t testing.TB, file string) *model.Instance {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var gi goldenInput
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&gi); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var objs []proto.Message
	name := model.DefaultInstance
	if len(gi.Instance) > 0 {
		def := &apigwv1.Instance{}
		if err := protojson.Unmarshal(gi.Instance, def); err != nil {
			t.Fatalf("%s: instance: %v", file, err)
		}
		name = def.Name
		objs = append(objs, def)
	}
	for i, o := range gi.Objects {
		r := &apigwv1.Resource{}
		if err := protojson.Unmarshal(o, r); err != nil {
			t.Fatalf("%s: object %d: %v", file, i, err)
		}
		m, _ := model.Unwrap(r)
		if m == nil {
			t.Fatalf("%s: object %d is empty", file, i)
		}
		model.Normalize(m)
		objs = append(objs, m)
	}
	in := model.NewInstance(name, objs)
	var pubs []proto.Message
	for _, p := range gi.Publish {
		env := p.Env
		if env == "" {
			env = model.ReleaseEnvID
		}
		pub, err := in.Publication(p.API, env, "pub-"+p.API+"-"+env, "v1", "", testTime)
		if err != nil {
			t.Fatalf("%s: publish %s to %s: %v", file, p.API, env, err)
		}
		pubs = append(pubs, pub, &apigwv1.Release{ApiId: p.API, EnvId: env, PublicationId: pub.Id})
	}
	return in.With(pubs, nil)
}

// goldenFiles renders resources as one YAML file per kind (empty kinds
// have no file).
func goldenFiles(t testing.TB, r *Resources) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	add := func(kind string, msgs []proto.Message) {
		if len(msgs) == 0 {
			return
		}
		parts := make([]string, len(msgs))
		for i, m := range msgs {
			b, err := protojson.Marshal(m)
			if err != nil {
				t.Fatalf("marshal %s: %v", kind, err)
			}
			parts[i] = string(b)
		}
		y, err := yaml.JSONToYAML([]byte("[" + strings.Join(parts, ",") + "]"))
		if err != nil {
			t.Fatal(err)
		}
		out[kind] = y
	}
	add("listeners", asMessages(r.Listeners))
	add("routes", asMessages(r.Routes))
	add("scopes", asMessages(r.Scopes))
	add("clusters", asMessages(r.Clusters))
	add("endpoints", asMessages(r.Endpoints))
	add("secrets", asMessages(r.Secrets))
	if len(r.Problems) > 0 {
		y, err := yaml.Marshal(r.Problems)
		if err != nil {
			t.Fatal(err)
		}
		out["problems"] = y
	}
	return out
}

func asMessages[T proto.Message](in []T) []proto.Message {
	out := make([]proto.Message, len(in))
	for i, m := range in {
		out[i] = m
	}
	return out
}

// TestGolden translates every testdata/in case and compares the result with
// testdata/out/<case>.<kind>.yaml; -update rewrites them and removes
// goldens no case produces.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "in", "*.yaml"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	produced := map[string]bool{}
	for _, file := range inputs {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			in := loadInstance(t, file)
			res, err := Build(in, caseOptions[name])
			if err != nil {
				t.Fatal(err)
			}
			checkResources(t, res)
			for kind, got := range goldenFiles(t, res) {
				path := filepath.Join("testdata", "out", name+"."+kind+".yaml")
				produced[path] = true
				if *update {
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./xds/translate -update)", err)
				}
				if !bytes.Equal(want, got) {
					t.Errorf("%s differs from the translation (run go test ./xds/translate -update and review the diff):\n%s", path, firstDiff(string(want), string(got)))
				}
			}
		})
	}
	outs, _ := filepath.Glob(filepath.Join("testdata", "out", "*.yaml"))
	for _, f := range outs {
		if produced[f] {
			continue
		}
		if *update {
			_ = os.Remove(f)
			continue
		}
		if !t.Failed() {
			t.Errorf("stale golden %s: no case produces it (run with -update)", f)
		}
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n  want: %s\n  got:  %s", i+1, w, g)
		}
	}
	return ""
}
