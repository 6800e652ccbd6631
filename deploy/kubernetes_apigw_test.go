package deploy_test

import (
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	corev1 "k8s.io/api/core/v1"

	"github.com/apigw/apigw/cmd/apigw/server"
)

// apigwPod is an apigw container and its parsed flags.
type apigwPod struct {
	w   *workload
	c   corev1.Container
	cfg *server.Config
}

// apigwContainers parses the flags of every apigw container.
func (m *manifests) apigwContainers(t *testing.T) []apigwPod {
	t.Helper()
	var out []apigwPod
	for _, w := range m.workloads {
		for _, c := range w.containers() {
			if !strings.HasPrefix(c.Image, apigwImage+":") {
				continue
			}
			env := map[string]string{}
			for _, e := range c.Env {
				env[e.Name] = e.Value
			}
			cfg, err := parseFlags(t, append(slices.Clone(c.Command), c.Args...), env)
			if err != nil {
				t.Fatalf("%s %s: apigw flags: %v", w.kind, w.name, err)
			}
			out = append(out, apigwPod{w: w, c: c, cfg: cfg})
		}
	}
	return out
}

var componentAddr = map[string]func(*server.Config) string{
	server.CompXDS:       func(c *server.Config) string { return c.XDSAddr },
	server.CompExtAuth:   func(c *server.Config) string { return c.ExtAuthAddr },
	server.CompRateLimit: func(c *server.Config) string { return c.RateLimitAddr },
	server.CompAccessLog: func(c *server.Config) string { return c.AccessLogAddr },
	server.CompBreakers:  func(c *server.Config) string { return c.BreakersAddr },
}

func isLoopback(t *testing.T, addr string) bool {
	t.Helper()
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	ip := net.ParseIP(h)
	return h == "localhost" || ip != nil && ip.IsLoopback()
}

func hasPort(c corev1.Container, p uint32) bool {
	return slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool { return uint32(cp.ContainerPort) == p })
}

// apigw's flags agree with the manifests: the components of each layout,
// container ports for what listens beyond loopback, probes on the ops
// port, the etcd members, the secret key mount, Redis, and where Envoy
// finds ext_authz, the rate-limit service and xDS; Envoy loads the
// bootstrap of deploy/envoy and exposes the listener ports apigw gives it.
func TestKubernetesApigw(t *testing.T) {
	want := map[string]map[string][]string{
		"central": {"apigw": server.AllComponents()},
		"sidecar": {"apigw-xds": {server.CompAdmin, server.CompXDS, server.CompAccessLog}, "envoy": {server.CompExtAuth, server.CompRateLimit, server.CompBreakers}},
	}
	etcdVersion := goModVersion(t, "go.etcd.io/etcd/server/v3")
	for layout, comps := range want {
		t.Run(layout, func(t *testing.T) {
			m := loadKustomization(t, filepath.Join("kubernetes", layout))
			if tag := m.kustomizeImg[apigwImage]; tag == "" {
				t.Errorf("kustomization: set the %s tag with images:", apigwImage)
			}
			pods := m.apigwContainers(t)
			var xds *apigwPod
			for i, p := range pods {
				if !slices.Equal(p.cfg.Components, comps[p.w.name]) {
					t.Errorf("%s: components %v, want %v", p.w.name, p.cfg.Components, comps[p.w.name])
				}
				if p.cfg.Has(server.CompXDS) {
					xds = &pods[i]
				}
				checkApigwPod(t, m, p, etcdVersion)
			}
			if xds == nil || len(pods) != len(comps) {
				t.Fatalf("apigw containers %d, want %d with one serving xDS", len(pods), len(comps))
			}
			checkServiceAddr(t, m, pods, "--envoy-extauth-address", xds.cfg.EnvoyExtAuthAddr, server.CompExtAuth)
			checkServiceAddr(t, m, pods, "--envoy-ratelimit-address", xds.cfg.EnvoyRateLimitAddr, server.CompRateLimit)
			checkServiceAddr(t, m, pods, "--envoy-accesslog-address", xds.cfg.EnvoyAccessLogAddr, server.CompAccessLog)
			checkBreakerFeed(t, m, pods, xds)
			checkEnvoy(t, m, layout, xds)
			for _, w := range m.workloads {
				if w.name == "etcd" && w.pod.Spec.Containers[0].Image != "quay.io/coreos/etcd:"+etcdVersion {
					t.Errorf("etcd image %s, want the version apigw is built with (%s)", w.pod.Spec.Containers[0].Image, etcdVersion)
				}
			}
		})
	}
}

