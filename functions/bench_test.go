package functions_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/functions"
	"github.com/apigw/apigw/model"
)

// BenchmarkFunctionOverhead compares a call of a plain HTTP backend with
// the same call through the function component (event built, function
// called, reply converted), both over loopback HTTP, side by side:
//
//	go test -run '^$' -bench FunctionOverhead -benchmem ./functions/
func BenchmarkFunctionOverhead(b *testing.B) {
	payload := strings.Repeat("x", 1024)
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, payload)
	}))
	defer plain.Close()
	reply := `{"statusCode":200,"headers":{"Content-Type":"text/plain"},"body":"` + payload + `","isBase64Encoded":false}`
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, reply)
	}))
	defer fn.Close()
	comp := httptest.NewServer(functions.New(context.Background(), fnFeed(b, fn.URL, "sync", ""), slog.New(slog.DiscardHandler), functions.Options{}))
	defer comp.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	run := func(b *testing.B, url string, fnHeaders bool) {
		b.ReportAllocs()
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			req, _ := http.NewRequest("POST", url+"/pets/42?q=1", strings.NewReader(payload))
			req.Header.Set("X-Request-Id", "rq")
			if fnHeaders {
				req.Header.Set(dataplane.FunctionInstanceHeader, model.DefaultInstance)
				req.Header.Set(dataplane.FunctionAPIHeader, "a1")
				req.Header.Set(dataplane.FunctionEnvHeader, model.ReleaseEnvID)
			}
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || int(n) != len(payload) {
				b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
			}
		}
	}
	b.Run("plain", func(b *testing.B) { run(b, plain.URL, false) })
	b.Run("function", func(b *testing.B) { run(b, comp.URL, true) })
}
