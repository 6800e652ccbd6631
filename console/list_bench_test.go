package console_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/console"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/admin/admintest"
	"github.com/apigw/apigw/model/live"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// targetList is the server time of one list or search page of 10 000
// APIs, as the console asks for it.
const targetList = 200 * time.Millisecond

// BenchmarkConsoleList10k lists and searches 10 000 APIs (100 groups of
// 100) the way the console does — a page of 20 over the Connect protocol,
// through the console's handler and transcoder into the admin service —
// and, side by side, the same calls on the admin gRPC API (the baseline).
// The server time of each console call must stay under 200 ms.
//
//	go test ./console -run '^$' -bench ConsoleList10k -benchtime 20x
func BenchmarkConsoleList10k(b *testing.B) {
	var gs *grpc.Server
	srv := admintest.StartWith(b, func(s *grpc.Server, _ *live.Feed) { gs = s })
	ctx := admintest.Context(b)
	inst := &apigwv1.Instance{Name: model.DefaultInstance, Config: &apigwv1.InstanceConfig{Quotas: &apigwv1.Quotas{Apis: 20000, ApiGroups: 1500}}}
	if _, err := srv.Client.Apply(ctx, &adminv1.ApplyRequest{Resources: []*apigwv1.Resource{model.Wrap(inst)}}); err != nil {
		b.Fatal(err)
	}
	for chunk := range 10 {
		req := &adminv1.ApplyRequest{}
		for g := chunk * 10; g < chunk*10+10; g++ {
			gid := fmt.Sprintf("g%03d", g)
			req.Resources = append(req.Resources, model.Wrap(&apigwv1.ApiGroup{Id: gid, Name: "group_" + gid}))
			for a := range 100 {
				id := fmt.Sprintf("%s-a%03d", gid, a)
				req.Resources = append(req.Resources, model.Wrap(&apigwv1.Api{Id: id, Name: "api_" + id, GroupId: gid, ReqMethod: "GET",
					ReqUri: fmt.Sprintf("/v1/res%d/{id}", a), ReqProtocol: model.ProtoBoth,
					BackendApi: &apigwv1.BackendApi{UrlDomain: "10.0.0.1:8080", ReqProtocol: model.ProtoHTTP, ReqUri: "/backend/{id}"}}))
			}
		}
		if _, err := srv.Client.Apply(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	rpc, err := console.RPCHandler(gs)
	if err != nil {
		b.Fatal(err)
	}
	h := console.Handler(rpc, console.Options{Authenticated: true})
	cases := []struct {
		name  string
		req   *adminv1.ListRequest
		total int32
	}{
		{"first-page", &adminv1.ListRequest{Kind: "api", PageSize: 20}, 10000},
		{"search-name", &adminv1.ListRequest{Kind: "api", Name: "a042", PageSize: 20}, 100},
		{"group", &adminv1.ListRequest{Kind: "api", GroupId: "group_g057", PageSize: 20}, 100},
		{"search-none", &adminv1.ListRequest{Kind: "api", Name: "nothing-matches", PageSize: 20}, 0},
	}
	for _, c := range cases {
		body, _ := proto.Marshal(c.req)
		var consoleTime, grpcTime time.Duration
		b.Run(c.name+"/console", func(b *testing.B) {
			start := time.Now()
			for range b.N {
				r := httptest.NewRequest("POST", "http://127.0.0.1/apigw.admin.v1.AdminService/List", bytes.NewReader(body))
				r.Header.Set("Content-Type", "application/proto")
				r.Header.Set("Connect-Protocol-Version", "1")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
				resp := &adminv1.ListResponse{}
				if err := proto.Unmarshal(w.Body.Bytes(), resp); err != nil || resp.Total != c.total {
					b.Fatalf("total %d, want %d (%v)", resp.Total, c.total, err)
				}
			}
			consoleTime = time.Since(start) / time.Duration(b.N)
			if consoleTime > targetList {
				b.Errorf("%s: %v per call, over the %v target", c.name, consoleTime, targetList)
			}
		})
		b.Run(c.name+"/grpc", func(b *testing.B) {
			start := time.Now()
			for range b.N {
				if _, err := srv.Client.List(ctx, c.req); err != nil {
					b.Fatal(err)
				}
			}
			grpcTime = time.Since(start) / time.Duration(b.N)
		})
		b.Logf("%s: console %v, admin gRPC %v (ratio %.2f), target %v (%.2f of it)", c.name, consoleTime, grpcTime,
			float64(consoleTime)/float64(grpcTime), targetList, float64(consoleTime)/float64(targetList))
	}
}
