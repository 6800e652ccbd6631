package e2e

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apigw/apigw/extauth/sign"
	"github.com/apigw/apigw/internal/envoysim"
)

// call is one client request of a scenario.
type call struct {
	method, path string
	host         string // :authority (default petstore.example.com)
	header       http.Header
	body         string
	tls          bool
	sni          string // default: the host
	source       string // client IP; honoured at the protocol level only
	key, secret  string // APP signature
	// after changes the request once it is signed (to break the signature).
	after func(*call)
}

// result is what the client got.
type result struct {
	status    int
	header    http.Header
	body      []byte
	requestID string
	cert      *x509.Certificate // TLS: the server certificate
	route     string            // protocol level only
	trace     string            // protocol level only
}

func (r *result) String() string {
	s := fmt.Sprintf("HTTP %d %s", r.status, truncate(string(r.body), 400))
	if r.trace != "" {
		s += "\n" + r.trace
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// gateway is an Envoy of instance "default": emulated or real.
type gateway interface {
	// send makes the request; an error is a connection-level failure.
	send(ctx context.Context, c call) (*result, error)
	// protocolLevel reports whether this is the emulator (which can, for
	// example, pretend to be any client address).
	protocolLevel() bool
}

// prepare fills defaults and signs the request.
func (c call) prepare(t *testing.T) call {
	t.Helper()
	if c.method == "" {
		c.method = http.MethodGet
	}
	if c.host == "" {
		c.host = petstoreHost
	}
	h := http.Header{}
	for k, vs := range c.header {
		h[k] = append([]string(nil), vs...)
	}
	c.header = h
	if c.key != "" {
		r, err := http.NewRequest(c.method, "http://"+c.host+c.path, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		r.Header = h
		if err := sign.Sign(r, c.key, c.secret, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if c.after != nil {
		c.after(&c)
	}
	return c
}

// do sends a call and fails the test on a connection-level error.
func do(t *testing.T, gw gateway, c call) *result {
	t.Helper()
	r, err := try(t, gw, c)
	if err != nil {
		t.Fatalf("%s %s (host %s): %v", c.method, c.path, c.host, err)
	}
	return r
}

// try sends a call and returns connection-level errors.
func try(t *testing.T, gw gateway, c call) (*result, error) {
	t.Helper()
	c = c.prepare(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := gw.send(ctx, c)
	if err != nil {
		return nil, err
	}
	r.requestID = r.header.Get("X-Request-Id")
	return r, nil
}

// simGateway plays Envoy with envoysim.
type simGateway struct{ envoy *envoysim.Envoy }

func (s simGateway) protocolLevel() bool { return true }

func (s simGateway) send(ctx context.Context, c call) (*result, error) {
	src := c.source
	if src != "" {
		src += ":41000"
	}
	resp, err := s.envoy.Serve(ctx, &envoysim.Request{Method: c.method, Path: c.path, Host: c.host, Header: c.header, Body: []byte(c.body),
		TLS: c.tls, SNI: c.sni, Source: src})
	if err != nil {
		return nil, err
	}
	return &result{status: resp.Status, header: resp.Header, body: resp.Body, cert: resp.Certificate, route: resp.Route, trace: strings.Join(resp.Trace, "\n")}, nil
}

// apigError checks an APIG error response: status, JSON content type,
// error_code, a message and the request id of the response header.
func apigError(t *testing.T, r *result, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d (%s): %s", r.status, status, code, r)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("content-type %q, want application/json: %s", ct, r)
	}
	var body struct {
		Code      string `json:"error_code"`
		Msg       string `json:"error_msg"`
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(r.body), &body); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, r)
	}
	if body.Code != code || body.Msg == "" {
		t.Errorf("error_code %q msg %q, want %s: %s", body.Code, body.Msg, code, r)
	}
	if body.RequestID == "" || body.RequestID != r.requestID {
		t.Errorf("request_id %q, response x-request-id %q", body.RequestID, r.requestID)
	}
}

// eventually retries f until it succeeds or the deadline passes.
func eventually(t *testing.T, within time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %v", within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
