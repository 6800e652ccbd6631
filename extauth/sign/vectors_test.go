package sign_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apigw/apigw/extauth/sign"
)

// The official vector of Huawei's signing guide
// (docs/apig-semantics.md#app-signature): only the string to sign is
// published.
func TestOfficialCanonicalRequestVector(t *testing.T) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Sdk-Date", "20191115T033655Z")
	r := &sign.Request{
		Method: "GET", Host: "service.region.example.com",
		Path:     "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs",
		RawQuery: "limit=2&marker=13551d6b-755d-4757-b956-536f674975c0",
		Header:   h,
	}
	cr, err := sign.CanonicalRequest(r, "content-type;host;x-sdk-date", sign.PayloadHash(r))
	if err != nil {
		t.Fatal(err)
	}
	wantCR := "GET\n" +
		"/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/\n" +
		"limit=2&marker=13551d6b-755d-4757-b956-536f674975c0\n" +
		"content-type:application/json\n" +
		"host:service.region.example.com\n" +
		"x-sdk-date:20191115T033655Z\n" +
		"\n" +
		"content-type;host;x-sdk-date\n" +
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if cr != wantCR {
		t.Fatalf("canonical request:\n%s\nwant:\n%s", cr, wantCR)
	}
	sum := sha256.Sum256([]byte(cr))
	if got := hex.EncodeToString(sum[:]); got != "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a" {
		t.Errorf("canonical request hash = %s", got)
	}
	sts := sign.StringToSign(cr, "20191115T033655Z")
	if want := "SDK-HMAC-SHA256\n20191115T033655Z\nb25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a"; sts != want {
		t.Errorf("string to sign = %q, want %q", sts, want)
	}
}

const (
	vecKey    = "example-app-key-0001"
	vecSecret = "example-app-secret-0001"
	vecDate   = "20191111T093443Z"
)

type vector struct {
	name    string
	method  string
	url     string
	headers map[string]string
	body    string
	auth    string
}

// Vectors computed with two independent implementations of the algorithm
// (Python and Go), not published by Huawei
// (docs/apig-semantics.md#app-signature).
var vectors = []vector{
	{
		name: "get-sorted-query", method: "GET", url: "https://api.example.com/app1?b=2&a=1",
		auth: "SDK-HMAC-SHA256 Access=example-app-key-0001, SignedHeaders=host;x-sdk-date, Signature=22334db85d6a5a7e4d386cfa2c2cd3a9f00a7abc3d181ac1ae2408e00a6fac22",
	},
	{
		name: "post-json-escaped", method: "POST", url: "https://api.example.com/v1/orders/a%20b?q=x%20y&q=a",
		headers: map[string]string{"Content-Type": "application/json"}, body: `{"id":1}`,
		auth: "SDK-HMAC-SHA256 Access=example-app-key-0001, SignedHeaders=content-type;host;x-sdk-date, Signature=575e19e1a3cd3b80bf3948a780a5aff7465ae4e0e907d02eea736d8e01832249",
	},
	{
		name: "put-unsigned-payload", method: "PUT", url: "https://api.example.com:8443/upload/",
		headers: map[string]string{"X-Sdk-Content-Sha256": "UNSIGNED-PAYLOAD"}, body: "not hashed",
		auth: "SDK-HMAC-SHA256 Access=example-app-key-0001, SignedHeaders=host;x-sdk-content-sha256;x-sdk-date, Signature=6f0267360a95163acaf7cb638a274f5007a798da4b444e79f8610066a303119a",
	},
}