func checkApigwPod(t *testing.T, m *manifests, p apigwPod, etcdVersion string) {
	t.Helper()
	where := p.w.name + "/" + p.c.Name
	for comp, addr := range componentAddr {
		if p.cfg.Has(comp) && !isLoopback(t, addr(p.cfg)) && !hasPort(p.c, port(t, addr(p.cfg))) {
			t.Errorf("%s: %s listens on %s but the port is not declared", where, comp, addr(p.cfg))
		}
	}
	ops := port(t, p.cfg.OpsAddr)
	for path, probe := range map[string]*corev1.Probe{"/readyz": p.c.ReadinessProbe, "/healthz": p.c.LivenessProbe} {
		g := probe.HTTPGet
		if g == nil || g.Path != path {
			t.Errorf("%s: probe should GET %s on the ops port", where, path)
			continue
		}
		if cp, _ := containerPort(p.c, intOrString{name: g.Port.StrVal, num: g.Port.IntVal}); uint32(cp) != ops {
			t.Errorf("%s: %s probe on port %d, apigw's ops port is %d", where, path, cp, ops)
		}
	}
	// etcd members: etcd-<i>.etcd:2379 of the StatefulSet.
	sts := m.workload("etcd")
	if sts == nil || sts.sts == nil {
		t.Fatal("no etcd StatefulSet")
	}
	if len(p.cfg.EtcdEndpoints) != int(sts.replicas) {
		t.Errorf("%s: %d etcd endpoints for %d members", where, len(p.cfg.EtcdEndpoints), sts.replicas)
	}
	for i, ep := range p.cfg.EtcdEndpoints {
		if want := sts.name + "-" + strconv.Itoa(i) + "." + sts.sts.Spec.ServiceName + ":2379"; ep != want {
			t.Errorf("%s: etcd endpoint %s, want %s", where, ep, want)
		}
	}
	if svc := m.service(sts.sts.Spec.ServiceName); svc == nil || svc.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("etcd needs the headless service %s", sts.sts.Spec.ServiceName)
	} else {
		m.servicePort(t, svc, 2379)
	}
	// The secret key comes from a mounted Secret.
	if p.cfg.SecretKeyFile == "" || !mountsSecret(p.w, p.c, filepath.Dir(p.cfg.SecretKeyFile)) {
		t.Errorf("%s: --secret-key-file %q must be in a mounted Secret", where, p.cfg.SecretKeyFile)
	}
	// Replicated or per-Envoy rate limiting shares its counters in Redis.
	if p.cfg.Has(server.CompRateLimit) {
		u, err := url.Parse(p.cfg.RedisURL)
		if err != nil || u.Host == "" {
			t.Errorf("%s: rate limiting needs --redis-url (got %q)", where, p.cfg.RedisURL)
		} else if h, pt, _ := net.SplitHostPort(u.Host); m.service(h) == nil {
			t.Errorf("%s: --redis-url host %s is no Service", where, h)
		} else {
			n, _ := strconv.Atoi(pt)
			m.servicePort(t, m.service(h), int32(n))
		}
	}
}

func mountsSecret(w *workload, c corev1.Container, dir string) bool {
	for _, vm := range c.VolumeMounts {
		if vm.MountPath != dir {
			continue
		}
		for _, v := range w.pod.Spec.Volumes {
			if v.Name == vm.Name && v.Secret != nil {
				return true
			}
		}
	}
	return false
}

// checkServiceAddr checks that the address apigw gives Envoy for a
// component reaches an apigw running it: a Service in front of it, or its
// loopback in the Envoy pod itself.
func checkServiceAddr(t *testing.T, m *manifests, pods []apigwPod, flag, addr, comp string) {
	t.Helper()
	host, p, _ := net.SplitHostPort(addr)
	want := uint32(0)
	if isLoopback(t, addr) {
		envoy := m.workload("envoy")
		for _, ap := range pods {
			if ap.w == envoy && ap.cfg.Has(comp) {
				want = port(t, componentAddr[comp](ap.cfg))
			}
		}
		if want == 0 {
			t.Errorf("%s %s: no apigw with %s in the Envoy pod", flag, addr, comp)
		}
	} else {
		svc := m.service(host)
		if svc == nil {
			t.Fatalf("%s %s: no Service %s", flag, addr, host)
		}
		n, _ := strconv.Atoi(p)
		w, _, cp := m.servicePort(t, svc, int32(n))
		for _, ap := range pods {
			if ap.w == w && ap.cfg.Has(comp) {
				want = port(t, componentAddr[comp](ap.cfg))
				if uint32(cp) != want {
					t.Errorf("%s %s leads to port %d, apigw's %s listens on %d", flag, addr, cp, comp, want)
				}
			}
		}
		if want == 0 {
			t.Errorf("%s %s: Service %s does not lead to an apigw running %s", flag, addr, host, comp)
		}
		return
	}
	if n, _ := strconv.Atoi(p); uint32(n) != want {
		t.Errorf("%s %s, the sidecar's %s listens on port %d", flag, addr, comp, want)
	}
}

