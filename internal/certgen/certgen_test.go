package certgen_test

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apigw/apigw/internal/certgen"
)

func load(t *testing.T, dir string) *x509.Certificate {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"))
	if err != nil {
		t.Fatal(err)
	}
	return pair.Leaf
}

func verify(t *testing.T, caDir string, leaf *x509.Certificate, usage x509.ExtKeyUsage) error {
	t.Helper()
	ca, err := os.ReadFile(filepath.Join(caDir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	_, err = leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{usage}})
	return err
}

func TestLayoutAndIdentities(t *testing.T) {
	dir := t.TempDir()
	files, err := certgen.Generate(certgen.Options{Dir: dir, Instances: []string{"default", "staging"}, Hosts: []string{"apigw.example.com", "10.0.0.7"},
		EnvoyDir: func(local string) string { return "/etc/apigw/pki/" + filepath.Base(local) }})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !f.Created {
			t.Errorf("%s not created on the first run", f.Path)
		}
	}
	srv := load(t, filepath.Join(dir, "apigw"))
	if err := verify(t, filepath.Join(dir, "apigw"), srv, x509.ExtKeyUsageServerAuth); err != nil {
		t.Error(err)
	}
	for _, h := range []string{"localhost", "apigw", "apigw-xds", "apigw.example.com", "127.0.0.1", "10.0.0.7"} {
		if err := srv.VerifyHostname(h); err != nil {
			t.Errorf("server certificate: %v", err)
		}
	}
	for inst, sub := range map[string]string{"default": "envoy", "staging": "envoy-staging"} {
		c := load(t, filepath.Join(dir, sub))
		if err := verify(t, filepath.Join(dir, sub), c, x509.ExtKeyUsageClientAuth); err != nil {
			t.Error(err)
		}
		if len(c.URIs) != 1 || c.URIs[0].String() != "spiffe://apigw.local/apigw/envoy/"+inst {
			t.Errorf("%s identity: %v", sub, c.URIs)
		}
		if err := verify(t, filepath.Join(dir, sub), c, x509.ExtKeyUsageServerAuth); err == nil {
			t.Errorf("%s: a client certificate must not serve", sub)
		}
		sds, err := os.ReadFile(filepath.Join(dir, sub, "sds-tls.yaml"))
		if err != nil || !strings.Contains(string(sds), "/etc/apigw/pki/"+sub+"/tls.key") {
			t.Errorf("%s/sds-tls.yaml: %v\n%s", sub, err, sds)
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "envoy", "tls.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key mode: %v %v", st.Mode(), err)
	}
}

func TestExistingFilesAreKept(t *testing.T) {
	dir := t.TempDir()
	if _, err := certgen.Generate(certgen.Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	before := load(t, filepath.Join(dir, "envoy"))
	files, err := certgen.Generate(certgen.Options{Dir: dir, Instances: []string{"default", "blue"}})
	if err != nil {
		t.Fatal(err)
	}
	created := map[string]bool{}
	for _, f := range files {
		if f.Created {
			created[filepath.Base(filepath.Dir(f.Path))+"/"+filepath.Base(f.Path)] = true
		}
	}
	if len(created) != 5 || !created["envoy-blue/tls.crt"] {
		t.Errorf("second run created %v; want only envoy-blue's five files", created)
	}
	if after := load(t, filepath.Join(dir, "envoy")); after.SerialNumber.Cmp(before.SerialNumber) != 0 {
		t.Error("an existing certificate was replaced")
	}
	// The existing CA signed the new certificate.
	if err := verify(t, filepath.Join(dir, "envoy"), load(t, filepath.Join(dir, "envoy-blue")), x509.ExtKeyUsageClientAuth); err != nil {
		t.Error(err)
	}
	if err := os.Remove(filepath.Join(dir, "ca.key")); err != nil {
		t.Fatal(err)
	}
	if _, err := certgen.Generate(certgen.Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "ca.key") {
		t.Errorf("a CA certificate without its key: %v", err)
	}
}
