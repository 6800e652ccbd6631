package xdsauth_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	secretservice "github.com/envoyproxy/go-control-plane/envoy/service/secret/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/apigw/apigw/internal/certgen/certgentest"
	"github.com/apigw/apigw/internal/testutil"
	"github.com/apigw/apigw/internal/tlsfiles"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/xds/ads"
	"github.com/apigw/apigw/xds/translate"
	"github.com/apigw/apigw/xds/xdsauth"
	"github.com/apigw/apigw/xds/xdscache"
)

// keyPEM is the private key of every instance's TLS certificate: no
// response to an unauthenticated stream may contain it.
const keyPEM = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg-test-key-material\n-----END PRIVATE KEY-----\n"

// oidcMaterial marks the SDS generic secrets of an oidc_auth plug-in (its
// client secret and cookie HMAC secret): like private keys, they must
// reach authenticated Envoys only.
const oidcMaterial = "oidc-test-material"

// oidcSecretNames are the SDS names of an instance's oidc_auth plug-in.
func oidcSecretNames(inst string) []string {
	return []string{translate.OIDCClientSecretName("oidc-" + inst), translate.OIDCHMACSecretName("oidc-" + inst)}
}

// instanceResources are an instance's configuration: a cluster, a TLS
// certificate with its key, a CA bundle and the generic secrets of an
// oidc_auth plug-in.
func instanceResources(inst string) *translate.Resources {
	return &translate.Resources{
		Clusters: []*clusterv3.Cluster{{Name: "c-" + inst, ConnectTimeout: durationpb.New(time.Second)}},
		Secrets: []*tlsv3.Secret{
			{Name: "cert-" + inst, Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
				CertificateChain: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "chain-" + inst}},
				PrivateKey:       &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: keyPEM}},
			}}},
			{Name: "ca-" + inst, Type: &tlsv3.Secret_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
				TrustedCa: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "ca-" + inst}},
			}}},
			{Name: oidcSecretNames(inst)[0], Type: &tlsv3.Secret_GenericSecret{GenericSecret: &tlsv3.GenericSecret{
				Secret: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "client-" + oidcMaterial}},
			}}},
			{Name: oidcSecretNames(inst)[1], Type: &tlsv3.Secret_GenericSecret{GenericSecret: &tlsv3.GenericSecret{
				Secret: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "hmac-" + oidcMaterial}},
			}}},
		},
	}
}

// server runs apigw's xDS server (resources per node.cluster, responses
// encoded once and shared between streams) behind the authorizer on
// 127.0.0.1:0, with mTLS when dir is set.
func server(t *testing.T, dir string, opts xdsauth.Options) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	cache := xdscache.New(opts.Log)
	for _, inst := range []string{"default", "other"} {
		cache.Set(inst, 1, instanceResources(inst))
	}
	sopts := append(ads.GRPCOptions(), xdsauth.New(opts).ServerOptions()...)
	if dir != "" {
		tf, err := tlsfiles.NewServer(certgentest.ServerFiles(dir), opts.Log)
		if err != nil {
			t.Fatal(err)
		}
		sopts = append(sopts, grpc.Creds(credentials.NewTLS(tf.Config())))
	}
	s := grpc.NewServer(sopts...)
	ads.New(ctx, cache, live.NewStatus(), opts.Log, ads.Options{}).Register(s)
	return testutil.ServeGRPC(t, s)
}

// dial connects as Envoy does: over mTLS with the certificate in
// dir/<envoyDir> when envoyDir is set, over TLS without a certificate when
// only dir is set, in plaintext otherwise.
func dial(t *testing.T, addr, dir, envoyDir string) *grpc.ClientConn {
	t.Helper()
	if dir == "" {
		return testutil.DialGRPC(t, addr)
	}
	return testutil.DialGRPC(t, addr, grpc.WithTransportCredentials(credentials.NewTLS(certgentest.ClientTLS(t, dir, "apigw", envoyDir))))
}

// received is what an Envoy-shaped client got: resource names by type,
// and every response's bytes.
type received struct {
	names map[string][]string
	raw   [][]byte
}

func (r *received) has(typeURL string, names ...string) bool {
	got := slices.Clone(r.names[typeURL])
	sort.Strings(got)
	sort.Strings(names)
	return slices.Equal(got, names)
}

// leakedOIDC reports whether an oidc_auth secret arrived.
func (r *received) leakedOIDC() bool {
	for _, b := range r.raw {
		if bytes.Contains(b, []byte(oidcMaterial)) {
			return true
		}
	}
	return false
}

