// Package storetest starts real embedded etcd servers and stores for tests.
package storetest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/model/store"
)

// Etcd starts an embedded etcd on free loopback ports in dir (a temp dir
// when empty) and returns it with a client. Both stop at test cleanup.
func Etcd(t testing.TB, dir string) (*store.Embedded, *clientv3.Client) {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e, err := store.StartEmbedded(ctx, store.EmbeddedConfig{Dir: dir, ClientURL: "http://127.0.0.1:0", PeerURL: "http://127.0.0.1:0", LogLevel: "fatal"})
	if err != nil {
		t.Fatalf("embedded etcd: %v", err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{e.Endpoint()}, DialTimeout: 5 * time.Second, Logger: nopZap()})
	if err != nil {
		e.Close()
		t.Fatalf("etcd client: %v", err)
	}
	t.Cleanup(func() {
		_ = cli.Close()
		e.Close()
	})
	return e, cli
}

// Key returns a fixed secret key for tests, in a new slice.
func Key() []byte { return []byte("0123456789abcdef0123456789abcdef") }

// Store returns a store over cli with the test key and a quiet logger.
func Store(t testing.TB, cli *clientv3.Client) *store.Store {
	t.Helper()
	s, err := store.NewSealer(Key())
	if err != nil {
		t.Fatal(err)
	}
	return store.New(cli, store.NewCodec(s), Logger(), nil)
}

// Logger discards logs.
func Logger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Client returns a quiet etcd client of endpoints, closed at cleanup.
func Client(t testing.TB, endpoints ...string) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second, Logger: nopZap()})
	if err != nil {
		t.Fatalf("etcd client: %v", err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

// Watch runs s.Watch on a new feed, as apigw does, until test cleanup
// (which stops it and waits for it to return), and returns the feed.
func Watch(t testing.TB, s *store.Store) *live.Feed {
	t.Helper()
	feed := live.NewFeed()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Watch(ctx, feed); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return feed
}
