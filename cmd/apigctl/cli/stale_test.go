package cli_test

import (
	"strings"
	"testing"
	"time"
)

// When apigw cannot reach etcd, reads still answer from its last view and
// apigctl warns that they do.
func TestReadsWarnWhenApigwCannotReachEtcd(t *testing.T) {
	e := start(t)
	e.must("kind: group\nname: pets\n", "apply", "-f", "-")
	if r := e.run("", "get", "groups"); strings.Contains(r.err, "warning") {
		t.Fatalf("warning with etcd up: %s", r.err)
	}
	e.srv.EtcdServer.Close()
	for end := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		r := e.run("", "get", "groups")
		if r.code == 0 && strings.Contains(r.out, "pets") && strings.Contains(r.err, "warning: apigw cannot reach etcd") {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("no warning after etcd stopped: exit %d\n%s%s", r.code, r.out, r.err)
		}
	}
}