func (r *received) leaked() bool {
	for _, b := range r.raw {
		if bytes.Contains(b, []byte("test-key-material")) {
			return true
		}
	}
	return false
}

// sotw plays Envoy on a SotW ADS stream: node on the first request only,
// clusters (wildcard) then the secrets its listeners would reference,
// ACKing each response; it returns what arrived within the wait or the
// stream's error.
func sotw(t *testing.T, conn *grpc.ClientConn, cluster string, secrets ...string) (*received, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	got := &received{names: map[string][]string{}}
	if err != nil {
		return got, err
	}
	node := &corev3.Node{Id: "envoy-1", Cluster: cluster}
	if err := st.Send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: resourcev3.ClusterType}); err != nil {
		return got, sendErr(err, st.Recv)
	}
	if err := st.Send(&discoveryv3.DiscoveryRequest{TypeUrl: resourcev3.SecretType, ResourceNames: secrets}); err != nil {
		return got, sendErr(err, st.Recv)
	}
	for pending := 2; pending > 0; pending-- {
		resp, err := st.Recv()
		if err != nil {
			return got, err
		}
		b, _ := proto.Marshal(resp)
		got.raw = append(got.raw, b)
		for _, r := range resp.GetResources() {
			got.names[resp.GetTypeUrl()] = append(got.names[resp.GetTypeUrl()], resourceName(t, r.GetTypeUrl(), r.GetValue()))
		}
		if err := st.Send(&discoveryv3.DiscoveryRequest{TypeUrl: resp.GetTypeUrl(), VersionInfo: resp.GetVersionInfo(), ResponseNonce: resp.GetNonce(),
			ResourceNames: map[bool][]string{true: secrets}[resp.GetTypeUrl() == resourcev3.SecretType]}); err != nil {
			return got, err
		}
	}
	return got, nil
}

// delta plays Envoy on a delta ADS stream subscribing to the secrets.
func delta(t *testing.T, conn *grpc.ClientConn, cluster string, secrets ...string) (*received, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	got := &received{names: map[string][]string{}}
	if err != nil {
		return got, err
	}
	if err := st.Send(&discoveryv3.DeltaDiscoveryRequest{Node: &corev3.Node{Id: "envoy-1", Cluster: cluster}, TypeUrl: resourcev3.ClusterType}); err != nil {
		return got, sendErr(err, st.Recv)
	}
	if err := st.Send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resourcev3.SecretType, ResourceNamesSubscribe: secrets}); err != nil {
		return got, sendErr(err, st.Recv)
	}
	for pending := 2; pending > 0; pending-- {
		resp, err := st.Recv()
		if err != nil {
			return got, err
		}
		b, _ := proto.Marshal(resp)
		got.raw = append(got.raw, b)
		for _, r := range resp.GetResources() {
			got.names[resp.GetTypeUrl()] = append(got.names[resp.GetTypeUrl()], r.GetName())
		}
		if err := st.Send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resp.GetTypeUrl(), ResponseNonce: resp.GetNonce()}); err != nil {
			return got, sendErr(err, st.Recv)
		}
	}
	return got, nil
}

func resourceName(t *testing.T, typeURL string, b []byte) string {
	t.Helper()
	switch typeURL {
	case resourcev3.ClusterType:
		c := &clusterv3.Cluster{}
		if err := proto.Unmarshal(b, c); err != nil {
			t.Fatal(err)
		}
		return c.GetName()
	case resourcev3.SecretType:
		s := &tlsv3.Secret{}
		if err := proto.Unmarshal(b, s); err != nil {
			t.Fatal(err)
		}
		return s.GetName()
	}
	t.Fatalf("unexpected type %s", typeURL)
	return ""
}

func TestClientWithoutCertificateRefused(t *testing.T) {
	dir := certgentest.PKI(t, "default", "other")
	addr := server(t, dir, xdsauth.Options{RequireClientCert: true})
	for name, conn := range map[string]*grpc.ClientConn{
		"TLS without a client certificate": dial(t, addr, dir, ""),
		"plaintext":                        dial(t, addr, "", ""),
	} {
		got, err := sotw(t, conn, "default", "cert-default")
		if err == nil || len(got.raw) > 0 {
			t.Errorf("%s: %d responses, err %v; want refused", name, len(got.raw), err)
		}
	}
	// A certificate of another CA is refused as well.
	stranger := certgentest.PKI(t, "default", "other")
	conn := dial(t, addr, stranger, "envoy")
	if got, err := sotw(t, conn, "default", "cert-default"); err == nil || len(got.raw) > 0 {
		t.Errorf("another CA's certificate: %d responses, err %v", len(got.raw), err)
	}
}

