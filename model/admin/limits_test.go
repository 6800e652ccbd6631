package admin_test

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/status"

	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// An apply that breaks thousands of rules is refused with the first 100
// violations and a count of the others, not a megabyte-sized error.
func TestViolationsAreCappedWithACount(t *testing.T) {
	e := setup(t)
	req := &adminv1.ApplyRequest{Resources: []*apigwv1.Resource{model.Wrap(&apigwv1.ApiGroup{Name: "pets"})}}
	const n = 3000
	for i := range n {
		// Each API breaks two rules: a timeout out of range and a bad method.
		req.Resources = append(req.Resources, model.Wrap(&apigwv1.Api{Name: fmt.Sprintf("api_%05d", i), GroupId: "pets", ReqMethod: "FETCH",
			ReqUri: fmt.Sprintf("/items/%d", i), AuthType: "NONE",
			BackendApi: &apigwv1.BackendApi{ReqProtocol: "HTTP", UrlDomain: "10.0.0.1:80", ReqUri: "/", Timeout: 70000}}))
	}
	_, err := e.c.Apply(e.ctx, req)
	vs := violations(t, err)
	if len(vs) != model.MaxReportedViolations+1 {
		t.Fatalf("%d violations returned, want %d and a count", len(vs), model.MaxReportedViolations+1)
	}
	if !strings.HasPrefix(vs[0].Field, "resources[1].") {
		t.Errorf("first violation %v, want one of resources[1]", vs[0])
	}
	last := vs[len(vs)-1]
	var more, total int
	if _, err := fmt.Sscanf(last.Description, "… and %d more violations (%d in all", &more, &total); err != nil || last.Field != "" || total < 2*n || more != total-model.MaxReportedViolations {
		t.Errorf("last entry %v, want the count of the others", last)
	}
	if msg := status.Convert(err).Message(); len(msg) > 32<<10 {
		t.Errorf("error message of %d bytes", len(msg))
	}
	if keys := e.keys(t); len(keys) != 0 {
		t.Fatalf("refused apply stored %d keys", len(keys))
	}
}
