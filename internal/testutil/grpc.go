package testutil

import (
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// ServeGRPC serves s on 127.0.0.1:0 until test cleanup, which stops it
// (and fails the test if serving ended with an error), and returns its
// address.
func ServeGRPC(t testing.TB, s *grpc.Server) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(lis) }()
	t.Cleanup(func() {
		s.Stop()
		if err := <-done; err != nil {
			t.Errorf("grpc serve: %v", err)
		}
	})
	return lis.Addr().String()
}

// DialGRPC connects to addr in plaintext, unless opts give other transport
// credentials (later options win); the connection closes at test cleanup.
func DialGRPC(t testing.TB, addr string, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// ServeAndDialGRPC serves s as ServeGRPC does and returns a plaintext
// connection to it as DialGRPC does.
func ServeAndDialGRPC(t testing.TB, s *grpc.Server) *grpc.ClientConn {
	t.Helper()
	return DialGRPC(t, ServeGRPC(t, s))
}
