package admin_test

import (
	"testing"

	"google.golang.org/grpc/codes"

	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

// Without the access-log component in the process, GetAPIMetrics says so
// instead of answering with no figures.
func TestAPIMetricsNeedTheAccessLogComponent(t *testing.T) {
	e := setup(t)
	_, err := e.c.GetAPIMetrics(e.ctx, &adminv1.GetAPIMetricsRequest{})
	if code(err) != codes.FailedPrecondition {
		t.Fatalf("got %v, want FAILED_PRECONDITION", err)
	}
}
