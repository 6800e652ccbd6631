// Package sdkverify is a backend's verifier of the gateway's
// SDK-HMAC-SHA256 backend signatures, for tests. It is written from the
// documented algorithm (Huawei's backend verification samples) and shares
// no code with ext_authz's signer, so that a test signing with one and
// verifying with the other checks the signer against the documentation.
package sdkverify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
)

// authPattern is how the verification samples read the signature header.
var authPattern = regexp.MustCompile(`^SDK-HMAC-SHA256\s+Access=([^,]+),\s?SignedHeaders=([^,]+),\s?Signature=(\w+)$`)

// MaxSkew is how far X-Sdk-Date may be from the verifier's clock.
const MaxSkew = 15 * time.Minute

// Request is a request as the backend received it.
type Request struct {
	Method   string
	Path     string // as received (escaped)
	RawQuery string
	// Header looks a header up by its lower-case name.
	Header func(name string) string
	Body   []byte
}

// Verify checks the signature in the header authHeader of r with the
// secret of its key and X-Sdk-Date against now, and returns the key.
func Verify(r Request, authHeader string, secrets map[string]string, now time.Time) (string, error) {
	m := authPattern.FindStringSubmatch(r.Header(strings.ToLower(authHeader)))
	if m == nil {
		return "", errors.New("no SDK-HMAC-SHA256 signature in " + authHeader)
	}
	key, signedHeaders, sig := m[1], m[2], m[3]
	secret, ok := secrets[key]
	if !ok {
		return "", errors.New("unknown key " + key)
	}
	date := r.Header("x-sdk-date")
	at, err := time.Parse("20060102T150405Z", date)
	if err != nil {
		return "", err
	}
	if d := now.Sub(at); d > MaxSkew || d < -MaxSkew {
		return "", errors.New("X-Sdk-Date is more than 15 minutes away")
	}
	uri, err := canonicalURI(r.Path)
	if err != nil {
		return "", err
	}
	query, err := canonicalQuery(r.RawQuery)
	if err != nil {
		return "", err
	}
	var lines strings.Builder
	for _, h := range strings.Split(signedHeaders, ";") {
		lines.WriteString(h + ":" + strings.TrimSpace(r.Header(h)) + "\n")
	}
	payload := r.Header("x-sdk-content-sha256")
	if payload != "UNSIGNED-PAYLOAD" {
		sum := sha256.Sum256(r.Body)
		payload = hex.EncodeToString(sum[:])
	}
	canonical := r.Method + "\n" + uri + "\n" + query + "\n" + lines.String() + "\n" + signedHeaders + "\n" + payload
	sum := sha256.Sum256([]byte(canonical))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("SDK-HMAC-SHA256\n" + date + "\n" + hex.EncodeToString(sum[:])))
	if !hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(sig)) {
		return "", errors.New("signature mismatch")
	}
	return key, nil
}

// escape percent-encodes everything but RFC 3986's unreserved characters.
func escape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
		}
	}
	return b.String()
}

// canonicalURI is the path with each segment unescaped and escaped again,
// ending in a slash.
func canonicalURI(path string) (string, error) {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		d, err := url.PathUnescape(s)
		if err != nil {
			return "", err
		}
		segs[i] = escape(d)
	}
	uri := strings.Join(segs, "/")
	if !strings.HasSuffix(uri, "/") {
		uri += "/"
	}
	return uri, nil
}

// canonicalQuery is the query's pairs escaped and sorted by name, then
// value.
func canonicalQuery(raw string) (string, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "", err
	}
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	sort.Strings(names)
	var pairs []string
	for _, k := range names {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			pairs = append(pairs, escape(k)+"="+escape(v))
		}
	}
	return strings.Join(pairs, "&"), nil
}
