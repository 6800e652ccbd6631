package deploy_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
	corev1 "k8s.io/api/core/v1"

	"github.com/apigw/apigw/cmd/apigw/server"
	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/internal/certgen"
	"github.com/apigw/apigw/internal/certgen/certgentest"
	"github.com/apigw/apigw/internal/envoysim"
	"github.com/apigw/apigw/xds/xdsauth"
)

// objectMeta is the part of a Kubernetes object's metadata the layouts'
// cert-manager resources use.
type objectMeta struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
}

// certificate and issuer are the parts of cert-manager's resources the
// layouts use (decoded strictly: an unknown field fails).
type certificate struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   objectMeta `json:"metadata"`
	Spec       struct {
		SecretName  string   `json:"secretName"`
		CommonName  string   `json:"commonName"`
		IsCA        bool     `json:"isCA"`
		DNSNames    []string `json:"dnsNames"`
		URIs        []string `json:"uris"`
		Usages      []string `json:"usages"`
		Duration    string   `json:"duration"`
		RenewBefore string   `json:"renewBefore"`
		PrivateKey  struct {
			Algorithm      string `json:"algorithm"`
			Size           int    `json:"size"`
			RotationPolicy string `json:"rotationPolicy"`
		} `json:"privateKey"`
		IssuerRef struct {
			Name string `json:"name"`
			Kind string `json:"kind"`
		} `json:"issuerRef"`
	} `json:"spec"`
}

type issuer struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   objectMeta `json:"metadata"`
	Spec       struct {
		SelfSigned *struct{} `json:"selfSigned"`
		CA         *struct {
			SecretName string `json:"secretName"`
		} `json:"ca"`
	} `json:"spec"`
}

// adsTLS returns the UpstreamTlsContext of a bootstrap's ADS cluster.
func adsTLS(t *testing.T, b *bootstrapv3.Bootstrap) (*corev3.TransportSocket, *tlsv3.UpstreamTlsContext) {
	t.Helper()
	name := b.GetDynamicResources().GetAdsConfig().GetGrpcServices()[0].GetEnvoyGrpc().GetClusterName()
	for _, c := range b.GetStaticResources().GetClusters() {
		if c.GetName() != name {
			continue
		}
		ts := c.GetTransportSocket()
		ctx := &tlsv3.UpstreamTlsContext{}
		if ts.GetName() != "envoy.transport_sockets.tls" || ts.GetTypedConfig().UnmarshalTo(ctx) != nil {
			t.Fatalf("ADS cluster %s: no TLS transport socket (%v)", name, ts)
		}
		return ts, ctx
	}
	t.Fatalf("no ADS cluster %s", name)
	return nil, nil
}

// envoyTLSDirOf is where a bootstrap expects Envoy's certificate.
func envoyTLSDirOf(bootstrap string) string {
	if filepath.Base(bootstrap) == "local.yaml" {
		return "pki/envoy" // `apigw certs` run in the repository root
	}
	return dataplane.EnvoyTLSDir
}

