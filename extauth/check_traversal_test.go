package extauth_test

import (
	"strings"
	"testing"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// TestBackendPathTraversal checks that a client value mapped into the
// backend path can never add a dot segment there: a value that is, or
// decodes to, "." or ".." (or holds such a segment between slashes) is
// refused with REQUEST_PARAMETERS_FAILURE; "/" is encoded.
func TestBackendPathTraversal(t *testing.T) {
	f := newFixture("", nil)
	// A query parameter mapped into a backend path parameter.
	f.api(&apigwv1.Api{Id: "api-lookup", Name: "lookup", ReqUri: "/lookup",
		ReqParams:     []*apigwv1.ReqParam{{Name: "q", Location: model.LocQuery}},
		BackendApi:    &apigwv1.BackendApi{UrlDomain: "b.internal", ReqUri: "/v1/items/{q}/x"},
		BackendParams: []*apigwv1.BackendParam{{Name: "q", Location: model.LocPath, Origin: model.OriginRequest, Value: "q"}}})
	// A path parameter forwarded as sent.
	f.api(&apigwv1.Api{Id: "api-file", Name: "file", ReqUri: "/file/{name}",
		ReqParams:  []*apigwv1.ReqParam{{Name: "name", Location: model.LocPath}},
		BackendApi: &apigwv1.BackendApi{UrlDomain: "b.internal", ReqUri: "/store/{name}/meta"}})
	h := newHarness(t, f.instance(t))

	refused := []struct{ api, path string }{
		{"api-lookup", "/lookup?q=.."},
		{"api-lookup", "/lookup?q=."},
		{"api-lookup", "/lookup?q=%2e%2e"},
		{"api-lookup", "/lookup?q=%2E."},
		{"api-lookup", "/lookup?q=..%2Fetc"},
		{"api-lookup", "/lookup?q=a/../b"},
		{"api-lookup", "/lookup?q=..%5Cwin"},
		{"api-file", "/file/%2e%2e"},
		{"api-file", "/file/.%2E"},
		{"api-file", "/file/%2E"},
		{"api-greedy", "/files/a/%2e%2e/b"},
		{"api-greedy", "/files/a/%2E/b"},
	}
	for _, c := range refused {
		t.Run("refused "+c.path, func(t *testing.T) {
			resp := h.check(envoyRequest{api: c.api, path: c.path}.checkRequest())
			if resp.GetOkResponse() != nil {
				t.Fatalf("allowed with backend path %q", metaOf(resp)[dataplane.ExtAuthzMetaBackendPath])
			}
			status, b, _ := denied(t, resp)
			if status != 400 || b.Code != "APIG.0106" || metaOf(resp)[dataplane.ExtAuthzMetaErrorType] != "REQUEST_PARAMETERS_FAILURE" {
				t.Errorf("got %d %+v %v", status, b, metaOf(resp))
			}
		})
	}

	allowed := []struct{ api, path, backend string }{
		{"api-lookup", "/lookup?q=%2f", "/v1/items/%2F/x"},
		{"api-lookup", "/lookup?q=/", "/v1/items/%2F/x"},
		{"api-lookup", "/lookup?q=..a", "/v1/items/..a/x"},
		{"api-lookup", "/lookup?q=...", "/v1/items/.../x"},
		{"api-lookup", "/lookup?q=a.b", "/v1/items/a.b/x"},
		{"api-file", "/file/a%2fb", "/store/a%2fb/meta"},
		{"api-file", "/file/v1.2", "/store/v1.2/meta"},
		{"api-greedy", "/files/a/b.txt", "/store/a/b.txt"},
	}
	for _, c := range allowed {
		t.Run("allowed "+c.path, func(t *testing.T) {
			a := allowedResp(t, h.check(envoyRequest{api: c.api, path: c.path}.checkRequest()))
			if got := a.meta[dataplane.ExtAuthzMetaBackendPath]; got != c.backend {
				t.Errorf("backend path %q, want %q", got, c.backend)
			}
			if strings.Contains(a.meta[dataplane.ExtAuthzMetaBackendPath], "/../") {
				t.Errorf("dot segment in %q", a.meta[dataplane.ExtAuthzMetaBackendPath])
			}
		})
	}
}

// TestPrefixRemainderTraversal: the remainder of a prefix (SWA) API is
// appended to the backend path, so it may not hold a dot segment either.
func TestPrefixRemainderTraversal(t *testing.T) {
	h := newHarness(t, newFixture("", nil).instance(t))
	for _, p := range []string{"/test/%2e%2e/secret", "/test/a/%2E/b", "/test/..%2fx"} {
		if status, b, _ := denied(t, h.check(envoyRequest{api: "api-prefix", path: p}.checkRequest())); status != 400 || b.Code != "APIG.0106" {
			t.Errorf("%s: %d %+v", p, status, b)
		}
	}
	a := allowedResp(t, h.check(envoyRequest{api: "api-prefix", path: "/test/a..b/c"}.checkRequest()))
	if got := a.meta[dataplane.ExtAuthzMetaBackendPath]; got != "/test2/a..b/c" {
		t.Errorf("backend path %q", got)
	}
}
