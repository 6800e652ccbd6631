package deploy_test

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/apigw/apigw/cmd/apigw/server"
)

// composeFile is the subset of the compose specification the checks read.
type composeFile struct {
	Name     string                    `json:"name"`
	Services map[string]composeService `json:"services"`
	Volumes  map[string]any            `json:"volumes"`
}

type composeService struct {
	Image       string            `json:"image"`
	User        string            `json:"user"`
	Build       *composeBuild     `json:"build"`
	Command     []string          `json:"command"`
	Entrypoint  []string          `json:"entrypoint"`
	Environment map[string]string `json:"environment"`
	Ports       []string          `json:"ports"`
	Volumes     []string          `json:"volumes"`
	DependsOn   map[string]any    `json:"depends_on"`
	Healthcheck *struct {
		Test []string `json:"test"`
	} `json:"healthcheck"`
}

type composeBuild struct {
	Context    string `json:"context"`
	Dockerfile string `json:"dockerfile"`
}

const composePath = "compose/compose.yaml"

func loadCompose(t *testing.T) *composeFile {
	t.Helper()
	data, err := os.ReadFile(composePath)
	if err != nil {
		t.Fatal(err)
	}
	c := &composeFile{}
	if err := yaml.Unmarshal(data, c); err != nil { // the checks read a subset of the keys
		t.Fatalf("%s: %v", composePath, err)
	}
	return c
}

func (c *composeFile) service(t *testing.T, name string) composeService {
	t.Helper()
	s, ok := c.Services[name]
	if !ok {
		t.Fatalf("%s: no service %q", composePath, name)
	}
	return s
}

// publishedPorts returns the container ports a service publishes.
func publishedPorts(t *testing.T, s composeService) []uint32 {
	t.Helper()
	var out []uint32
	for _, p := range s.Ports {
		parts := strings.Split(p, ":")
		n, err := strconv.Atoi(parts[len(parts)-1])
		if err != nil {
			t.Fatalf("port %q: %v", p, err)
		}
		out = append(out, uint32(n))
	}
	return out
}

// hostPort splits host:port and checks the host is a compose service.
func (c *composeFile) hostPort(t *testing.T, what, addr string) (string, uint32) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("%s %q: %v", what, addr, err)
	}
	if _, ok := c.Services[h]; !ok {
		t.Errorf("%s %q: no service %q", what, addr, h)
	}
	n, _ := strconv.Atoi(p)
	return h, uint32(n)
}

