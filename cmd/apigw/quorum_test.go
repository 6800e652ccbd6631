package main_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/store/storetest"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// With an external etcd cluster that loses quorum, apigw stays up: admin
// writes end with UNAVAILABLE naming etcd and its quorum within the
// caller's deadline, /metrics shows apigw_store_connected 0, and xDS,
// ext_authz and the RLS keep serving the last good configuration.
func TestBinaryKeepsServingWithoutEtcdQuorum(t *testing.T) {
	bin := binary(t)
	members := storetest.Cluster(t, 3)
	p := &proc{out: &bytes.Buffer{}}
	p.ops = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p.adm = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p.xds = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p.auth = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p.rls = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p.cmd = exec.Command(bin, "--etcd-endpoints", members[0].Endpoint(),
		"--secret-key", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"--admin-addr", p.adm, "--ops-addr", p.ops, "--xds-addr", p.xds, "--extauth-addr", p.auth, "--ratelimit-addr", p.rls, "--console-addr", "127.0.0.1:0")
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.stop(t) })
	p.waitReady(t, 20*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := p.admin(t)
	for _, m := range []*apigwv1.Resource{
		model.Wrap(&apigwv1.ApiGroup{Name: "pets"}),
		model.Wrap(&apigwv1.Api{Name: "list_pets", GroupId: "pets", ReqMethod: "GET", ReqUri: "/pets", AuthType: "APP", ReqProtocol: "BOTH",
			BackendApi: &apigwv1.BackendApi{UrlDomain: "10.0.0.1:8080", ReqUri: "/pets"}}),
	} {
		if _, err := c.Create(ctx, &adminv1.CreateRequest{Resource: m}); err != nil {
			t.Fatal(err)
		}
	}
	pub, err := c.Publish(ctx, &adminv1.PublishRequest{ApiId: "list_pets"})
	if err != nil {
		t.Fatal(err)
	}
	checkXDS(t, p.xds, "/pets") // published and translated before the loss

	members[1].Close()
	members[2].Close()

	wctx, wcancel := context.WithTimeout(ctx, 4*time.Second)
	start := time.Now()
	_, err = c.Create(wctx, &adminv1.CreateRequest{Resource: model.Wrap(&apigwv1.Environment{Name: "TEST"})})
	wcancel()
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "quorum") || time.Since(start) >= 4*time.Second {
		t.Fatalf("write without quorum: %v after %v\n%s", err, time.Since(start), p.out)
	}
	for end := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if metric(t, p.ops, "apigw_store_connected") == "0" {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("apigw_store_connected did not drop to 0\n%s", p.out)
		}
	}

	route, ctxExt := checkXDS(t, p.xds, "/pets")
	checkExtAuthz(t, p.auth, ctxExt, pub.Publication)
	checkRateLimit(t, p.rls, route)
	if p.cmd.ProcessState != nil {
		t.Fatalf("apigw exited\n%s", p.out)
	}
}

// metric returns the value of an unlabelled metric on /metrics.
func metric(t *testing.T, ops, name string) string {
	t.Helper()
	resp, err := http.Get("http://" + ops + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}
