package boundary_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/apigw/apigw/extauth"
	"github.com/apigw/apigw/internal/certgen"
	"github.com/apigw/apigw/internal/certgen/certgentest"
	"github.com/apigw/apigw/internal/envoysim"
	"github.com/apigw/apigw/internal/testutil"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/ratelimit"
	"github.com/apigw/apigw/ratelimit/counter"
	"github.com/apigw/apigw/xds/ads"
	"github.com/apigw/apigw/xds/translate"
	"github.com/apigw/apigw/xds/xdsauth"
	"github.com/apigw/apigw/xds/xdscache"
	"github.com/apigw/apigw/xds/xdstest"
)

// testNow is ext_authz's clock (the system parameter handleTime) and the
// signing time of APP requests.
var testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// serverName is ext_authz's serverName system parameter
// (extauth.WithServerName, apigw --server-name).
const serverName = "gw-boundary-1"

// received is what the backend got.
type received struct {
	method, host, uri string
	header            http.Header
}

// backend records every request it receives.
type backend struct {
	srv *httptest.Server
	got chan received
}

func newBackend(t *testing.T) *backend {
	t.Helper()
	b := &backend{got: make(chan received, 16)}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.got <- received{method: r.Method, host: r.Host, uri: r.RequestURI, header: r.Header.Clone()}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(b.srv.Close)
	return b
}

// newAuthorizer is a custom authorizer: the frontend one allows with the
// context user=alice, role="ops team/1"; the backend one with tier=gold.
func newAuthorizer(t *testing.T) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := map[string]string{"user": "alice", "role": "ops team/1"}
		if strings.HasSuffix(r.URL.Path, "/back") {
			ctx = map[string]string{"tier": "gold"}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "allow", "context": ctx})
	}))
	t.Cleanup(s.Close)
	return s
}