func TestAuthenticatedEnvoyGetsExactlyItsInstance(t *testing.T) {
	dir := certgentest.PKI(t, "default", "other")
	addr := server(t, dir, xdsauth.Options{RequireClientCert: true})
	conn := dial(t, addr, dir, "envoy") // spiffe://apigw.local/apigw/envoy/default
	for name, subscribe := range map[string]func(*testing.T, *grpc.ClientConn, string, ...string) (*received, error){"sotw": sotw, "delta": delta} {
		got, err := subscribe(t, conn, "default", append([]string{"cert-default", "ca-default"}, oidcSecretNames("default")...)...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !got.has(resourcev3.ClusterType, "c-default") || !got.has(resourcev3.SecretType, append([]string{"cert-default", "ca-default"}, oidcSecretNames("default")...)...) {
			t.Errorf("%s: got %v; want c-default, cert-default, ca-default and the oidc secrets", name, got.names)
		}
		if !got.leaked() {
			t.Errorf("%s: an authenticated Envoy did not get its private key", name)
		}
		if !got.leakedOIDC() {
			t.Errorf("%s: an authenticated Envoy did not get its oidc_auth secrets", name)
		}
	}
}

func TestOtherInstanceRefused(t *testing.T) {
	dir := certgentest.PKI(t, "default", "other")
	addr := server(t, dir, xdsauth.Options{RequireClientCert: true})
	conn := dial(t, addr, dir, "envoy") // allowed "default" only
	for name, subscribe := range map[string]func(*testing.T, *grpc.ClientConn, string, ...string) (*received, error){"sotw": sotw, "delta": delta} {
		got, err := subscribe(t, conn, "other", "cert-other")
		if status.Code(err) != codes.PermissionDenied || len(got.raw) > 0 {
			t.Errorf("%s: %d responses, err %v; want PermissionDenied and nothing", name, len(got.raw), err)
		}
	}
	// The other instance's own Envoy gets it.
	got, err := sotw(t, dial(t, addr, dir, "envoy-other"), "other", "cert-other")
	if err != nil || !got.has(resourcev3.ClusterType, "c-other") {
		t.Errorf("envoy-other: %v %v", got.names, err)
	}

	// Switching node.cluster on a stream is refused before the request is served.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = st.Send(&discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: "e", Cluster: "default"}, TypeUrl: resourcev3.ClusterType})
	if _, err := st.Recv(); err != nil {
		t.Fatal(err)
	}
	_ = st.Send(&discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: "e", Cluster: "other"}, TypeUrl: resourcev3.SecretType, ResourceNames: []string{"cert-other"}})
	for {
		resp, err := st.Recv()
		if err != nil {
			if status.Code(err) != codes.PermissionDenied {
				t.Errorf("switching instance: %v", err)
			}
			break
		}
		if resp.GetTypeUrl() == resourcev3.SecretType {
			t.Fatalf("switching instance: got %v", resp)
		}
	}

	// A first request without a node is refused on an authenticated stream.
	st2, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = st2.Send(&discoveryv3.DiscoveryRequest{TypeUrl: resourcev3.ClusterType})
	if _, err := st2.Recv(); status.Code(err) != codes.InvalidArgument {
		t.Errorf("no node: %v", err)
	}

	// The fetch (unary) form follows the same rules.
	sds := secretservice.NewSecretDiscoveryServiceClient(conn)
	if _, err := sds.FetchSecrets(ctx, &discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: "e", Cluster: "other"}, ResourceNames: []string{"cert-other"}}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("FetchSecrets of another instance: %v", err)
	}
}

func TestIdentitiesFile(t *testing.T) {
	dir := certgentest.PKI(t, "default", "other")
	file := filepath.Join(t.TempDir(), "identities")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("# identity  instances\nspiffe://apigw.local/apigw/envoy/default other\n")
	policy, err := xdsauth.NewFile(file, slog.New(slog.DiscardHandler), 0)
	if err != nil {
		t.Fatal(err)
	}
	addr := server(t, dir, xdsauth.Options{RequireClientCert: true, Policy: policy})
	conn := dial(t, addr, dir, "envoy")
	if _, err := sotw(t, conn, "default"); status.Code(err) != codes.PermissionDenied {
		t.Errorf("the file replaces the convention: default must be refused, got %v", err)
	}
	if got, err := sotw(t, conn, "other"); err != nil || !got.has(resourcev3.ClusterType, "c-other") {
		t.Errorf("other per the file: %v %v", got.names, err)
	}
	// Changed on disk: read again for the next stream; a broken change keeps the rules.
	write("spiffe://apigw.local/apigw/* *\n")
	if _, err := sotw(t, conn, "default"); err != nil {
		t.Errorf("after the change (prefix rule, any instance): %v", err)
	}
	write("spiffe://apigw.local/apigw/envoy/default\n")
	if _, err := sotw(t, conn, "default"); err != nil {
		t.Errorf("a broken file must keep the previous rules: %v", err)
	}
}