// Every bootstrap reaches apigw over mTLS: its client certificate and
// apigw's CA through the SDS files of its Envoy TLS directory, ALPN h2, and
// apigw's certificate checked for the host it dials — and with the
// certificates `apigw certs` makes, the handshake with apigw succeeds and
// the Envoy's identity is allowed the bootstrap's instance.
func TestBootstrapsUseMTLS(t *testing.T) {
	for _, f := range bootstrapFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b := loadBootstrap(t, f)
			ts, ctx := adsTLS(t, b)
			dir := envoyTLSDirOf(f)
			common := ctx.GetCommonTlsContext()
			if !slices.Equal(common.GetAlpnProtocols(), []string{"h2"}) {
				t.Errorf("ALPN %v: gRPC servers require h2", common.GetAlpnProtocols())
			}
			certPath, caPath := dataplane.SDSPaths(dir)
			certs := common.GetTlsCertificateSdsSecretConfigs()
			if len(certs) != 1 || certs[0].GetName() != dataplane.ClientSecret || certs[0].GetSdsConfig().GetPathConfigSource().GetPath() != certPath ||
				certs[0].GetSdsConfig().GetPathConfigSource().GetWatchedDirectory().GetPath() != dir {
				t.Errorf("client certificate %v: want secret %s from %s, watching %s", certs, dataplane.ClientSecret, certPath, dir)
			}
			cv := common.GetCombinedValidationContext()
			if ref := cv.GetValidationContextSdsSecretConfig(); ref.GetName() != dataplane.CASecret || ref.GetSdsConfig().GetPathConfigSource().GetPath() != caPath {
				t.Errorf("CA %v: want secret %s from %s", ref, dataplane.CASecret, caPath)
			}
			host, _ := adsEndpoint(t, b)
			sans := cv.GetDefaultValidationContext().GetMatchTypedSubjectAltNames()
			if len(sans) != 1 || sans[0].GetMatcher().GetExact() != host {
				t.Errorf("SAN matchers %v: want the ADS host %s", sans, host)
			}
			if !slices.Contains(certgen.DefaultHosts(), host) {
				t.Errorf("apigw certs does not put %s in apigw's certificate", host)
			}

			// A real handshake with the files of `apigw certs`.
			pki := certgentest.PKI(t)
			local := proto.Clone(ts).(*corev3.TransportSocket)
			rewriteSDSPaths(t, local, dir, filepath.Join(pki, "envoy"))
			cfg, err := envoysim.UpstreamTLS(local)
			if err != nil {
				t.Fatal(err)
			}
			leaf := handshake(t, pki, host, cfg)
			if !(xdsauth.Convention{}).Allows(uris(leaf), b.GetNode().GetCluster()) {
				t.Errorf("the Envoy certificate's identity %v is not allowed instance %q", uris(leaf), b.GetNode().GetCluster())
			}
		})
	}
}

// rewriteSDSPaths moves the SDS paths of a transport socket from dir to
// local.
func rewriteSDSPaths(t *testing.T, ts *corev3.TransportSocket, dir, local string) {
	t.Helper()
	ctx := &tlsv3.UpstreamTlsContext{}
	if err := ts.GetTypedConfig().UnmarshalTo(ctx); err != nil {
		t.Fatal(err)
	}
	fix := func(ref *tlsv3.SdsSecretConfig) {
		pc := ref.GetSdsConfig().GetPathConfigSource()
		pc.Path = filepath.Join(local, strings.TrimPrefix(pc.GetPath(), dir+"/"))
		pc.WatchedDirectory.Path = local
	}
	for _, r := range ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs() {
		fix(r)
	}
	fix(ctx.GetCommonTlsContext().GetCombinedValidationContext().GetValidationContextSdsSecretConfig())
	if err := ts.GetTypedConfig().MarshalFrom(ctx); err != nil {
		t.Fatal(err)
	}
}

// handshake dials a TLS server with apigw's certificate and client CA from
// pki as Envoy would dial host, and returns the client certificate the
// server verified.
func handshake(t *testing.T, pki, host string, cfg *tls.Config) (leaf *urlCert) {
	t.Helper()
	lis, err := tls.Listen("tcp", "127.0.0.1:0", certgentest.ServerTLS(t, pki))
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	got := make(chan *urlCert, 1)
	go func() {
		c, err := lis.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		tc := c.(*tls.Conn)
		if err := tc.HandshakeContext(context.Background()); err != nil || len(tc.ConnectionState().VerifiedChains) == 0 {
			got <- nil
			return
		}
		got <- &urlCert{uris: tc.ConnectionState().VerifiedChains[0][0].URIs}
		_, _ = io.WriteString(c, "ok")
	}()
	conn, err := tls.Dial("tcp", lis.Addr().String(), cfg)
	if err != nil {
		t.Fatalf("handshake as Envoy dialing %s: %v", host, err)
	}
	defer conn.Close()
	if conn.ConnectionState().NegotiatedProtocol != "h2" {
		t.Errorf("ALPN %q, want h2", conn.ConnectionState().NegotiatedProtocol)
	}
	leaf = <-got
	if leaf == nil {
		t.Fatal("apigw did not verify Envoy's client certificate")
	}
	return leaf
}

