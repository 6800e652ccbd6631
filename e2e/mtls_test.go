package e2e

import (
	"context"
	"crypto/tls"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"

	"github.com/apigw/apigw/internal/envoysim"
	"github.com/apigw/apigw/xds/xdstest"
)

// readBootstrap reads an Envoy bootstrap written in YAML.
func readBootstrap(t *testing.T, path string) *bootstrapv3.Bootstrap {
	t.Helper()
	y, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	j, err := yaml.YAMLToJSON(y)
	if err != nil {
		t.Fatal(err)
	}
	b := &bootstrapv3.Bootstrap{}
	if err := protojson.Unmarshal(j, b); err != nil {
		t.Fatal(err)
	}
	return b
}

// localBootstrap is deploy/envoy/local.yaml with its Envoy TLS directory
// (pki/envoy, relative to the repository) moved to this run's pkiDir.
func localBootstrap(t *testing.T) *bootstrapv3.Bootstrap {
	t.Helper()
	b := readBootstrap(t, "../deploy/envoy/local.yaml")
	for _, c := range b.GetStaticResources().GetClusters() {
		if c.GetTransportSocket() != nil {
			movePKI(t, c.GetTransportSocket(), "pki/envoy", filepath.Join(pkiDir, "envoy"))
		}
	}
	return b
}

// movePKI points the file-based SDS sources of a transport socket from
// the directory from to the directory to.
func movePKI(t *testing.T, ts *corev3.TransportSocket, from, to string) {
	t.Helper()
	ctx := &tlsv3.UpstreamTlsContext{}
	if err := ts.GetTypedConfig().UnmarshalTo(ctx); err != nil {
		t.Fatal(err)
	}
	refs := ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs()
	if cv := ctx.GetCommonTlsContext().GetCombinedValidationContext(); cv != nil {
		refs = append(refs, cv.GetValidationContextSdsSecretConfig())
	}
	for _, r := range refs {
		pc := r.GetSdsConfig().GetPathConfigSource()
		if pc == nil || !strings.HasPrefix(pc.GetPath(), from+"/") {
			t.Fatalf("secret %s is not read from %s", r.GetName(), from)
		}
		pc.Path = to + strings.TrimPrefix(pc.GetPath(), from)
		if pc.GetWatchedDirectory() != nil {
			pc.WatchedDirectory.Path = to
		}
	}
	if err := ts.GetTypedConfig().MarshalFrom(ctx); err != nil {
		t.Fatal(err)
	}
}

// envoyTLS is the client TLS configuration of the local bootstrap's ADS
// cluster, with the certificates of `apigw certs`.
func envoyTLS(t *testing.T) *tls.Config {
	t.Helper()
	cfg, err := envoysim.UpstreamTLS(localBootstrap(t).GetStaticResources().GetClusters()[0].GetTransportSocket())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// connectEnvoy opens the ADS stream of an emulated Envoy of instance
// "default", over mTLS as the local bootstrap does.
func connectEnvoy(t *testing.T, ctx context.Context, g *apigw, node string, log *slog.Logger) *envoysim.ADS {
	t.Helper()
	ads, err := envoysim.Connect(ctx, g.XDS, xdstest.Node(node, "default", xdstest.EnvoyVersion), log, envoysim.WithTLS(envoyTLS(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ads.Close() })
	return ads
}

// checkXDSRefusesStrangers asserts that apigw's xDS port serves only
// Envoys with a client certificate of its CA, and each only its instance.
func checkXDSRefusesStrangers(t *testing.T, g *apigw) {
	t.Helper()
	first := func(creds credentials.TransportCredentials, cluster string) error {
		conn, err := grpc.NewClient(g.XDS, grpc.WithTransportCredentials(creds))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		st, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
		if err != nil {
			return err
		}
		if err := st.Send(&discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: "stranger", Cluster: cluster}, TypeUrl: resourcev3.ClusterType}); err != nil {
			return err
		}
		_, err = st.Recv()
		return err
	}
	noCert := envoyTLS(t)
	noCert.Certificates = nil
	for name, creds := range map[string]credentials.TransportCredentials{"plaintext": insecure.NewCredentials(), "TLS without a client certificate": credentials.NewTLS(noCert)} {
		if err := first(creds, "default"); err == nil {
			t.Errorf("xDS served a client over %s", name)
		}
	}
	if err := first(credentials.NewTLS(envoyTLS(t)), "other"); status.Code(err) != codes.PermissionDenied {
		t.Errorf("the Envoy certificate of instance default subscribing to another instance: %v", err)
	}
	if err := first(credentials.NewTLS(envoyTLS(t)), "default"); err != nil {
		t.Errorf("the Envoy certificate of instance default: %v", err)
	}
}