// The compose file agrees with itself and with apigw: apigw's flags parse,
// Envoy loads a bootstrap of deploy/envoy that reaches apigw's xDS port,
// the listener ports apigw gives Envoy are published, ext_authz and the
// rate-limit service are where apigw tells Envoy they are, etcd and Redis
// are services of the file, the images are the project's.
func TestCompose(t *testing.T) {
	c := loadCompose(t)
	apigwSvc := c.service(t, "apigw")
	cfg, err := parseFlags(t, apigwSvc.Command, apigwSvc.Environment)
	if err != nil {
		t.Fatalf("apigw flags: %v", err)
	}
	if !slices.Equal(cfg.Components, server.AllComponents()) {
		t.Errorf("central layout runs every component, got %v", cfg.Components)
	}
	if apigwSvc.Build == nil || !strings.HasPrefix(apigwSvc.Image, apigwImage+":") {
		t.Errorf("apigw: image %q and a build, want %s:<tag>", apigwSvc.Image, apigwImage)
	} else if _, err := os.Stat(filepath.Join("compose", apigwSvc.Build.Context, apigwSvc.Build.Dockerfile)); err != nil {
		t.Errorf("apigw build: %v", err)
	}

	// etcd: three members, the endpoints apigw uses.
	if len(cfg.EtcdEndpoints) != 3 {
		t.Errorf("apigw etcd endpoints %v, want the 3 members", cfg.EtcdEndpoints)
	}
	etcdVersion := goModVersion(t, "go.etcd.io/etcd/server/v3")
	for _, ep := range cfg.EtcdEndpoints {
		name, p := c.hostPort(t, "--etcd-endpoints", ep)
		s := c.service(t, name)
		if p != 2379 || !slices.Contains(s.Command, "--advertise-client-urls=http://"+name+":2379") || !slices.Contains(s.Command, "--name="+name) {
			t.Errorf("etcd member %s: command %v", name, s.Command)
		}
		if s.Image != "quay.io/coreos/etcd:"+etcdVersion {
			t.Errorf("etcd member %s image %s, want the version apigw is built with (%s)", name, s.Image, etcdVersion)
		}
	}
	if cfg.SecretKey == "" && cfg.SecretKeyFile == "" {
		t.Error("apigw needs a secret key with external etcd")
	}
	u, err := url.Parse(cfg.RedisURL)
	if err != nil || u.Scheme != "redis" {
		t.Fatalf("--redis-url %q", cfg.RedisURL)
	}
	c.hostPort(t, "--redis-url", u.Host)

	// Envoy reaches ext_authz and RLS at apigw's ports.
	if h, p := c.hostPort(t, "--envoy-extauth-address", cfg.EnvoyExtAuthAddr); h != "apigw" || p != port(t, cfg.ExtAuthAddr) {
		t.Errorf("--envoy-extauth-address %s: apigw's ext_authz listens on %s", cfg.EnvoyExtAuthAddr, cfg.ExtAuthAddr)
	}
	if h, p := c.hostPort(t, "--envoy-ratelimit-address", cfg.EnvoyRateLimitAddr); h != "apigw" || p != port(t, cfg.RateLimitAddr) {
		t.Errorf("--envoy-ratelimit-address %s: apigw's RLS listens on %s", cfg.EnvoyRateLimitAddr, cfg.RateLimitAddr)
	}
	if h, p := c.hostPort(t, "--envoy-accesslog-address", cfg.EnvoyAccessLogAddr); h != "apigw" || p != port(t, cfg.AccessLogAddr) {
		t.Errorf("--envoy-accesslog-address %s: apigw's access-log service listens on %s", cfg.EnvoyAccessLogAddr, cfg.AccessLogAddr)
	}
	if hc := apigwSvc.Healthcheck; hc == nil || !slices.ContainsFunc(hc.Test, func(s string) bool {
		return strings.Contains(s, ":"+strconv.Itoa(int(port(t, cfg.OpsAddr)))+"/readyz")
	}) {
		t.Errorf("apigw healthcheck should poll /readyz on the ops port %s", cfg.OpsAddr)
	}

	// Envoy: the official image, a bootstrap of deploy/envoy reaching
	// apigw's xDS port, the listener ports published.
	envoy := c.service(t, "envoy")
	if !regexp.MustCompile(`^envoyproxy/envoy:v1\.(3[7-9]|[4-9][0-9])`).MatchString(envoy.Image) {
		t.Errorf("envoy image %q: want the official image, 1.37 or newer", envoy.Image)
	}
	var bootstrap string
	for _, v := range envoy.Volumes {
		src, dst, _ := strings.Cut(v, ":")
		if strings.HasPrefix(dst, "/etc/envoy/envoy.yaml") {
			bootstrap = filepath.Join("compose", src)
		}
	}
	if bootstrap == "" || !slices.Contains(envoy.Command, "/etc/envoy/envoy.yaml") || !slices.Contains(envoy.Command, "--service-node") {
		t.Fatalf("envoy must load /etc/envoy/envoy.yaml from deploy/envoy with a --service-node: %v %v", envoy.Volumes, envoy.Command)
	}
	if filepath.Dir(bootstrap) != "envoy" {
		t.Errorf("bootstrap %s is not one of deploy/envoy", bootstrap)
	}
	host, p := adsEndpoint(t, loadBootstrap(t, bootstrap))
	if _, ok := c.Services[host]; !ok || host != "apigw" || p != port(t, cfg.XDSAddr) {
		t.Errorf("bootstrap ADS %s:%d, apigw serves xDS as service apigw on %s", host, p, cfg.XDSAddr)
	}
	ports := publishedPorts(t, envoy)
	for _, want := range []uint32{uint32(cfg.EnvoyHTTPPort), uint32(cfg.EnvoyHTTPSPort)} {
		if !slices.Contains(ports, want) {
			t.Errorf("envoy publishes %v, not the listener port %d apigw gives it", ports, want)
		}
	}

	// The sample backend serves every address of the compose addresses file.
	pet := c.service(t, "petstore")
	if !strings.HasPrefix(pet.Image, apigwImage+":") || !slices.Equal(pet.Entrypoint, []string{"petstore-backend"}) {
		t.Errorf("petstore: image %s entrypoint %v", pet.Image, pet.Entrypoint)
	}
	listen := pet.Environment["PETSTORE_LISTEN"]
	for _, addr := range composeAddresses(t) {
		h, p := c.hostPort(t, "compose/petstore-addresses.yaml", addr)
		if h != "petstore" || !strings.Contains(listen, ":"+strconv.Itoa(int(p))) {
			t.Errorf("address %s is not served by the petstore service (PETSTORE_LISTEN=%s)", addr, listen)
		}
	}
	for _, v := range apigwSvc.Volumes {
		src, _, _ := strings.Cut(v, ":")
		if _, named := c.Volumes[src]; named {
			continue
		}
		if _, err := os.Stat(filepath.Join("compose", src)); err != nil {
			t.Errorf("apigw volume %s: %v", v, err)
		}
	}
}

// composeAddresses returns the host:port values of the compose addresses
// file (variables, channel members, the authorizer).
func composeAddresses(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("compose/petstore-addresses.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile(`(?m)(?:variable_value: |http://)([a-z0-9.-]+:\d+)|host: ([a-z0-9.-]+), port: (\d+)`).FindAllStringSubmatch(string(data), -1) {
		if m[1] != "" {
			out = append(out, m[1])
		} else {
			out = append(out, m[2]+":"+m[3])
		}
	}
	if len(out) < 5 {
		t.Fatalf("compose/petstore-addresses.yaml: found only %v", out)
	}
	return out
}

// goModVersion returns the version of a module required by go.mod.
func goModVersion(t *testing.T, module string) string {
	t.Helper()
	data, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(module) + `\s+(v\S+)`).FindStringSubmatch(string(data))
	if m == nil {
		t.Fatalf("go.mod does not require %s", module)
	}
	return m[1]
}

// apigwImage is the image repository of apigw in every layout.
const apigwImage = "ghcr.io/apigw/apigw"