type urlCert struct{ uris []*url.URL }

func uris(c *urlCert) []string {
	var out []string
	for _, u := range c.uris {
		out = append(out, u.String())
	}
	return out
}

// In Kubernetes, every apigw serving Envoy beyond loopback does so over
// mTLS with the Secret apigw-tls; Envoys mount the Secret envoy-tls with
// the SDS files of the ConfigMap envoy-tls-sds where the bootstrap reads
// them; ext_authz and the RLS are reached over mTLS in the central layout
// and on the pod's loopback in the sidecar layout.
func TestKubernetesMTLS(t *testing.T) {
	for _, layout := range []string{"central", "sidecar"} {
		t.Run(layout, func(t *testing.T) {
			m := loadKustomization(t, filepath.Join("kubernetes", layout))
			var xds *apigwPod
			for _, p := range m.apigwContainers(t) {
				where := p.w.name + "/" + p.c.Name
				for _, s := range []struct {
					comp string
					tls  server.ServiceTLS
				}{{server.CompXDS, p.cfg.XDSTLS}, {server.CompExtAuth, p.cfg.ExtAuthTLS}, {server.CompRateLimit, p.cfg.RateLimitTLS}} {
					if !p.cfg.Has(s.comp) || isLoopback(t, componentAddr[s.comp](p.cfg)) {
						continue
					}
					if !s.tls.Enabled() || s.tls.Insecure {
						t.Errorf("%s: %s beyond loopback without mTLS", where, s.comp)
						continue
					}
					for _, f := range []string{s.tls.CertFile, s.tls.KeyFile, s.tls.ClientCAFile} {
						if secretOf(p.w, p.c, filepath.Dir(f)) != "apigw-tls" {
							t.Errorf("%s: %s is not in the mounted Secret apigw-tls", where, f)
						}
					}
				}
				if p.cfg.Has(server.CompXDS) {
					xds = &p
				}
			}
			if xds == nil {
				t.Fatal("no apigw serves xDS")
			}
			for _, comp := range []string{server.CompExtAuth, server.CompRateLimit} {
				addr := map[string]string{server.CompExtAuth: xds.cfg.EnvoyExtAuthAddr, server.CompRateLimit: xds.cfg.EnvoyRateLimitAddr}[comp]
				if loop := isLoopback(t, addr); loop == xds.cfg.EnvoyUsesTLS(comp) {
					t.Errorf("%s at %s: Envoy uses mTLS %v; want mTLS beyond the pod, plaintext on its loopback", comp, addr, xds.cfg.EnvoyUsesTLS(comp))
				}
				if xds.cfg.EnvoyTLSDir != dataplane.EnvoyTLSDir {
					t.Errorf("--envoy-tls-dir %s, Envoy's certificate is mounted at %s", xds.cfg.EnvoyTLSDir, dataplane.EnvoyTLSDir)
				}
			}
			checkEnvoyTLSVolume(t, m)
		})
	}
}

// secretOf returns the Secret mounted at dir in container c.
func secretOf(w *workload, c corev1.Container, dir string) string {
	for _, vm := range c.VolumeMounts {
		if vm.MountPath != dir {
			continue
		}
		for _, v := range w.pod.Spec.Volumes {
			if v.Name == vm.Name && v.Secret != nil {
				return v.Secret.SecretName
			}
		}
	}
	return ""
}

