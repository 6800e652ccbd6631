package explain

import (
	"bytes"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/apigw/apigw/extauth/sign"
	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// maxBody bounds the body of a request to explain or send.
const maxBody = 4 << 20

// httpRequest checks a request and returns it as an http.Request for
// scheme://host (or base), signed or given an AppCode per creds: the
// secret is read from the served snapshot and never returned.
func httpRequest(in *model.Instance, base string, r *adminv1.HttpRequest, creds *adminv1.Credentials, now time.Time) (*http.Request, error) {
	if r == nil {
		return nil, invalid("request", "is required")
	}
	method := strings.ToUpper(r.GetMethod())
	if method == "" {
		method = http.MethodGet
	}
	path := r.GetPath()
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") {
		return nil, invalid("request.path", "must start with /")
	}
	if len(r.GetBody()) > maxBody {
		return nil, invalid("request.body", "is larger than 4 MiB")
	}
	host := r.GetHost()
	if base == "" {
		if host == "" {
			return nil, invalid("request.host", "is required: a domain of the API's group (its debugging domain or a bound domain)")
		}
		scheme := "http"
		if r.GetTls() {
			scheme = "https"
		}
		base = scheme + "://" + host
	}
	if r.GetClientIp() != "" && net.ParseIP(r.GetClientIp()) == nil {
		return nil, invalid("request.client_ip", "is not an IP address")
	}
	u, err := url.Parse(strings.TrimSuffix(base, "/") + path)
	if err != nil {
		return nil, invalid("request.path", err.Error())
	}
	req, err := http.NewRequest(method, u.String(), bytes.NewReader(r.GetBody()))
	if err != nil {
		return nil, invalid("request", err.Error())
	}
	if host != "" {
		req.Host = host
	}
	for i, h := range r.GetHeaders() {
		name := strings.TrimSpace(h.GetName())
		if name == "" || strings.ContainsAny(name, " :\r\n") {
			return nil, invalid("request.headers["+strconv.Itoa(i)+"].name", "is not a header name")
		}
		if strings.ContainsAny(h.GetValue(), "\r\n") {
			return nil, invalid("request.headers["+strconv.Itoa(i)+"].value", "holds a line break")
		}
		if strings.EqualFold(name, "host") {
			req.Host = h.GetValue()
			continue
		}
		req.Header.Add(name, h.GetValue())
	}
	if creds.GetAppId() == "" {
		return req, nil
	}
	m, err := in.Find(model.KindApp, creds.GetAppId())
	if err != nil {
		return nil, invalid("credentials.app_id", err.Error())
	}
	app := m.(*apigwv1.App)
	if creds.GetAppCode() {
		if len(app.GetAppCodes()) == 0 {
			return nil, invalid("credentials.app_code", "app "+app.GetName()+" has no AppCode")
		}
		req.Header.Set("X-Apig-AppCode", app.GetAppCodes()[0].GetAppCode())
		return req, nil
	}
	if err := sign.Sign(req, app.GetAppKey(), app.GetAppSecret(), now); err != nil {
		return nil, invalid("credentials.app_id", "signing: "+err.Error())
	}
	req.Body = nil
	return req, nil
}

// wireRequest is the request as reported back: the headers sent, with
// the AppCode and the signature kept (they are derived from, not equal
// to, the secret; an AppCode is a credential the user chose to use).
func wireRequest(r *http.Request, orig *adminv1.HttpRequest) *adminv1.HttpRequest {
	out := &adminv1.HttpRequest{Method: r.Method, Path: r.URL.RequestURI(), Host: r.Host, Body: orig.GetBody(), Tls: orig.GetTls(), ClientIp: orig.GetClientIp()}
	out.Headers = adminv1.HeadersOf(r.Header)
	return out
}

// invalid is an INVALID_ARGUMENT naming the request field, with the
// google.rpc.BadRequest field violation the console shows on the field.
func invalid(field, desc string) error {
	st, _ := status.New(codes.InvalidArgument, field+": "+desc).WithDetails(&errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: desc}}})
	return st.Err()
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// hostOnly strips the port of a host[:port].
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}
