package sign_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apigw/apigw/extauth/sign"
)

func BenchmarkVerify(b *testing.B) {
	for _, size := range []int{0, 1024} {
		name := "nobody"
		if size > 0 {
			name = "body1KiB"
		}
		b.Run(name, func(b *testing.B) {
			body := []byte(strings.Repeat("x", size))
			r, _ := http.NewRequest("POST", "https://api.example.com/v1/items/42?b=2&a=1", strings.NewReader(string(body)))
			r.Header.Set("Content-Type", "application/json")
			tm, err := time.Parse(sign.DateFormat, vecDate)
			if err != nil {
				b.Fatal(err)
			}
			if err := sign.Sign(r, vecKey, vecSecret, tm); err != nil {
				b.Fatal(err)
			}
			a, _ := sign.ParseAuthorization(r.Header.Get("Authorization"))
			v := &sign.Request{Method: r.Method, Host: r.URL.Host, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Header: r.Header, Body: body}
			b.ReportAllocs()
			for b.Loop() {
				if err := sign.Verify(v, a, vecSecret, tm); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
