// Package certgen creates the certificates of a local or test apigw
// deployment: a CA, apigw's server certificate and Envoy client
// certificates, in the layout cert-manager writes (tls.crt, tls.key,
// ca.crt per directory), plus the file-based SDS resources through which
// Envoy reads its certificate (see dataplane).
//
// Existing files are kept: a directory whose certificate and key exist is
// left alone, and an existing CA signs the certificates still missing.
// Files are written to a temporary name and renamed, so that a watcher
// (apigw, Envoy's watched_directory) never sees half a file.
package certgen

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/apigw/apigw/dataplane"
)

// Options say what to create.
type Options struct {
	// Dir receives ca.crt and ca.key, apigw/ (the server certificate) and
	// one Envoy directory per instance.
	Dir string
	// Instances get one Envoy client certificate each, in envoy/ for
	// "default" and envoy-<instance>/ for the others (default: "default").
	Instances []string
	// TrustDomain is the SPIFFE trust domain of the Envoy identities
	// (default "apigw.local").
	TrustDomain string
	// Hosts are extra DNS names or IP addresses of apigw's server
	// certificate, beside localhost, 127.0.0.1, ::1, apigw and apigw-xds.
	Hosts []string
	// EnvoyDir maps an Envoy directory under Dir to the path Envoy sees it
	// at, written into the SDS files (default: its absolute path here).
	EnvoyDir func(local string) string
	// Validity of the leaf certificates (default one year); the CA gets
	// ten years.
	Validity time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// DefaultHosts returns the names always in apigw's server certificate, in
// a new slice.
func DefaultHosts() []string {
	return []string{"localhost", "127.0.0.1", "::1", "apigw", "apigw-xds"}
}

// File is one file Generate created or kept.
type File struct {
	Path    string
	Created bool
}

// EnvoySubdir is the directory of an instance's Envoy certificate.
func EnvoySubdir(instance string) string {
	if instance == "default" {
		return "envoy"
	}
	return "envoy-" + instance
}

// Generate creates what is missing and lists every file of the layout.
func Generate(o Options) ([]File, error) {
	if o.Dir == "" {
		return nil, errors.New("an output directory is required")
	}
	if len(o.Instances) == 0 {
		o.Instances = []string{"default"}
	}
	if o.TrustDomain == "" {
		o.TrustDomain = "apigw.local"
	}
	if o.Validity == 0 {
		o.Validity = 365 * 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.EnvoyDir == nil {
		o.EnvoyDir = func(local string) string {
			abs, err := filepath.Abs(local)
			if err != nil {
				return local
			}
			return filepath.ToSlash(abs)
		}
	}
	w := &writer{}
	ca, err := w.authority(o)
	if err != nil {
		return nil, err
	}
	hosts := append(DefaultHosts(), o.Hosts...)
	if err := w.leaf(o, ca, filepath.Join(o.Dir, "apigw"), leafSpec{cn: "apigw", hosts: hosts, usage: x509.ExtKeyUsageServerAuth}); err != nil {
		return nil, err
	}
	for _, inst := range o.Instances {
		id, err := url.Parse(dataplane.EnvoyIdentity(o.TrustDomain, inst))
		if err != nil {
			return nil, fmt.Errorf("instance %q: %w", inst, err)
		}
		dir := filepath.Join(o.Dir, EnvoySubdir(inst))
		if err := w.leaf(o, ca, dir, leafSpec{cn: "envoy-" + inst, uris: []*url.URL{id}, usage: x509.ExtKeyUsageClientAuth}); err != nil {
			return nil, err
		}
		cert, caFile := SDS(o.EnvoyDir(dir))
		if err := w.file(filepath.Join(dir, dataplane.SDSCertFile), cert, 0o644, false); err != nil {
			return nil, err
		}
		if err := w.file(filepath.Join(dir, dataplane.SDSCAFile), caFile, 0o644, false); err != nil {
			return nil, err
		}
	}
	return w.files, nil
}

// SDS returns the file-based SDS resources of an Envoy TLS directory, as
// Envoy sees it at envoyDir: Envoy's certificate and key, and apigw's CA,
// both reloaded when the directory's files are replaced.
func SDS(envoyDir string) (cert, ca []byte) {
	f := func(name string) string { return envoyDir + "/" + name }
	cert = fmt.Appendf(nil, `# Envoy's client certificate for apigw (file-based SDS, reloaded on change).
resources:
  - "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret
    name: %s
    tls_certificate:
      certificate_chain: {filename: %s}
      private_key: {filename: %s}
      watched_directory: {path: %s}
`, dataplane.ClientSecret, f(dataplane.TLSCertFile), f(dataplane.TLSKeyFile), envoyDir)
	ca = fmt.Appendf(nil, `# The CA of apigw's server certificate (file-based SDS, reloaded on change).
resources:
  - "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret
    name: %s
    validation_context:
      trusted_ca: {filename: %s}
      watched_directory: {path: %s}
`, dataplane.CASecret, f(dataplane.TLSCAFile), envoyDir)
	return cert, ca
}

type writer struct{ files []File }

type authority struct {
	cert *x509.Certificate
	key  crypto.Signer
	pem  []byte
}

// authority loads Dir/ca.crt and ca.key, or creates them.
func (w *writer) authority(o Options) (*authority, error) {
	crtPath, keyPath := filepath.Join(o.Dir, "ca.crt"), filepath.Join(o.Dir, "ca.key")
	crtPEM, err1 := os.ReadFile(crtPath)
	keyPEM, err2 := os.ReadFile(keyPath)
	if err1 == nil && err2 == nil {
		pair, err := tls.X509KeyPair(crtPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("%s, %s: %w", crtPath, keyPath, err)
		}
		signer, ok := pair.PrivateKey.(crypto.Signer)
		if !ok || !pair.Leaf.IsCA {
			return nil, fmt.Errorf("%s is not a CA", crtPath)
		}
		w.files = append(w.files, File{Path: crtPath}, File{Path: keyPath})
		return &authority{cert: pair.Leaf, key: signer, pem: crtPEM}, nil
	}
	if !errors.Is(err1, os.ErrNotExist) || !errors.Is(err2, os.ErrNotExist) {
		return nil, fmt.Errorf("%s and %s must both exist or both be missing (%v, %v)", crtPath, keyPath, err1, err2)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := o.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "apigw local CA", Organization: []string{"apigw"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	crt := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := w.file(keyPath, keyPEMOf(key), 0o600, true); err != nil {
		return nil, err
	}
	if err := w.file(crtPath, crt, 0o644, true); err != nil {
		return nil, err
	}
	return &authority{cert: cert, key: key, pem: crt}, nil
}

type leafSpec struct {
	cn    string
	hosts []string
	uris  []*url.URL
	usage x509.ExtKeyUsage
}

// leaf writes dir/tls.crt, tls.key and ca.crt unless the pair exists.
func (w *writer) leaf(o Options, ca *authority, dir string, s leafSpec) error {
	crtPath, keyPath, caPath := filepath.Join(dir, dataplane.TLSCertFile), filepath.Join(dir, dataplane.TLSKeyFile), filepath.Join(dir, dataplane.TLSCAFile)
	if exists(crtPath) && exists(keyPath) {
		w.files = append(w.files, File{Path: crtPath}, File{Path: keyPath})
		return w.file(caPath, ca.pem, 0o644, false)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := o.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: s.cn, Organization: []string{"apigw"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(o.Validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{s.usage},
		URIs:         s.uris,
	}
	for _, h := range s.hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return err
	}
	if err := w.file(keyPath, keyPEMOf(key), 0o600, true); err != nil {
		return err
	}
	if err := w.file(crtPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644, true); err != nil {
		return err
	}
	return w.file(caPath, ca.pem, 0o644, true)
}

// file writes a file through a rename; unless replace, an existing file is
// kept.
func (w *writer) file(path string, data []byte, mode os.FileMode, replace bool) error {
	if !replace && exists(path) {
		w.files = append(w.files, File{Path: path})
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	w.files = append(w.files, File{Path: path, Created: true})
	return nil
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func keyPEMOf(k *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err) // a freshly generated P-256 key always marshals
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return n
}
