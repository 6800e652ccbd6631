package explain

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/url"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

// maxResponse bounds the response body Send returns.
const maxResponse = 1 << 20

// Send signs the request with the app's credentials and sends it to the
// gateway URL.
func (s *Service) Send(ctx context.Context, req *adminv1.SendRequest) (*adminv1.SendResponse, error) {
	_, in, err := s.instance(req.GetInstance())
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(req.GetGatewayUrl())
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, invalid("gateway_url", "must be an http:// or https:// URL of an Envoy of the instance")
	}
	base := u.Scheme + "://" + u.Host
	hr, err := httpRequest(in, base, req.GetRequest(), req.GetCredentials(), time.Now())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout(req.GetTimeoutMs()))
	defer cancel()
	client := s.opts.Client
	if u.Scheme == "https" && req.GetInsecureSkipVerify() {
		client = &http.Client{CheckRedirect: client.CheckRedirect, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: hostOnly(hr.Host)}}} //nolint:gosec // asked for, like curl -k
	}
	body := req.GetRequest().GetBody()
	hr = hr.WithContext(ctx)
	hr.Body, hr.ContentLength = io.NopCloser(bytesReader(body)), int64(len(body))
	start := time.Now()
	resp, err := client.Do(hr)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "sending to %s: %v", base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "reading the response of %s: %v", base, err)
	}
	d := time.Since(start)
	return &adminv1.SendResponse{Request: wireRequest(hr, req.GetRequest()), DurationMs: d.Milliseconds(),
		Response: &adminv1.HttpResponse{Status: int32(resp.StatusCode), Headers: headerList(resp.Header), Body: b}}, nil
}
