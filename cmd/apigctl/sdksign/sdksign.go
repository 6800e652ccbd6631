// Package sdksign signs HTTP requests with APIG's APP signature
// (SDK-HMAC-SHA256, spec §2.2) for apigctl call and apigctl sign. It is
// the client side only; the gateway verifies in extauth.
package sdksign

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Algorithm is the signature scheme name.
const Algorithm = "SDK-HMAC-SHA256"

// Header names of the signature.
const (
	HeaderDate    = "X-Sdk-Date"
	HeaderContent = "X-Sdk-Content-Sha256"
	DateLayout    = "20060102T150405Z"
	Unsigned      = "UNSIGNED-PAYLOAD"
)

// Signer adds an APP signature to a request.
type Signer interface {
	Sign(r *http.Request, key, secret string, t time.Time) error
}

// HMAC is the SDK-HMAC-SHA256 signer. It signs every header of the
// request (and host), as the APIG SDKs do.
type HMAC struct{}

var _ Signer = HMAC{}

// Sign sets X-Sdk-Date and Authorization on r. The body is read and
// restored.
func (HMAC) Sign(r *http.Request, key, secret string, t time.Time) error {
	r.Header.Set(HeaderDate, t.UTC().Format(DateLayout))
	payload, err := payloadHash(r)
	if err != nil {
		return err
	}
	signed := signedHeaders(r)
	cr := canonicalRequest(r, signed, payload)
	sum := sha256.Sum256([]byte(cr))
	sts := Algorithm + "\n" + r.Header.Get(HeaderDate) + "\n" + hex.EncodeToString(sum[:])
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(sts))
	r.Header.Set("Authorization", fmt.Sprintf("%s Access=%s, SignedHeaders=%s, Signature=%s", Algorithm, key, strings.Join(signed, ";"), hex.EncodeToString(mac.Sum(nil))))
	return nil
}

// CanonicalRequest returns the canonical request of r as it would be
// signed (for debugging signatures).
func CanonicalRequest(r *http.Request) (string, error) {
	payload, err := payloadHash(r)
	if err != nil {
		return "", err
	}
	return canonicalRequest(r, signedHeaders(r), payload), nil
}

func payloadHash(r *http.Request) (string, error) {
	if v := r.Header.Get(HeaderContent); v == Unsigned {
		return v, nil
	}
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return "", err
		}
		_ = r.Body.Close()
		body = b
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:]), nil
}

func host(r *http.Request) string {
	h := r.Host
	if h == "" {
		h = r.URL.Host
	}
	return h // as sent: Go sends the port of the URL, and the gateway checks the Host it receives
}

func signedHeaders(r *http.Request) []string {
	set := map[string]bool{"host": true}
	for k := range r.Header {
		if lk := strings.ToLower(k); lk != "authorization" {
			set[lk] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func canonicalRequest(r *http.Request, signed []string, payload string) string {
	var b strings.Builder
	b.WriteString(strings.ToUpper(r.Method) + "\n")
	b.WriteString(canonicalURI(r.URL) + "\n")
	b.WriteString(canonicalQuery(r.URL) + "\n")
	for _, h := range signed {
		var vals []string
		if h == "host" {
			vals = []string{host(r)}
		} else {
			vals = append(vals, r.Header.Values(h)...)
			sort.Strings(vals)
		}
		for _, v := range vals {
			b.WriteString(h + ":" + strings.TrimSpace(v) + "\n")
		}
	}
	b.WriteString("\n")
	b.WriteString(strings.Join(signed, ";") + "\n")
	b.WriteString(payload)
	return b.String()
}

func canonicalURI(u *url.URL) string {
	segs := strings.Split(u.Path, "/")
	for i, s := range segs {
		segs[i] = escape(s)
	}
	p := strings.Join(segs, "/")
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

func canonicalQuery(u *url.URL) string {
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vals := append([]string(nil), q[k]...)
		sort.Strings(vals)
		for _, v := range vals {
			parts = append(parts, escape(k)+"="+escape(v))
		}
	}
	return strings.Join(parts, "&")
}

// escape percent-encodes everything but the unreserved characters.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
