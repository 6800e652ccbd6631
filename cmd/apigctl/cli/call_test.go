package cli_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestSignPrintsTheSpecVector(t *testing.T) {
	e := &env{t: t}
	out := e.must("", "sign", "https://api.example.com/v1/orders/a%20b?q=x%20y&q=a", "-X", "POST", "-H", "Content-Type: application/json",
		"-d", `{"id":1}`, "--app-key", "example-app-key-0001", "--app-secret", "example-app-secret-0001", "--date", "20191111T093443Z")
	want := "X-Sdk-Date: 20191111T093443Z\nAuthorization: SDK-HMAC-SHA256 Access=example-app-key-0001, SignedHeaders=content-type;host;x-sdk-date, Signature=575e19e1a3cd3b80bf3948a780a5aff7465ae4e0e907d02eea736d8e01832249\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestCallSendsSignedRequestsAndAppCodes(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	var bodies []string
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r)
		bodies = append(bodies, string(b))
		mu.Unlock()
		if r.Header.Get("X-Apig-AppCode") == "" && r.Header.Get("Authorization") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error_code":"APIG.0303"}`)
			return
		}
		w.Header().Set("X-Request-Id", "r1")
		_, _ = io.WriteString(w, "hello")
	}))
	t.Cleanup(ts.Close)
	e := &env{t: t}
	// Signed with a fixed date: the signature equals the one apigctl sign
	// prints for the same request.
	url := ts.URL + "/app1?b=2&a=1"
	host := strings.TrimPrefix(ts.URL, "https://")
	out := e.must("", "call", url, "-k", "-i", "--app-key", "k1", "--app-secret", "s3cr3ts3cr3t", "--date", "20191111T093443Z", "--stage", "TEST")
	contains(t, "call", out, "200 OK", "X-Request-Id: r1", "hello")
	signed := e.must("", "sign", url, "-H", "X-Stage: TEST", "--app-key", "k1", "--app-secret", "s3cr3ts3cr3t", "--date", "20191111T093443Z")
	r := got[0]
	if want := "Authorization: " + r.Header.Get("Authorization") + "\n"; !strings.Contains(signed, want) {
		t.Errorf("call sent %q; sign printed\n%s", r.Header.Get("Authorization"), signed)
	}
	if r.Header.Get("X-Sdk-Date") != "20191111T093443Z" || r.Header.Get("X-Stage") != "TEST" || r.Host != host {
		t.Errorf("headers: %v host %s", r.Header, r.Host)
	}
	// AppCode
	e.must("", "call", ts.URL+"/app1", "-k", "--app-code", strings.Repeat("c", 64), "-X", "PUT", "-d", "payload")
	if r := got[1]; r.Method != "PUT" || r.Header.Get("X-Apig-AppCode") != strings.Repeat("c", 64) || bodies[1] != "payload" {
		t.Errorf("appcode call: %s %v %q", r.Method, r.Header, bodies[1])
	}
	// Failures: the body is printed; --fail makes the exit code 1.
	res := e.run("", "call", ts.URL+"/app1", "-k", "--fail")
	if res.code != 1 || !strings.Contains(res.out, "APIG.0303") || !strings.Contains(res.err, "401") {
		t.Errorf("unauthenticated call: %d %q %q", res.code, res.out, res.err)
	}
	if res := e.run("", "call", ts.URL, "--app-key", "only-key"); res.code != 2 {
		t.Errorf("key without secret: exit %d", res.code)
	}
}
