package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apigw/apigw/internal/testutil"
	"github.com/apigw/apigw/model/store"
)

// Cluster starts an etcd cluster of n embedded members on free loopback
// ports and returns them; members stop at test cleanup (closing one
// earlier, to take away quorum, is fine).
func Cluster(t testing.TB, n int) []*store.Embedded {
	t.Helper()
	peers := make([]string, n)
	var initial []string
	for i := range peers {
		peers[i] = "http://" + testutil.FreeAddr(t)
		initial = append(initial, fmt.Sprintf("m%d=%s", i, peers[i]))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	members := make([]*store.Embedded, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			members[i], errs[i] = store.StartEmbedded(ctx, store.EmbeddedConfig{Dir: t.TempDir(), Name: fmt.Sprintf("m%d", i),
				InitialCluster: strings.Join(initial, ","), ClientURL: "http://127.0.0.1:0", PeerURL: peers[i], LogLevel: "fatal"})
		}()
	}
	wg.Wait()
	for _, m := range members {
		if m != nil {
			t.Cleanup(m.Close)
		}
	}
	for _, err := range errs {
		if err != nil {
			t.Fatalf("etcd cluster: %v", err)
		}
	}
	return members
}
