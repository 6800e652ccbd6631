package boundary_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/apigw/apigw/e2e/envoysim"
	"github.com/apigw/apigw/extauth"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/ratelimit"
	"github.com/apigw/apigw/ratelimit/counter"
	"github.com/apigw/apigw/xds/translate"
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

// gateway is the data plane of one instance: the translation served by an
// emulated Envoy, with ext_authz and the rate-limit service on loopback.
type gateway struct {
	envoy *envoysim.Envoy
	res   *translate.Resources
}

func startGateway(t *testing.T, in *model.Instance, routing string) *gateway {
	t.Helper()
	feed := model.NewFeed()
	feed.Publish(model.NewSnapshot(1, map[string]*model.Instance{in.Name: in}, nil))
	rls, err := ratelimit.New(feed, counter.NewMemory(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// ext_authz and the rate-limit service on one gRPC server, as an apigw
	// sidecar serves them.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	extauth.New(feed, nil, extauth.WithClock(func() time.Time { return testNow }), extauth.WithServerName(serverName)).Register(g)
	rls.Register(g)
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	addr := lis.Addr().String()

	res, err := translate.Build(in, translate.Options{ExtAuthzAddress: addr, RateLimitAddress: addr, HTTPRouting: routing})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) > 0 {
		t.Fatalf("translation problems: %+v", res.Problems)
	}
	cfg := envoysim.NewConfig()
	byName(cfg.Listeners, res.Listeners, (*listenerv3.Listener).GetName)
	byName(cfg.Clusters, res.Clusters, (*clusterv3.Cluster).GetName)
	byName(cfg.Endpoints, res.Endpoints, (*endpointv3.ClusterLoadAssignment).GetClusterName)
	byName(cfg.Routes, res.Routes, (*routev3.RouteConfiguration).GetName)
	byName(cfg.Scopes, res.Scopes, (*routev3.ScopedRouteConfiguration).GetName)
	byName(cfg.Secrets, res.Secrets, (*tlsv3.Secret).GetName)
	e := envoysim.New(envoysim.StaticConfig(cfg), envoysim.Options{MinServiceTimeout: 10 * time.Second})
	t.Cleanup(e.Close)
	return &gateway{envoy: e, res: res}
}

func byName[T any](dst map[string]T, list []T, name func(T) string) {
	for _, r := range list {
		dst[name(r)] = r
	}
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
