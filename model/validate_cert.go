package model

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

func validateCertificate(c checker, cert *apigwv1.Certificate) {
	if c.required("name", cert.Name) && !reCertName.MatchString(cert.Name) {
		c.add("name", "must be 4-50 letters, digits or underscores, starting with a letter")
	}
	leaf, err := parseLeaf(cert.CertContent)
	if cert.CertContent == "" {
		c.add("cert_content", "is required")
	} else if err != nil {
		c.add("cert_content", "%v", err)
	}
	switch {
	case cert.PrivateKey == "":
		c.add("private_key", "is required")
	case leaf != nil:
		if _, err := tls.X509KeyPair([]byte(cert.CertContent), []byte(cert.PrivateKey)); err != nil {
			c.add("private_key", "does not match cert_content or is not a PEM private key: %v", err)
		}
	}
	if cert.TrustedRootCa != "" {
		if ok := x509.NewCertPool().AppendCertsFromPEM([]byte(cert.TrustedRootCa)); !ok {
			c.add("trusted_root_ca", "holds no PEM certificate")
		}
	}
}

func parseLeaf(pemText string) (*x509.Certificate, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errorf("is not a PEM certificate")
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, errorf("cannot be parsed: %v", err)
	}
	return leaf, nil
}

// FillCertificateInfo sets the output-only fields derived from the
// certificate (common name, SANs, expiry).
func FillCertificateInfo(cert *apigwv1.Certificate) {
	leaf, err := parseLeaf(cert.CertContent)
	if err != nil {
		return
	}
	cert.CommonName = leaf.Subject.CommonName
	cert.San = append(cert.San[:0], leaf.DNSNames...)
	cert.NotAfter = timestamppb.New(leaf.NotAfter.UTC().Truncate(time.Second))
}

// validateBackendTLS checks the instance's TLS towards backends: a client
// certificate with its matching key (both or neither) and a CA bundle.
func validateBackendTLS(c checker, b *apigwv1.BackendTls) {
	if b == nil {
		return
	}
	switch {
	case b.ClientCertificate == "" && b.ClientPrivateKey != "":
		c.add("client_certificate", "is required with client_private_key")
	case b.ClientCertificate != "" && b.ClientPrivateKey == "":
		c.add("client_private_key", "is required with client_certificate")
	case b.ClientCertificate != "":
		if _, err := parseLeaf(b.ClientCertificate); err != nil {
			c.add("client_certificate", "%v", err)
		} else if _, err := tls.X509KeyPair([]byte(b.ClientCertificate), []byte(b.ClientPrivateKey)); err != nil {
			c.add("client_private_key", "does not match client_certificate or is not a PEM private key: %v", err)
		}
	}
	if b.Ca != "" {
		if ok := x509.NewCertPool().AppendCertsFromPEM([]byte(b.Ca)); !ok {
			c.add("ca", "holds no PEM certificate")
		}
	}
}
