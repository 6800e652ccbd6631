package certgentest

import (
	"crypto/tls"
	"testing"
)

// A client with an Envoy certificate of the PKI completes a handshake
// with apigw's server configuration; one without a certificate does not.
func TestServerAndClientTLS(t *testing.T) {
	pki := PKI(t, "default", "other")
	lis, err := tls.Listen("tcp", "127.0.0.1:0", ServerTLS(t, pki))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lis.Close() })
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if tc, ok := c.(*tls.Conn); ok && tc.Handshake() == nil {
					_, _ = c.Write([]byte("ok"))
				}
			}()
		}
	}()
	handshake := func(cfg *tls.Config) error {
		c, err := tls.Dial("tcp", lis.Addr().String(), cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		buf := make([]byte, 2)
		_, err = c.Read(buf) // TLS 1.3: the server's verdict on the client certificate arrives with the first read
		return err
	}
	for _, dir := range []string{"envoy", "envoy-other"} {
		if err := handshake(ClientTLS(t, pki, "apigw", dir)); err != nil {
			t.Errorf("with the certificate in %s: %v", dir, err)
		}
	}
	if err := handshake(ClientTLS(t, pki, "apigw", "")); err == nil {
		t.Error("a client without a certificate completed the handshake")
	}
	if err := handshake(ClientTLS(t, pki, "not-in-the-certificate", "envoy")); err == nil {
		t.Error("a server name outside apigw's certificate was accepted")
	}
}
