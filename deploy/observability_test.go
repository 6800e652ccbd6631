package deploy_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/apigw/apigw/accesslog"
	"github.com/apigw/apigw/accesslog/kafkalog"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

const dashboardPath = "grafana/apigw-dashboard.json"

// exportedMetrics are the series names apigw's access-log component
// exports once it has seen a call of every kind.
func exportedMetrics(t *testing.T) []string {
	t.Helper()
	reg := prometheus.NewRegistry()
	stats, err := accesslog.NewStats(accesslog.StatsOptions{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := accesslog.New(stats, slog.New(slog.NewTextHandler(io.Discard, nil)), reg); err != nil {
		t.Fatal(err)
	}
	// The kafka_log producer's series exist once a plug-in runs.
	kafka, err := kafkalog.New(slog.New(slog.NewTextHandler(io.Discard, nil)), kafkalog.Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer kafka.Close()
	kafka.Update(live.NewSnapshot(1, map[string]*model.Instance{"default": model.NewInstance("default", []proto.Message{&apigwv1.Plugin{Id: "k",
		PluginName: "kafka_calls", PluginType: model.PluginKafkaLog, PluginContent: `{"broker_list":["127.0.0.1:1"],"topic":"t"}`}})}, nil))
	stats.Add(&accesslog.Record{Instance: "default", Group: "g", API: "a", Env: "e", App: "app", Status: 429, ErrorCode: "APIG.0308",
		Duration: time.Millisecond, Upstream: time.Millisecond, HasUpstream: true})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, mf := range mfs {
		out = append(out, mf.GetName(), mf.GetName()+"_bucket", mf.GetName()+"_sum", mf.GetName()+"_count")
	}
	return out
}

// The Grafana dashboard parses, every query names only series apigw
// exports and only their labels, and its variables are the ones the
// queries use.
func TestGrafanaDashboard(t *testing.T) {
	data, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name string `json:"name"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	if d.UID == "" || len(d.Panels) < 6 {
		t.Fatalf("dashboard uid %q, %d panels", d.UID, len(d.Panels))
	}
	known := exportedMetrics(t)
	// sink="breakers": the access-log series of the breakers component
	// (cmd/apigw/server TestSidecarBreakersOpenFromTheirAccessLog).
	labels := []string{"gateway", "group", "api", "env", "class", "code", "app", "result", "le", "plugin", "sink"}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	series := regexp.MustCompile(`apigw_[a-z_]+`)
	matchers := regexp.MustCompile(`([a-z_]+)\s*(=~|!=|!~|=)\s*"`)
	byLabels := regexp.MustCompile(`by \(([^)]*)\)`)
	varRef := regexp.MustCompile(`\$([a-z_]+)`)
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, s := range series.FindAllString(tg.Expr, -1) {
				if !slices.Contains(known, s) {
					t.Errorf("panel %q: %s is not exported by apigw", p.Title, s)
				}
			}
			for _, m := range matchers.FindAllStringSubmatch(tg.Expr, -1) {
				if !slices.Contains(labels, m[1]) {
					t.Errorf("panel %q: label %s is not on apigw's series", p.Title, m[1])
				}
			}
			for _, m := range byLabels.FindAllStringSubmatch(tg.Expr, -1) {
				for _, l := range strings.Split(m[1], ",") {
					if !slices.Contains(labels, strings.TrimSpace(l)) {
						t.Errorf("panel %q: by (%s): %s is not a label of apigw's series", p.Title, m[1], l)
					}
				}
			}
			for _, m := range varRef.FindAllStringSubmatch(tg.Expr, -1) {
				if !vars[m[1]] {
					t.Errorf("panel %q: variable $%s is not defined", p.Title, m[1])
				}
			}
		}
	}
}

// Prometheus of the compose layout scrapes apigw's ops port, and Grafana
// is provisioned with it and with the dashboard of deploy/grafana.
func TestComposePrometheusAndGrafana(t *testing.T) {
	c := loadCompose(t)
	apigwSvc := c.service(t, "apigw")
	cfg, err := parseFlags(t, apigwSvc.Command, apigwSvc.Environment)
	if err != nil {
		t.Fatal(err)
	}
	prom := c.service(t, "prometheus")
	mounted := func(s composeService, inContainer string) string {
		for _, v := range s.Volumes {
			parts := strings.Split(v, ":")
			if len(parts) >= 2 && parts[1] == inContainer {
				p := filepath.Join("compose", parts[0])
				if _, err := os.Stat(p); err != nil {
					t.Errorf("volume %s: %v", v, err)
				}
				return p
			}
		}
		t.Fatalf("nothing mounted at %s", inContainer)
		return ""
	}
	data, err := os.ReadFile(mounted(prom, "/etc/prometheus/prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var pc struct {
		ScrapeConfigs []struct {
			MetricsPath   string `json:"metrics_path"`
			StaticConfigs []struct {
				Targets []string `json:"targets"`
			} `json:"static_configs"`
		} `json:"scrape_configs"`
	}
	if err := yaml.Unmarshal(data, &pc); err != nil {
		t.Fatal(err)
	}
	scraped := false
	for _, sc := range pc.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				h, p := c.hostPort(t, "prometheus target", target)
				if h == "apigw" && p == port(t, cfg.OpsAddr) && (sc.MetricsPath == "" || sc.MetricsPath == "/metrics") {
					scraped = true
				}
			}
		}
	}
	if !scraped {
		t.Errorf("prometheus.yml does not scrape apigw's ops port %s", cfg.OpsAddr)
	}
	g := c.service(t, "grafana")
	if dash := mounted(g, "/var/lib/grafana/dashboards/apigw-dashboard.json"); filepath.Clean(dash) != filepath.Clean(dashboardPath) {
		t.Errorf("grafana mounts %s, not the dashboard of deploy/grafana", dash)
	}
	ds, err := os.ReadFile(mounted(g, "/etc/grafana/provisioning/datasources/apigw.yaml"))
	if err != nil || !strings.Contains(string(ds), "http://prometheus:9090") {
		t.Errorf("grafana data source is not the compose prometheus: %s %v", ds, err)
	}
	mounted(g, "/etc/grafana/provisioning/dashboards/apigw.yaml")
}