func TestParseRules(t *testing.T) {
	r, err := xdsauth.ParseRules([]byte("envoy-0.gw.example.com  default, staging\n\n# x\nspiffe://td/ops/* *\n"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		ids  []string
		inst string
		want bool
	}{
		{[]string{"envoy-0.gw.example.com"}, "staging", true},
		{[]string{"envoy-0.gw.example.com"}, "prod", false},
		{[]string{"envoy-1.gw.example.com"}, "default", false},
		{[]string{"x", "spiffe://td/ops/anything"}, "prod", true},
		{nil, "default", false},
	}
	for _, c := range cases {
		if got := r.Allows(c.ids, c.inst); got != c.want {
			t.Errorf("Allows(%v, %s) = %v", c.ids, c.inst, got)
		}
	}
	if _, err := xdsauth.ParseRules([]byte("ok default\nlonely\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("want an error naming line 2, got %v", err)
	}
	conv := xdsauth.Convention{}
	if !conv.Allows([]string{"spiffe://corp.example/apigw/envoy/default"}, "default") || conv.Allows([]string{"spiffe://corp.example/apigw/envoy/default"}, "other") ||
		conv.Allows([]string{"https://corp.example/apigw/envoy/default"}, "default") || conv.Allows([]string{"envoy.apigw.local"}, "default") {
		t.Error("convention")
	}
}

func TestPrivateKeysNeverReachUnauthenticatedStreams(t *testing.T) {
	var logs testutil.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	addr := server(t, "", xdsauth.Options{Insecure: true, Log: log}) // plaintext, as --xds-insecure
	conn := dial(t, addr, "", "")
	for name, subscribe := range map[string]func(*testing.T, *grpc.ClientConn, string, ...string) (*received, error){"sotw": sotw, "delta": delta} {
		for _, inst := range []string{"default", "other"} {
			got, err := subscribe(t, conn, inst, append([]string{"cert-" + inst, "ca-" + inst}, oidcSecretNames(inst)...)...)
			if err != nil && !strings.Contains(err.Error(), "DeadlineExceeded") {
				t.Fatalf("%s %s: %v", name, inst, err)
			}
			if got.leaked() {
				t.Errorf("%s %s: a private key reached an unauthenticated stream", name, inst)
			}
			if got.leakedOIDC() {
				t.Errorf("%s %s: an oidc_auth client or HMAC secret reached an unauthenticated stream", name, inst)
			}
			for _, n := range oidcSecretNames(inst) {
				if slices.Contains(got.names[resourcev3.SecretType], n) {
					t.Errorf("%s %s: oidc secret %s was sent", name, inst, n)
				}
			}
			if !got.has(resourcev3.ClusterType, "c-"+inst) {
				t.Errorf("%s %s: the rest of the configuration must arrive: %v", name, inst, got.names)
			}
			if slices.Contains(got.names[resourcev3.SecretType], "cert-"+inst) {
				t.Errorf("%s %s: the certificate secret was sent", name, inst)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := secretservice.NewSecretDiscoveryServiceClient(conn).FetchSecrets(ctx, &discoveryv3.DiscoveryRequest{
		Node: &corev3.Node{Id: "e", Cluster: "default"}, TypeUrl: resourcev3.SecretType, ResourceNames: append([]string{"cert-default", "ca-default"}, oidcSecretNames("default")...)})
	// apigw's server answers xDS over streams only; whatever a unary fetch
	// returns must not hold a key either.
	if err != nil && status.Code(err) != codes.Unimplemented {
		t.Fatal(err)
	}
	if b, _ := proto.Marshal(resp); bytes.Contains(b, []byte("test-key-material")) || bytes.Contains(b, []byte(oidcMaterial)) {
		t.Error("FetchSecrets leaked a private key or an oidc_auth secret")
	}
	for _, want := range []string{"without mTLS (--xds-insecure)", "withheld"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

// sendErr is the stream's status when a Send fails because the server
// ended the stream (gRPC then returns io.EOF from Send, and the status
// from the next Recv); any other error as it is.
func sendErr[T any](err error, recv func() (T, error)) error {
	if errors.Is(err, io.EOF) {
		if _, rerr := recv(); rerr != nil {
			return rerr
		}
	}
	return err
}
