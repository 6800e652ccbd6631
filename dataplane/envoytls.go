package dataplane

import "path"

// Envoy's client certificate for apigw's gRPC services (xDS, ext_authz,
// the rate-limit service) lives on the Envoy host in one directory, laid
// out as cert-manager and `apigw certs` write it: tls.crt, tls.key and
// ca.crt, plus two file-based SDS resources that point at them. Envoy
// reads its certificate and apigw's CA through those SDS files, so that it
// picks up a renewed certificate without a restart. The bootstraps in
// deploy/envoy use them for the xDS cluster; apigw's translator uses them
// for the clusters apigw.extauth and apigw.ratelimit.
const (
	// EnvoyTLSDir is the directory on Envoy hosts (containers) that holds
	// Envoy's client certificate (--envoy-tls-dir).
	EnvoyTLSDir = "/etc/apigw/pki/envoy"
	// Files of that directory.
	TLSCertFile = "tls.crt"
	TLSKeyFile  = "tls.key"
	TLSCAFile   = "ca.crt"
	// SDSCertFile holds the Secret ClientSecret (Envoy's certificate and
	// key); SDSCAFile the Secret CASecret (apigw's CA).
	SDSCertFile = "sds-tls.yaml"
	SDSCAFile   = "sds-ca.yaml"
	// ClientSecret and CASecret are the names of those Secrets.
	ClientSecret = "apigw-client"
	CASecret     = "apigw-ca"
)

// SDSPaths returns the paths of the two SDS files in an Envoy TLS
// directory.
func SDSPaths(dir string) (cert, ca string) {
	return path.Join(dir, SDSCertFile), path.Join(dir, SDSCAFile)
}

// EnvoyIdentity is the URI an Envoy's client certificate carries by
// convention (SAN URI) to be allowed the instance's configuration when no
// identities file is given: spiffe://<trust domain>/apigw/envoy/<instance>.
func EnvoyIdentity(trustDomain, instance string) string {
	return "spiffe://" + trustDomain + "/apigw/envoy/" + instance
}

// EnvoyIdentityPrefix is the path prefix of EnvoyIdentity.
const EnvoyIdentityPrefix = "/apigw/envoy/"