func (v vector) request(t *testing.T) *http.Request {
	t.Helper()
	var body *strings.Reader
	if v.body != "" {
		body = strings.NewReader(v.body)
	}
	var r *http.Request
	var err error
	if body != nil {
		r, err = http.NewRequest(v.method, v.url, body)
	} else {
		r, err = http.NewRequest(v.method, v.url, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	for k, val := range v.headers {
		r.Header.Set(k, val)
	}
	return r
}

func vecTime(t *testing.T) time.Time {
	tm, err := time.Parse(sign.DateFormat, vecDate)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestSpecVectorsSign(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			r := v.request(t)
			if err := sign.Sign(r, vecKey, vecSecret, vecTime(t)); err != nil {
				t.Fatal(err)
			}
			if got := r.Header.Get("Authorization"); got != v.auth {
				t.Errorf("Authorization:\n got %s\nwant %s", got, v.auth)
			}
			if got := r.Header.Get(sign.DateHeader); got != vecDate {
				t.Errorf("X-Sdk-Date = %q", got)
			}
		})
	}
}

func TestSpecVectorsVerify(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			r := v.request(t)
			r.Header.Set(sign.DateHeader, vecDate)
			a, err := sign.ParseAuthorization(v.auth)
			if err != nil {
				t.Fatal(err)
			}
			req := &sign.Request{Method: r.Method, Host: r.URL.Host, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Header: r.Header, Body: []byte(v.body)}
			now := vecTime(t).Add(14 * time.Minute)
			if err := sign.Verify(req, a, vecSecret, now); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if err := sign.Verify(req, a, vecSecret+"x", now); err != sign.ErrSignatureInvalid {
				t.Errorf("wrong secret: got %v", err)
			}
		})
	}
}

func TestCanonicalPieces(t *testing.T) {
	uris := []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/app1", "/app1/"},
		{"/upload/", "/upload/"},
		{"/v1/orders/a%20b", "/v1/orders/a%20b/"},
		{"/a+b/c~d/e.f_g-h", "/a%2Bb/c~d/e.f_g-h/"},
		{"/%E4%BD%A0%E5%A5%BD", "/%E4%BD%A0%E5%A5%BD/"},
		{"/caf\u00e9", "/caf%C3%A9/"},
		{"/a%2fb", "/a/b/"},
		{"/a:b@c!d", "/a%3Ab%40c%21d/"},
	}
	for _, c := range uris {
		got, err := sign.CanonicalURI(c.in)
		if err != nil || got != c.want {
			t.Errorf("CanonicalURI(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if _, err := sign.CanonicalURI("/a%zz"); err == nil {
		t.Error("CanonicalURI accepted an invalid escape")
	}
	queries := []struct{ in, want string }{
		{"", ""},
		{"b=2&a=1", "a=1&b=2"},
		{"q=x%20y&q=a", "q=a&q=x%20y"},
		{"parm2=&parm1", "parm1=&parm2="},
		{"B=1&a=2", "B=1&a=2"},
		{"a=x+y", "a=x%20y"},
		{"a%3A=1&a=2", "a=2&a%3A=1"},
		{"k=%3Fz&k=a", "k=%3Fz&k=a"},
		{"a=1&&b=2&", "a=1&b=2"},
		{"a=1;b=2&c=3", "c=3"},
		{"a=%zz&b=1", "b=1"},
		{"x=%E4%BD%A0", "x=%E4%BD%A0"},
	}
	for _, c := range queries {
		if got := sign.CanonicalQuery(c.in); got != c.want {
			t.Errorf("CanonicalQuery(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMultiValuedHeaders(t *testing.T) {
	h := http.Header{}
	h.Set("X-Sdk-Date", vecDate)
	h.Add("X-Tag", "b ")
	h.Add("X-Tag", "a")
	r := &sign.Request{Method: "GET", Host: "h", Path: "/", Header: h}
	cr, err := sign.CanonicalRequest(r, "host;x-sdk-date;x-tag", sign.EmptyPayloadHash)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cr, "\nx-tag:a\nx-tag:b\n\n") {
		t.Errorf("multi-valued header lines not sorted and trimmed:\n%s", cr)
	}
	if got := h.Values("X-Tag"); got[0] != "b " {
		t.Error("canonicalisation reordered the caller's header values")
	}
}