// loadInstance reads testdata/apis.yaml with the servers' addresses, checks
// every object as the admin API does, and publishes every API to RELEASE
// (and stages to TEST).
func loadInstance(t *testing.T, cfg *apigwv1.InstanceConfig, backendAddr, authorizerURL string) *model.Instance {
	t.Helper()
	raw, err := os.ReadFile("testdata/apis.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer("{{BACKEND}}", backendAddr, "{{AUTHORIZER}}", authorizerURL).Replace(string(raw))
	js, err := yaml.YAMLToJSON([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(js, &items); err != nil {
		t.Fatal(err)
	}
	objs := []proto.Message{&apigwv1.Instance{Name: model.DefaultInstance, Config: cfg}}
	for i, item := range items {
		r := &apigwv1.Resource{}
		if err := protojson.Unmarshal(item, r); err != nil {
			t.Fatalf("object %d: %v", i, err)
		}
		m, _ := model.Unwrap(r)
		model.Normalize(m)
		objs = append(objs, m)
	}
	in := model.NewInstance(model.DefaultInstance, objs)
	for _, o := range objs {
		if vs := model.Validate(o, model.AbsoluteLimits()); len(vs) > 0 {
			t.Fatalf("%s %s: %v", model.KindOf(o).Name, model.IDOf(o), vs)
		}
		if vs := in.Check(o); len(vs) > 0 {
			t.Fatalf("%s %s: %v", model.KindOf(o).Name, model.IDOf(o), vs)
		}
	}
	var pubs []proto.Message
	publish := func(apiID, envID string) {
		id := "pub-" + apiID + "-" + envID
		pub, err := in.Publication(apiID, envID, id, "1", "", testNow)
		if err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, pub, &apigwv1.Release{ApiId: apiID, EnvId: envID, PublicationId: id})
	}
	for _, a := range in.Objects(model.KindAPI) {
		publish(model.IDOf(a), model.ReleaseEnvID)
	}
	publish("stages", "env-test")
	return in.With(pubs, nil)
}

// gateway is the data plane of one instance: the translation served over
// ADS by apigw's xDS server to an emulated Envoy of a given release, which
// reaches ext_authz and the rate-limit service on loopback, all over mTLS
// with the certificates `apigw certs` makes, as apigw runs them.
type gateway struct {
	envoy *envoysim.Envoy
	ads   *envoysim.ADS
}

func startGateway(t *testing.T, in *model.Instance, routing, envoyVersion string) *gateway {
	t.Helper()
	pki := certgentest.PKI(t)
	// apigw's server certificate; Envoy's must chain to the CA.
	serverTLS := grpc.Creds(credentials.NewTLS(certgentest.ServerTLS(t, pki)))
	envoyDir := filepath.Join(pki, certgen.EnvoySubdir(model.DefaultInstance))

	feed := live.NewFeed()
	feed.Publish(live.NewSnapshot(1, map[string]*model.Instance{in.Name: in}, nil))
	rls, err := ratelimit.New(feed, counter.NewMemory(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// ext_authz and the rate-limit service on one gRPC server, as an apigw
	// sidecar serves them.
	g := grpc.NewServer(serverTLS)
	extauth.New(feed, nil, extauth.WithClock(func() time.Time { return testNow }), extauth.WithServerName(serverName)).Register(g)
	rls.Register(g)
	addr := testutil.ServeGRPC(t, g)

	res, err := translate.Build(in, translate.Options{ExtAuthzAddress: addr, RateLimitAddress: addr, HTTPRouting: routing,
		ExtAuthzTLS: true, RateLimitTLS: true, EnvoyTLSDir: envoyDir})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) > 0 {
		t.Fatalf("translation problems: %+v", res.Problems)
	}

	// apigw's xDS server, which authorizes the Envoy by its certificate.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	cache := xdscache.New(log)
	cache.Set(in.Name, 1, res)
	xg := grpc.NewServer(append(append(ads.GRPCOptions(), serverTLS),
		xdsauth.New(xdsauth.Options{RequireClientCert: true, Log: log}).ServerOptions()...)...)
	ads.New(ctx, cache, live.NewStatus(), log, ads.Options{}).Register(xg)
	xaddr := testutil.ServeGRPC(t, xg)

	// The Envoy's ADS cluster: its client certificate and apigw's CA.
	clientTLS := certgentest.ClientTLS(t, pki, "127.0.0.1", certgen.EnvoySubdir(model.DefaultInstance))
	ads, err := envoysim.Connect(ctx, xaddr, xdstest.Node("boundary-envoy", in.Name, envoyVersion), log, envoysim.WithTLS(clientTLS))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ads.Close() })
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	if _, err := ads.WaitFor(wctx, holds(res, envoyVersion)); err != nil {
		t.Fatal(err)
	}
	if n := ads.NACKs(); len(n) > 0 {
		t.Fatalf("the emulated Envoy rejected configuration: %v", n)
	}
	e := envoysim.New(ads, envoysim.Options{MinServiceTimeout: 10 * time.Second, Log: log})
	t.Cleanup(e.Close)
	return &gateway{envoy: e, ads: ads}
}

// holds reports whether an Envoy of a release holds what apigw serves it:
// with scoped routing, Envoys from 1.38 on the scoped listeners and every
// group's route configuration, older ones the single-RDS listeners and
// RouteHTTP; every cluster, endpoint and secret; and the route
// configurations its listeners and scopes name.
func holds(res *translate.Resources, envoyVersion string) func(*envoysim.Config) error {
	var v [3]int
	fmt.Sscanf(envoyVersion, "%d.%d.%d", &v[0], &v[1], &v[2])
	scoped := res.SingleListeners != nil && (v[0] > 1 || v[1] >= 38)
	listeners := res.Listeners
	if res.SingleListeners != nil && !scoped {
		listeners = res.SingleListeners
	}
	routes := map[string]*routev3.RouteConfiguration{}
	for _, rc := range append(slices.Clone(res.Routes), res.SingleRoutes...) {
		routes[rc.Name] = rc
	}
	return func(c *envoysim.Config) error {
		if err := sameSet(c.Listeners, listeners, (*listenerv3.Listener).GetName); err != nil {
			return fmt.Errorf("listeners: %w", err)
		}
		if err := sameSet(c.Clusters, res.Clusters, (*clusterv3.Cluster).GetName); err != nil {
			return fmt.Errorf("clusters: %w", err)
		}
		if err := sameSet(c.Endpoints, res.Endpoints, (*endpointv3.ClusterLoadAssignment).GetClusterName); err != nil {
			return fmt.Errorf("endpoints: %w", err)
		}
		if err := sameSet(c.Secrets, res.Secrets, (*tlsv3.Secret).GetName); err != nil {
			return fmt.Errorf("secrets: %w", err)
		}
		var scopes []*routev3.ScopedRouteConfiguration
		if scoped {
			scopes = res.Scopes
		}
		if err := sameSet(c.Scopes, scopes, (*routev3.ScopedRouteConfiguration).GetName); err != nil {
			return fmt.Errorf("scopes: %w", err)
		}
		names, err := routeNames(listeners, scopes)
		if err != nil {
			return err
		}
		if len(names) == 0 {
			return errors.New("no listener names a route configuration")
		}
		for _, n := range names {
			if routes[n] == nil || !proto.Equal(c.Routes[n], routes[n]) {
				return fmt.Errorf("route configuration %s missing or not the one apigw serves", n)
			}
		}
		return nil
	}
}

// sameSet reports whether got holds exactly the resources of want.
func sameSet[T proto.Message](got map[string]T, want []T, name func(T) string) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d, want %d", len(got), len(want))
	}
	for _, r := range want {
		if g, ok := got[name(r)]; !ok || !proto.Equal(g, r) {
			return fmt.Errorf("%s missing or different", name(r))
		}
	}
	return nil
}

// routeNames are the route configurations that listeners (over RDS) and
// scopes name.
func routeNames(listeners []*listenerv3.Listener, scopes []*routev3.ScopedRouteConfiguration) ([]string, error) {
	var names []string
	for _, l := range listeners {
		for _, fc := range l.FilterChains {
			for _, f := range fc.Filters {
				h := &hcmv3.HttpConnectionManager{}
				if err := f.GetTypedConfig().UnmarshalTo(h); err != nil {
					return nil, fmt.Errorf("listener %s: %w", l.Name, err)
				}
				if n := h.GetRds().GetRouteConfigName(); n != "" {
					names = append(names, n)
				}
			}
		}
	}
	for _, s := range scopes {
		names = append(names, s.RouteConfigurationName)
	}
	return names, nil
}

var serveMu sync.Mutex

// serve sends one request through the emulated Envoy and returns what the
// backend received.
func (g *gateway) serve(t *testing.T, b *backend, req *envoysim.Request) (*envoysim.Response, *received) {
	t.Helper()
	serveMu.Lock()
	defer serveMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := g.envoy.Serve(ctx, req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.Path, err)
	}
	select {
	case r := <-b.got:
		return resp, &r
	default:
		return resp, nil
	}
}
