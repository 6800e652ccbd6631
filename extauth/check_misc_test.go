package extauth_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apigw/apigw/extauth"
	"github.com/apigw/apigw/extauth/sign"
	"github.com/apigw/apigw/internal/testutil"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
)

// Decision logs carry the outcome but never a secret.
func TestDecisionLogsHaveNoSecrets(t *testing.T) {
	az := newAuthzServer(t)
	var buf testutil.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	feed := live.NewFeed()
	feed.Publish(live.NewSnapshot(1, map[string]*model.Instance{model.DefaultInstance: newFixture(az.URL, nil).instance(t)}, nil))
	srv := extauth.New(feed, logger, extauth.WithClock(func() time.Time { return testNow }))

	sig := signed("api-app", "GET", "/pets/1", nil, "", key1, secret1, testNow)
	badSig := signed("api-app", "GET", "/pets/1", nil, "", key1, "wrong-secret-x", testNow)
	reqs := []envoyRequest{
		sig, badSig,
		{api: "api-code", path: "/code", headers: map[string]string{"X-Apig-AppCode": appCode1}},
		{api: "api-code", path: "/code", headers: map[string]string{"X-Apig-AppCode": appCode1 + "zz"}},
		{api: "api-authz-lite", path: "/lite", headers: map[string]string{"X-Token": "mallory"}},
		{api: "api-iam", path: "/iam", headers: map[string]string{"X-Auth-Token": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.sig-secret-part"}},
	}
	for _, r := range reqs {
		if _, err := srv.Check(context.Background(), r.checkRequest()); err != nil {
			t.Fatal(err)
		}
	}
	out := buf.String()
	a, _ := sign.ParseAuthorization(sig.headers["Authorization"])
	b, _ := sign.ParseAuthorization(badSig.headers["Authorization"])
	for _, secret := range []string{secret1, a.Signature, b.Signature, appCode1, "mallory", "sig-secret-part", "eyJhbGciOiJub25lIn0"} {
		if strings.Contains(out, secret) {
			t.Errorf("decision log leaks %q", secret)
		}
	}
	if strings.Count(out, `"msg":"ext_authz decision"`) != len(reqs) {
		t.Errorf("expected %d decision logs:\n%s", len(reqs), out)
	}
	if !strings.Contains(out, `"reason":"bad_signature"`) || !strings.Contains(out, `"app_id":"app1"`) {
		t.Errorf("decision logs lack reason or app:\n%s", out)
	}
}

// Checks run concurrently while snapshots change (run with -race).
func TestConcurrentChecksAcrossSnapshots(t *testing.T) {
	az := newAuthzServer(t)
	f := newFixture(az.URL, nil)
	h := newHarness(t, f.instance(t))
	reqs := []envoyRequest{
		signed("api-app", "GET", "/pets/1", nil, "", key1, secret1, testNow),
		{api: "api-code", path: "/code", headers: map[string]string{"X-Apig-AppCode": appCode1}},
		{api: "api-authz-lite", path: "/lite", headers: map[string]string{"X-Token": "alice"}},
		{api: "api-policy", path: "/routed?tier=gold"},
		{api: "api-params", path: "/search", headers: map[string]string{"x-mode": "fast"}},
	}
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 60 {
				r := reqs[(g+i)%len(reqs)]
				resp, err := h.srv.Check(context.Background(), r.checkRequest())
				if err != nil || resp.GetStatus().GetCode() != 0 {
					t.Errorf("%s: %v %v", r.api, err, resp.GetDeniedResponse().GetBody())
					return
				}
			}
		}()
	}
	for rev := int64(2); rev < 8; rev++ {
		h.feed.Publish(live.NewSnapshot(rev, map[string]*model.Instance{model.DefaultInstance: f.instance(t)}, nil))
	}
	wg.Wait()
}

// Envoy without pack_as_bytes sends the body as a string.
func TestBodyAsString(t *testing.T) {
	h := newHarness(t, newFixture("", nil).instance(t))
	body := `{"a":"b"}`
	r := signed("api-post", "POST", "/orders", nil, body, key1, secret1, testNow)
	req := r.checkRequest()
	http := req.Attributes.Request.Http
	http.Body, http.RawBody = string(http.RawBody), nil
	allowedResp(t, h.check(req))
}
