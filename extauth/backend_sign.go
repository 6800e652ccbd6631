package extauth

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strings"

	"github.com/apigw/apigw/extauth/sign"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/gwresp"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// backendSignedHeaders are the headers an hmac backend signature covers:
// only those ext_authz sets itself, since Envoy may still change the others
// (Host by host_rewrite, X-Forwarded-For, X-Request-Id...) after the check
// (docs/apig-semantics.md#backend-signature-keys).
const backendSignedHeaders = "x-sdk-content-sha256;x-sdk-date"

var errNoSignSecret = errors.New("the bound signature key has no secret")

// signBackend signs the backend request with the signature key bound to
// (API, environment), once the backend method, path, query and headers
// are final (after mapBackend). Only HTTP backends are signed: a MOCK
// backend is not called.
func (c *call) signBackend() *denial {
	key := c.target.plan.signKey
	if key == nil || !c.backend.plan.http {
		return nil
	}
	hdr := c.target.inst.Config.GetCustomAuthHeader().GetBackendSignHeader()
	if hdr == "" {
		hdr = sign.AuthorizationHeader
	}
	hdr = strings.ToLower(hdr)
	if key.SignSecret == "" {
		return &denial{reason: ReasonBackendSign, err: gwresp.ErrBackendSign, cause: errNoSignSecret}
	}
	switch key.SignType {
	case model.SignBasic:
		c.mut.setHeader(hdr, "Basic "+base64.StdEncoding.EncodeToString([]byte(key.SignKey+":"+key.SignSecret)))
		return nil
	case model.SignHMAC:
	default:
		// Validation refuses every other type; fail closed if one is stored.
		return &denial{reason: ReasonBackendSign, err: gwresp.ErrBackendSign, cause: errors.New("signature key type " + key.SignType + " is not supported")}
	}
	date := c.now.UTC().Format(sign.DateFormat)
	method := c.req.method
	if m := c.backend.plan.method; m != "" {
		method = m
	}
	path, _, _ := strings.Cut(c.backend.path, "?")
	r := &sign.Request{
		Method:   strings.ToUpper(method),
		Path:     path,
		RawQuery: c.backendQuery(),
		Header:   &signHeaders{date: [1]string{date}, payload: [1]string{sign.UnsignedPayload}},
	}
	a, err := sign.SignRequest(r, key.SignKey, key.SignSecret, date, backendSignedHeaders)
	if err != nil {
		return &denial{reason: ReasonBackendSign, err: gwresp.ErrBackendSign, cause: err}
	}
	c.mut.setHeader("x-sdk-date", date)
	c.mut.setHeader("x-sdk-content-sha256", sign.UnsignedPayload)
	c.mut.setHeader(hdr, a.String())
	return nil
}

// signHeaders are the signed headers' values as the backend receives them.
type signHeaders struct{ date, payload [1]string }

func (h *signHeaders) Values(name string) []string {
	switch name {
	case "x-sdk-date":
		return h.date[:]
	case "x-sdk-content-sha256":
		return h.payload[:]
	}
	return nil
}

// backendQuery is the query the backend receives: the client's parameters
// minus those ext_authz removes or sets (matched by decoded name, as Envoy
// applies the mutations), then those it sets.
func (c *call) backendQuery() string {
	if len(c.mut.setQuery) == 0 && len(c.mut.rmQuery) == 0 {
		return c.req.rawQuery
	}
	var b strings.Builder
	b.Grow(len(c.req.rawQuery) + 16*len(c.mut.setQuery))
	for _, p := range c.req.params() {
		if c.queryMutated(p.key) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.piece)
	}
	for _, q := range c.mut.setQuery {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(q.k))
		b.WriteByte('=')
		b.WriteString(q.v)
	}
	return b.String()
}

func (c *call) queryMutated(key string) bool {
	for _, k := range c.mut.rmQuery {
		if k == key {
			return true
		}
	}
	for _, q := range c.mut.setQuery {
		if q.k == key {
			return true
		}
	}
	return false
}

// signKeyOf is the signature key bound to the publication's API and
// environment, nil when none is.
func signKeyOf(in *model.Instance, pub *apigwv1.Publication) *apigwv1.SignatureKey {
	return in.SignatureFor(pub.ApiId, pub.EnvId)
}
