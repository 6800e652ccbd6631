package xdstest

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
)

// Wait bounds how long a test client waits for a response before failing.
const Wait = 10 * time.Second

// EnvoyVersion is the Envoy release the test clients present themselves
// as, unless a test gives its own node.
const EnvoyVersion = "1.40.0"

// Node returns the node an Envoy of a release ("1.37.2") sends: id,
// cluster (the apigw instance), user agent and build version.
func Node(id, cluster, version string) *corev3.Node {
	n := &corev3.Node{Id: id, Cluster: cluster, UserAgentName: "envoy"}
	var v [3]uint32
	if _, err := fmt.Sscanf(version, "%d.%d.%d", &v[0], &v[1], &v[2]); err == nil {
		n.UserAgentVersionType = &corev3.Node_UserAgentBuildVersion{UserAgentBuildVersion: &corev3.BuildVersion{
			Version: &typev3.SemanticVersion{MajorNumber: v[0], MinorNumber: v[1], Patch: v[2]},
		}}
	}
	return n
}

// SotwClient plays Envoy on a SotW ADS stream: it subscribes, receives,
// and ACKs or NACKs like Envoy does.
type SotwClient struct {
	t      testing.TB
	node   *corev3.Node
	stream discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	resps  chan *discoveryv3.DiscoveryResponse
	names  map[string][]string
	good   map[string]string
	first  bool
}

func dial(t testing.TB, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// DialSotw opens an ADS stream as node id of instance cluster, a current
// Envoy (EnvoyVersion).
func DialSotw(t testing.TB, addr, id, cluster string) *SotwClient {
	t.Helper()
	return DialSotwAs(t, addr, Node(id, cluster, EnvoyVersion))
}

// DialSotwAs opens an ADS stream as node.
func DialSotwAs(t testing.TB, addr string, node *corev3.Node) *SotwClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(dial(t, addr)).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := &SotwClient{t: t, node: node, stream: stream,
		resps: make(chan *discoveryv3.DiscoveryResponse, 64), names: map[string][]string{}, good: map[string]string{}, first: true}
	go func() {
		defer close(c.resps)
		for {
			r, err := stream.Recv()
			if err != nil {
				return
			}
			c.resps <- r
		}
	}()
	return c
}

func (c *SotwClient) send(req *discoveryv3.DiscoveryRequest) {
	c.t.Helper()
	if c.first {
		req.Node = c.node
		c.first = false
	}
	if err := c.stream.Send(req); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// Subscribe requests a type (no names: all of it, as Envoy does for
// clusters and listeners).
func (c *SotwClient) Subscribe(typeURL string, names ...string) {
	c.t.Helper()
	c.names[typeURL] = names
	c.send(&discoveryv3.DiscoveryRequest{TypeUrl: typeURL, ResourceNames: names, VersionInfo: c.good[typeURL]})
}

// Recv returns the next response; it fails the test after Wait.
func (c *SotwClient) Recv() *discoveryv3.DiscoveryResponse {
	c.t.Helper()
	select {
	case r, ok := <-c.resps:
		if !ok {
			c.t.Fatal("ADS stream closed")
		}
		return r
	case <-time.After(Wait):
		c.t.Fatal("no xDS response within", Wait)
	}
	return nil
}

// Ack accepts a response.
func (c *SotwClient) Ack(r *discoveryv3.DiscoveryResponse) {
	c.t.Helper()
	c.good[r.TypeUrl] = r.VersionInfo
	c.send(&discoveryv3.DiscoveryRequest{TypeUrl: r.TypeUrl, ResourceNames: c.names[r.TypeUrl], VersionInfo: r.VersionInfo, ResponseNonce: r.Nonce})
}

// Nack rejects a response, as Envoy does: the request carries the last
// accepted version and the error.
func (c *SotwClient) Nack(r *discoveryv3.DiscoveryResponse, msg string) {
	c.t.Helper()
	c.send(&discoveryv3.DiscoveryRequest{TypeUrl: r.TypeUrl, ResourceNames: c.names[r.TypeUrl], VersionInfo: c.good[r.TypeUrl], ResponseNonce: r.Nonce,
		ErrorDetail: &statuspb.Status{Code: int32(codes.InvalidArgument), Message: msg}})
}

// DeltaClient plays Envoy on a delta ADS stream.
type DeltaClient struct {
	t      testing.TB
	node   *corev3.Node
	stream discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
	resps  chan *discoveryv3.DeltaDiscoveryResponse
	first  bool
}

// DialDelta opens a delta ADS stream as node id of instance cluster, a
// current Envoy (EnvoyVersion).
func DialDelta(t testing.TB, addr, id, cluster string) *DeltaClient {
	t.Helper()
	return DialDeltaAs(t, addr, Node(id, cluster, EnvoyVersion))
}

// DialDeltaAs opens a delta ADS stream as node.
func DialDeltaAs(t testing.TB, addr string, node *corev3.Node) *DeltaClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(dial(t, addr)).DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := &DeltaClient{t: t, node: node, stream: stream,
		resps: make(chan *discoveryv3.DeltaDiscoveryResponse, 64), first: true}
	go func() {
		defer close(c.resps)
		for {
			r, err := stream.Recv()
			if err != nil {
				return
			}
			c.resps <- r
		}
	}()
	return c
}

