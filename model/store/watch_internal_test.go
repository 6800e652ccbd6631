package store

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/apigw/apigw/model/live"
)

// TestWatchResyncsAfterCompaction starts a watch from a revision that has
// been compacted away: the watch must fail with ErrCompacted, and the
// resync (list) must publish the current state.
func TestWatchResyncsAfterCompaction(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e, err := StartEmbedded(ctx, EmbeddedConfig{Dir: t.TempDir(), ClientURL: "http://127.0.0.1:0", PeerURL: "http://127.0.0.1:0", LogLevel: "fatal"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{e.Endpoint()}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	sealer, _ := NewSealer([]byte("0123456789abcdef0123456789abcdef"))
	s := New(cli, NewCodec(sealer), slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	feed := live.NewFeed()
	w := &watcher{s: s, feed: feed, entries: map[string]*entry{}}
	rev, err := w.list(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := cli.Put(ctx, InstancePrefix("default")+"environments/e1", `{"id":"e1","name":"TEST"}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(ctx, InstancePrefix("default")+"environments/e2", `{"id":"e2","name":"PROD"}`); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Compact(ctx, resp.Header.Revision+1); err != nil {
		t.Fatal(err)
	}
	err = w.watch(ctx, rev)
	if !errors.Is(err, rpctypes.ErrCompacted) {
		t.Fatalf("watch from a compacted revision: got %v, want ErrCompacted", err)
	}
	if feed.Current().Instance("default").Env("e1") != nil {
		t.Fatal("the failed watch must not have applied anything")
	}
	if _, err := w.list(ctx); err != nil {
		t.Fatal(err)
	}
	in := feed.Current().Instance("default")
	if in.Env("e1") == nil || in.Env("e2") == nil {
		t.Fatal("resync did not load the changes made during the gap")
	}
}