func checkEnvoyTLSVolume(t *testing.T, m *manifests) {
	t.Helper()
	w := m.workload("envoy")
	var envoy *corev1.Container
	for i, c := range w.pod.Spec.Containers {
		if strings.HasPrefix(c.Image, "envoyproxy/envoy:") {
			envoy = &w.pod.Spec.Containers[i]
		}
	}
	if envoy == nil {
		t.Fatal("no envoy container")
	}
	var vol *corev1.Volume
	for _, vm := range envoy.VolumeMounts {
		if vm.MountPath == dataplane.EnvoyTLSDir {
			for i, v := range w.pod.Spec.Volumes {
				if v.Name == vm.Name {
					vol = &w.pod.Spec.Volumes[i]
				}
			}
		}
	}
	if vol == nil || vol.Projected == nil {
		t.Fatalf("envoy: no projected volume at %s", dataplane.EnvoyTLSDir)
	}
	files := map[string]bool{}
	var sdsMap string
	for _, src := range vol.Projected.Sources {
		switch {
		case src.Secret != nil:
			if src.Secret.Name != "envoy-tls" {
				t.Errorf("envoy: Secret %s, want envoy-tls", src.Secret.Name)
			}
			for _, it := range src.Secret.Items {
				files[it.Path] = true
			}
		case src.ConfigMap != nil:
			sdsMap = src.ConfigMap.Name
		}
	}
	for _, f := range []string{dataplane.TLSCertFile, dataplane.TLSKeyFile, dataplane.TLSCAFile} {
		if !files[f] {
			t.Errorf("envoy: %s missing from %s", f, dataplane.EnvoyTLSDir)
		}
	}
	var cm *corev1.ConfigMap
	for _, c := range m.configMaps {
		if c.Name == sdsMap {
			cm = c
		}
	}
	if cm == nil {
		t.Fatalf("envoy: the SDS ConfigMap %q is not in the layout", sdsMap)
	}
	cert, ca := certgen.SDS(dataplane.EnvoyTLSDir)
	if cm.Data[dataplane.SDSCertFile] != string(cert) || cm.Data[dataplane.SDSCAFile] != string(ca) {
		t.Errorf("ConfigMap %s differs from what `apigw certs` writes for %s:\n%s\n%s", cm.Name, dataplane.EnvoyTLSDir, cert, ca)
	}
	// Envoy (and only its group) can read the key.
	sc := w.pod.Spec.SecurityContext
	gid := envoy.SecurityContext.RunAsGroup
	if gid == nil && sc != nil {
		gid = sc.RunAsGroup
	}
	if sc == nil || sc.FSGroup == nil || gid == nil || *sc.FSGroup != *gid || vol.Projected.DefaultMode == nil || *vol.Projected.DefaultMode != 0o440 {
		t.Errorf("envoy: the key must be readable by Envoy's group only (fsGroup = Envoy's group, defaultMode 0440)")
	}
}

// The cert-manager variant issues the Secrets the layouts mount, for the
// names Envoy dials and the identity apigw allows instance "default".
func TestCertManagerVariant(t *testing.T) {
	m := loadKustomization(t, filepath.Join("kubernetes", "cert-manager"))
	certs := map[string]*certificate{}
	issuers := map[string]*issuer{}
	for _, c := range m.certificates {
		certs[c.Spec.SecretName] = c
	}
	for _, i := range m.issuers {
		issuers[i.Metadata.Name] = i
	}
	for _, c := range m.certificates {
		if issuers[c.Spec.IssuerRef.Name] == nil || c.Spec.IssuerRef.Kind != "Issuer" {
			t.Errorf("certificate %s: issuer %v is not in the variant", c.Metadata.Name, c.Spec.IssuerRef)
		}
	}
	ca := issuers[certs["apigw-tls"].Spec.IssuerRef.Name]
	if ca == nil || ca.Spec.CA == nil || certs[ca.Spec.CA.SecretName] == nil || !certs[ca.Spec.CA.SecretName].Spec.IsCA ||
		certs["envoy-tls"].Spec.IssuerRef != certs["apigw-tls"].Spec.IssuerRef {
		t.Fatal("apigw-tls and envoy-tls must be issued by one CA issuer of the variant")
	}
	srv, cli := certs["apigw-tls"], certs["envoy-tls"]
	if !slices.Contains(srv.Spec.Usages, "server auth") || !slices.Contains(cli.Spec.Usages, "client auth") {
		t.Errorf("usages: apigw-tls %v, envoy-tls %v", srv.Spec.Usages, cli.Spec.Usages)
	}
	if !(xdsauth.Convention{}).Allows(cli.Spec.URIs, "default") {
		t.Errorf("envoy-tls URIs %v: not the identity of instance default", cli.Spec.URIs)
	}
	// Every name Envoy dials in either layout is in apigw's certificate.
	for _, layout := range []string{"central", "sidecar"} {
		host, _ := adsEndpoint(t, loadBootstrap(t, filepath.Join("envoy", layout+".yaml")))
		hosts := []string{host}
		for _, p := range loadKustomization(t, filepath.Join("kubernetes", layout)).apigwContainers(t) {
			for _, comp := range []string{server.CompExtAuth, server.CompRateLimit} {
				if p.cfg.Has(server.CompXDS) && p.cfg.EnvoyUsesTLS(comp) {
					addr := map[string]string{server.CompExtAuth: p.cfg.EnvoyExtAuthAddr, server.CompRateLimit: p.cfg.EnvoyRateLimitAddr}[comp]
					h, _, _ := net.SplitHostPort(addr)
					hosts = append(hosts, h)
				}
			}
		}
		for _, h := range hosts {
			if !slices.Contains(srv.Spec.DNSNames, h) {
				t.Errorf("%s: Envoy dials %s, not in apigw-tls's dnsNames %v", layout, h, srv.Spec.DNSNames)
			}
		}
	}
}

