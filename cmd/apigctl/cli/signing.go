package cli

import (
	"bytes"
	"io"
	"net/http"
	"time"

	"github.com/apigw/apigw/extauth/sign"
)

// signFunc adds an APP signature to a request (sign.Sign: the same
// SDK-HMAC-SHA256 code the gateway verifies with).
type signFunc func(r *http.Request, key, secret string, t time.Time) error

// canonicalRequest returns the canonical request of a signed request, as
// the gateway rebuilds it (for apigctl sign --canonical).
func canonicalRequest(r *http.Request) (string, error) {
	a, err := sign.ParseAuthorization(r.Header.Get(sign.AuthorizationHeader))
	if err != nil {
		return "", err
	}
	var body []byte
	if r.Body != nil {
		if body, err = io.ReadAll(r.Body); err != nil {
			return "", err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	req := &sign.Request{Method: r.Method, Host: host, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Header: r.Header, Body: body}
	return sign.CanonicalRequest(req, a.SignedHeaders, sign.PayloadHash(req))
}