// checkBreakerFeed: every ext_authz has its breakers fed by an access-log
// stream, from the accesslog component of its process or from the
// breakers component, which then receives the second access log of the
// Envoy in its pod (--envoy-breaker-accesslog-address).
func checkBreakerFeed(t *testing.T, m *manifests, pods []apigwPod, xds *apigwPod) {
	t.Helper()
	sidecar := false
	for _, p := range pods {
		if p.cfg.Has(server.CompExtAuth) && !p.cfg.Has(server.CompAccessLog) && !p.cfg.Has(server.CompBreakers) {
			t.Errorf("%s: ext_authz without the accesslog or breakers component: breaker plug-ins never open", p.w.name)
		}
		sidecar = sidecar || p.cfg.Has(server.CompBreakers)
	}
	switch addr := xds.cfg.EnvoyBreakerAccessLogAddr; {
	case sidecar && addr == "":
		t.Error("a breakers component runs but --envoy-breaker-accesslog-address is not set: it receives nothing")
	case sidecar:
		if !isLoopback(t, addr) {
			t.Errorf("--envoy-breaker-accesslog-address %s: the breakers component is the one in Envoy's pod (loopback)", addr)
		}
		checkServiceAddr(t, m, pods, "--envoy-breaker-accesslog-address", addr, server.CompBreakers)
	case addr != "":
		t.Errorf("--envoy-breaker-accesslog-address %s but no breakers component", addr)
	}
}

func checkEnvoy(t *testing.T, m *manifests, layout string, xds *apigwPod) {
	t.Helper()
	w := m.workload("envoy")
	if w == nil {
		t.Fatal("no envoy Deployment")
	}
	var envoy *corev1.Container
	for i, c := range w.pod.Spec.Containers {
		if strings.HasPrefix(c.Image, "envoyproxy/envoy:") {
			envoy = &w.pod.Spec.Containers[i]
		}
	}
	if envoy == nil || !regexp.MustCompile(`^envoyproxy/envoy:v1\.(3[7-9]|[4-9][0-9])`).MatchString(envoy.Image) {
		t.Fatalf("envoy: want the official image, 1.37 or newer")
	}
	i := slices.Index(envoy.Args, "-c")
	if i < 0 || i+1 >= len(envoy.Args) || !slices.Contains(envoy.Args, "--service-node") {
		t.Fatalf("envoy args %v: want -c <bootstrap> and --service-node", envoy.Args)
	}
	path := envoy.Args[i+1]
	var cm *corev1.ConfigMap
	for _, vm := range envoy.VolumeMounts {
		if vm.MountPath != filepath.Dir(path) {
			continue
		}
		for _, v := range w.pod.Spec.Volumes {
			if v.Name == vm.Name && v.ConfigMap != nil {
				for _, c := range m.configMaps {
					if c.Name == v.ConfigMap.Name {
						cm = c
					}
				}
			}
		}
	}
	if cm == nil || cm.Data[filepath.Base(path)] == "" {
		t.Fatalf("envoy: %s is not mounted from a ConfigMap of the layout", path)
	}
	got := parseBootstrap(t, cm.Name, []byte(cm.Data[filepath.Base(path)]))
	if want := loadBootstrap(t, filepath.Join("envoy", layout+".yaml")); !proto.Equal(got, want) {
		t.Errorf("ConfigMap %s differs from deploy/envoy/%s.yaml", cm.Name, layout)
	}
	host, p := adsEndpoint(t, got)
	svc := m.service(host)
	if svc == nil {
		t.Fatalf("bootstrap ADS host %s is no Service", host)
	}
	if aw, _, cp := m.servicePort(t, svc, int32(p)); aw != xds.w || uint32(cp) != port(t, xds.cfg.XDSAddr) {
		t.Errorf("bootstrap ADS %s:%d does not reach apigw's xDS port %s", host, p, xds.cfg.XDSAddr)
	}
	for _, lp := range []uint32{uint32(xds.cfg.EnvoyHTTPPort), uint32(xds.cfg.EnvoyHTTPSPort)} {
		if !hasPort(*envoy, lp) {
			t.Errorf("envoy does not declare the listener port %d apigw gives it", lp)
		}
	}
	if es := m.service("envoy"); es == nil {
		t.Error("no envoy Service")
	} else {
		for _, sp := range es.Spec.Ports {
			if _, c, _ := m.servicePort(t, es, sp.Port); c.Name != envoy.Name {
				t.Errorf("envoy Service port %d does not reach the envoy container", sp.Port)
			}
		}
	}
}
