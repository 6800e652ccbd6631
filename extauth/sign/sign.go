package sign

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Sign signs an outgoing request for an app key and secret at time t, the
// way APIG's SDKs do: it sets X-Sdk-Date, signs every header present plus
// host, hashes the body (unless X-Sdk-Content-Sha256 is set) and sets the
// Authorization header. The body is read and replaced so that it can still
// be sent.
func Sign(r *http.Request, key, secret string, t time.Time) error {
	return Signer{Key: key, Secret: secret}.Sign(r, t)
}

// Signer signs requests for one app.
type Signer struct {
	Key, Secret string
	// Header carries the signature (default Authorization); set it to the
	// instance's custom_auth_header.app_auth_header when one is configured.
	Header string
	// Exclude lists headers not to sign (any case), e.g. "Content-Type",
	// which some Huawei SDKs leave out.
	Exclude []string
}

// Sign signs r at time t (see the package function Sign).
func (s Signer) Sign(r *http.Request, t time.Time) error {
	if r.Header == nil {
		r.Header = http.Header{}
	}
	authHeader := s.Header
	if authHeader == "" {
		authHeader = AuthorizationHeader
	}
	date := t.UTC().Format(DateFormat)
	r.Header.Set(DateHeader, date)
	r.Header.Del(authHeader)

	host := r.Host
	if host == "" && r.URL != nil {
		host = r.URL.Host
	}
	var body []byte
	if r.Header.Get(ContentSHA256Header) == "" {
		var err error
		if body, err = readBody(r); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(r.Header)+1)
	for k := range r.Header {
		lk := strings.ToLower(k)
		if lk == hostKey || s.excluded(lk) {
			continue
		}
		names = append(names, lk)
	}
	if host != "" {
		names = append(names, hostKey)
	}
	slices.Sort(names)
	req := &Request{Method: r.Method, Host: host, Header: r.Header, Body: body}
	if req.Method == "" {
		req.Method = http.MethodGet
	}
	if r.URL != nil {
		req.Path, req.RawQuery = r.URL.EscapedPath(), r.URL.RawQuery
	}
	a, err := SignRequest(req, s.Key, s.Secret, date, strings.Join(names, ";"))
	if err != nil {
		return err
	}
	r.Header.Set(authHeader, a.String())
	return nil
}

func (s Signer) excluded(lower string) bool {
	if lower == "authorization" || (s.Header != "" && strings.EqualFold(lower, s.Header)) {
		return true
	}
	for _, e := range s.Exclude {
		if strings.EqualFold(e, lower) {
			return true
		}
	}
	return false
}

func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.GetBody != nil {
		rc, err := r.GetBody()
		if err != nil {
			return nil, fmt.Errorf("sign: read body: %w", err)
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	b, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("sign: read body: %w", err)
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	r.ContentLength = int64(len(b))
	return b, nil
}

// SignRequest signs a request view with the given X-Sdk-Date value (which
// r's headers must also carry) and semicolon-separated lower-case signed
// headers, and returns the Authorization value.
func SignRequest(r *Request, key, secret, date, signedHeaders string) (Authorization, error) {
	if len(date) > maxDateLen {
		return Authorization{}, fmt.Errorf("sign: date %q is too long", date)
	}
	var stack [1024]byte // most canonical requests fit: no allocation
	cr, err := appendCanonicalRequest(stack[:0], r, signedHeaders, []byte(PayloadHash(r)))
	if err != nil {
		return Authorization{}, err
	}
	sum := signature(secret, date, cr)
	return Authorization{Access: key, SignedHeaders: signedHeaders, Signature: hex.EncodeToString(sum[:])}, nil
}