func (c *DeltaClient) send(req *discoveryv3.DeltaDiscoveryRequest) {
	c.t.Helper()
	if c.first {
		req.Node = c.node
		c.first = false
	}
	if err := c.stream.Send(req); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// Subscribe subscribes to names of a type (none: wildcard).
func (c *DeltaClient) Subscribe(typeURL string, names ...string) {
	c.t.Helper()
	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: typeURL, ResourceNamesSubscribe: names})
}

// Recv returns the next response; it fails the test after Wait.
func (c *DeltaClient) Recv() *discoveryv3.DeltaDiscoveryResponse {
	c.t.Helper()
	select {
	case r, ok := <-c.resps:
		if !ok {
			c.t.Fatal("delta ADS stream closed")
		}
		return r
	case <-time.After(Wait):
		c.t.Fatal("no delta xDS response within", Wait)
	}
	return nil
}

// Ack accepts a response.
func (c *DeltaClient) Ack(r *discoveryv3.DeltaDiscoveryResponse) {
	c.t.Helper()
	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: r.TypeUrl, ResponseNonce: r.Nonce})
}

// Nack rejects a response.
func (c *DeltaClient) Nack(r *discoveryv3.DeltaDiscoveryResponse, msg string) {
	c.t.Helper()
	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: r.TypeUrl, ResponseNonce: r.Nonce,
		ErrorDetail: &statuspb.Status{Code: int32(codes.InvalidArgument), Message: msg}})
}

// Quiet fails the test if a response arrives within d.
func (c *SotwClient) Quiet(d time.Duration) {
	c.t.Helper()
	select {
	case r, ok := <-c.resps:
		if ok {
			c.t.Fatalf("unexpected %s response version %s (%d resources)", r.TypeUrl, r.VersionInfo, len(r.Resources))
		}
	case <-time.After(d):
	}
}

// Quiet fails the test if a response arrives within d.
func (c *DeltaClient) Quiet(d time.Duration) {
	c.t.Helper()
	select {
	case r, ok := <-c.resps:
		if ok {
			c.t.Fatalf("unexpected delta %s response (%d resources, %d removed)", r.TypeUrl, len(r.Resources), len(r.RemovedResources))
		}
	case <-time.After(d):
	}
}

// SendRaw sends a request as it is (the node is added to the first).
func (c *SotwClient) SendRaw(req *discoveryv3.DiscoveryRequest) {
	c.t.Helper()
	c.send(req)
}

// Unsubscribe unsubscribes from names of a type.
func (c *DeltaClient) Unsubscribe(typeURL string, names ...string) {
	c.t.Helper()
	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: typeURL, ResourceNamesUnsubscribe: names})
}
