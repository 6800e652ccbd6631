package sdksign

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"
)

func req(t *testing.T, method, url, body string, hdr map[string]string) *http.Request {
	t.Helper()
	var r *http.Request
	var err error
	if body == "" {
		r, err = http.NewRequest(method, url, nil)
	} else {
		r, err = http.NewRequest(method, url, strings.NewReader(body))
	}
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	return r
}

// The vectors of spec §2.2.5.
func TestSignMatchesSpecVectors(t *testing.T) {
	date, _ := time.Parse(DateLayout, "20191111T093443Z")
	tests := []struct {
		name, method, url, body string
		hdr                     map[string]string
		want                    string
	}{
		{"get with query", "GET", "https://api.example.com/app1?b=2&a=1", "", nil,
			"SDK-HMAC-SHA256 Access=example-app-key-0001, SignedHeaders=host;x-sdk-date, Signature=22334db85d6a5a7e4d386cfa2c2cd3a9f00a7abc3d181ac1ae2408e00a6fac22"},
		{"post with body", "POST", "https://api.example.com/v1/orders/a%20b?q=x%20y&q=a", `{"id":1}`, map[string]string{"Content-Type": "application/json"},
			"SDK-HMAC-SHA256 Access=example-app-key-0001, SignedHeaders=content-type;host;x-sdk-date, Signature=575e19e1a3cd3b80bf3948a780a5aff7465ae4e0e907d02eea736d8e01832249"},
		{"unsigned payload", "PUT", "https://api.example.com:8443/upload/", "", map[string]string{HeaderContent: Unsigned},
			"SDK-HMAC-SHA256 Access=example-app-key-0001, SignedHeaders=host;x-sdk-content-sha256;x-sdk-date, Signature=6f0267360a95163acaf7cb638a274f5007a798da4b444e79f8610066a303119a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := req(t, tt.method, tt.url, tt.body, tt.hdr)
			if err := (HMAC{}).Sign(r, "example-app-key-0001", "example-app-secret-0001", date); err != nil {
				t.Fatal(err)
			}
			if got := r.Header.Get("Authorization"); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if r.Header.Get(HeaderDate) != "20191111T093443Z" {
				t.Errorf("date %q", r.Header.Get(HeaderDate))
			}
		})
	}
}

// The official canonical-request vector of spec §2.2.5.
func TestCanonicalRequestOfficialVector(t *testing.T) {
	r := req(t, "GET", "https://service.region.example.com/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0", "",
		map[string]string{"Content-Type": "application/json", HeaderDate: "20191115T033655Z"})
	cr, err := CanonicalRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(cr))
	if got := hex.EncodeToString(sum[:]); got != "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a" {
		t.Errorf("hash %s of\n%s", got, cr)
	}
}