// In the compose file, "certs" creates the PKI in a volume; apigw serves
// xDS, ext_authz and the RLS over mTLS from it, and Envoy reads its client
// certificate from it where the bootstrap expects it, as the user owning
// the keys.
func TestComposeMTLS(t *testing.T) {
	c := loadCompose(t)
	certs := c.service(t, "certs")
	if len(certs.Command) == 0 || certs.Command[0] != "certs" || !strings.HasPrefix(certs.Image, apigwImage+":") {
		t.Fatalf("certs: image %s command %v, want the apigw image running `apigw certs`", certs.Image, certs.Command)
	}
	var dir string
	for _, a := range certs.Command[1:] {
		if d, ok := strings.CutPrefix(a, "--dir="); ok {
			dir = d
		}
	}
	vol := mountOf(t, c, certs, dir)
	if dataplane.EnvoyTLSDir != filepath.Join(dir, "envoy") {
		t.Errorf("certs writes Envoy's files to %s/envoy, the bootstraps read %s", dir, dataplane.EnvoyTLSDir)
	}
	apigwSvc := c.service(t, "apigw")
	cfg, err := parseFlags(t, apigwSvc.Command, apigwSvc.Environment)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]server.ServiceTLS{"xds": cfg.XDSTLS, "extauth": cfg.ExtAuthTLS, "ratelimit": cfg.RateLimitTLS} {
		if !s.Enabled() || filepath.Dir(s.CertFile) != filepath.Join(dir, "apigw") || filepath.Dir(s.ClientCAFile) != filepath.Join(dir, "apigw") {
			t.Errorf("apigw %s: %+v, want mTLS with the files of %s/apigw", name, s, dir)
		}
	}
	if !cfg.EnvoyUsesTLS(server.CompExtAuth) || !cfg.EnvoyUsesTLS(server.CompRateLimit) {
		t.Error("Envoy must reach ext_authz and the RLS over mTLS")
	}
	if mountOf(t, c, apigwSvc, dir) != vol {
		t.Errorf("apigw does not mount the volume %s at %s", vol, dir)
	}
	envoy := c.service(t, "envoy")
	if mountOf(t, c, envoy, dir) != vol {
		t.Errorf("envoy does not mount the volume %s at %s", vol, dir)
	}
	dockerfile, err := os.ReadFile("docker/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dockerfile), "USER "+envoy.User+"\n") {
		t.Errorf("envoy runs as %q; the keys belong to the apigw image's user", envoy.User)
	}
	for _, s := range []string{"apigw", "envoy"} {
		if dep, ok := c.service(t, s).DependsOn["certs"].(map[string]any); !ok || dep["condition"] != "service_completed_successfully" {
			t.Errorf("%s must wait for certs to complete", s)
		}
	}
}

// mountOf returns the named volume a service mounts at dir.
func mountOf(t *testing.T, c *composeFile, s composeService, dir string) string {
	t.Helper()
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == dir {
			if _, named := c.Volumes[parts[0]]; named {
				return parts[0]
			}
		}
	}
	t.Errorf("no named volume mounted at %q in %v", dir, s.Volumes)
	return ""
}
