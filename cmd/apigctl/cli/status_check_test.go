package cli_test

import (
	"strings"
	"testing"

	"github.com/apigw/apigw/cmd/apigctl/cli"
	"github.com/apigw/apigw/model/admin/admintest"
	"github.com/apigw/apigw/model/store"
)

// A second environment named TEST written straight into etcd is reported
// by status, and status --check fails.
func TestStatusCheckFailsOnADuplicateWrittenIntoEtcd(t *testing.T) {
	e := start(t)
	e.must("", "status", "--check")
	ctx := admintest.Context(t)
	for _, kv := range [][2]string{{"environments/e1", `{"id":"e1","name":"TEST"}`}, {"environments/e2", `{"id":"e2","name":"TEST"}`}} {
		if _, err := e.srv.Etcd.Put(ctx, store.InstancePrefix("default")+kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	for s := range e.srv.Feed.Subscribe(ctx) {
		if len(s.Invalid) > 0 {
			break
		}
	}
	out := e.must("", "status")
	contains(t, "status", out, "environments/e2", "name is already used by environment e1")
	if r := e.run("", "status", "--check"); r.code != cli.ExitError {
		t.Fatalf("status --check with a duplicate environment: exit %d\n%s%s", r.code, r.out, r.err)
	}
	// Publishing by name still works: TEST names one environment.
	if got := e.srv.Feed.Current().Instance("default").EnvByName("TEST").GetId(); got != "e1" {
		t.Fatalf("TEST is %q", got)
	}
	if strings.Contains(e.must("", "get", "environments"), "e2") {
		t.Fatal("the duplicate is listed as an environment")
	}
}
