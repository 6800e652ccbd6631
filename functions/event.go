package functions

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/apigw/apigw/model"
)

// Event is APIG's function-trigger event: what a FunctionGraph function
// behind an APIG trigger receives, POSTed as JSON to the registry's URL.
type Event struct {
	Body                  string            `json:"body"`
	RequestContext        RequestContext    `json:"requestContext"`
	QueryStringParameters map[string]string `json:"queryStringParameters"`
	HTTPMethod            string            `json:"httpMethod"`
	PathParameters        map[string]string `json:"pathParameters"`
	Headers               map[string]string `json:"headers"`
	Path                  string            `json:"path"`
	IsBase64Encoded       bool              `json:"isBase64Encoded"`
}

// RequestContext identifies the call.
type RequestContext struct {
	APIID     string `json:"apiId"`
	RequestID string `json:"requestId"`
	Stage     string `json:"stage"`
	SourceIP  string `json:"sourceIp,omitempty"`
}

// Call is what the event is built from besides the request itself.
type Call struct {
	APIID, Stage string
	// ReqURI is the API's frontend path (model.ParseFrontendPath syntax).
	ReqURI string
	// Base64 encodes the body (is_send_fg_body_base64, default true).
	Base64 bool
}

// internalHeader says whether a request header is the gateway's own
// (set by Envoy for this component) and stays out of the event.
func internalHeader(name string) bool {
	return strings.HasPrefix(name, "x-apigw-function-") || strings.HasPrefix(name, "x-envoy-")
}

// BuildEvent turns a request (its body already read) into the event.
// Multi-valued headers and query parameters are joined with "," as APIG
// does; header names are lower case.
func BuildEvent(r *http.Request, body []byte, c Call) Event {
	ev := Event{
		HTTPMethod:            r.Method,
		Path:                  r.URL.Path,
		Headers:               map[string]string{},
		QueryStringParameters: map[string]string{},
		PathParameters:        pathParams(c.ReqURI, r.URL.EscapedPath()),
		IsBase64Encoded:       c.Base64,
		RequestContext:        RequestContext{APIID: c.APIID, Stage: c.Stage, RequestID: r.Header.Get("X-Request-Id"), SourceIP: sourceIP(r)},
	}
	for k, vs := range r.Header {
		name := strings.ToLower(k)
		if internalHeader(name) {
			continue
		}
		ev.Headers[name] = strings.Join(vs, ",")
	}
	if r.Host != "" {
		ev.Headers["host"] = r.Host
	}
	q, _ := url.ParseQuery(r.URL.RawQuery)
	for k, vs := range q {
		ev.QueryStringParameters[k] = strings.Join(vs, ",")
	}
	if c.Base64 {
		ev.Body = base64.StdEncoding.EncodeToString(body)
	} else {
		ev.Body = string(body)
	}
	return ev
}

// sourceIP is the client address Envoy appended to X-Forwarded-For.
func sourceIP(r *http.Request) string {
	xff := r.Header.Values("X-Forwarded-For")
	if len(xff) == 0 {
		return ""
	}
	parts := strings.Split(xff[len(xff)-1], ",")
	return strings.TrimSpace(parts[len(parts)-1])
}

// pathParams extracts the frontend path's parameters from a request path.
func pathParams(reqURI, path string) map[string]string {
	out := map[string]string{}
	t, err := model.ParseFrontendPath(reqURI)
	if err != nil {
		return out
	}
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i, s := range t.Segments {
		if i >= len(segs) {
			break
		}
		if s.Param == "" {
			continue
		}
		parts := segs[i : i+1]
		if s.Greedy {
			parts = segs[i:]
		}
		vals := make([]string, len(parts))
		for j, p := range parts {
			vals[j] = p
			if u, err := url.PathUnescape(p); err == nil {
				vals[j] = u
			}
		}
		out[s.Param] = strings.Join(vals, "/")
	}
	return out
}

// Reply is the function's answer in APIG's trigger response format.
type Reply struct {
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
}

// ErrNoStatus is a reply without statusCode (FunctionGraph's FSS.1206).
var ErrNoStatus = errors.New("the function's reply has no statusCode")

// ParseReply reads a function's reply.
func ParseReply(b []byte) (Reply, []byte, error) {
	var raw struct {
		StatusCode      *int              `json:"statusCode"`
		Headers         map[string]string `json:"headers"`
		Body            string            `json:"body"`
		IsBase64Encoded bool              `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return Reply{}, nil, fmt.Errorf("the function's reply is not APIG's trigger response (JSON with statusCode, headers, body, isBase64Encoded): %v", err)
	}
	if raw.StatusCode == nil {
		return Reply{}, nil, ErrNoStatus
	}
	if *raw.StatusCode < 100 || *raw.StatusCode > 599 {
		return Reply{}, nil, fmt.Errorf("the function's reply has statusCode %d outside 100-599", *raw.StatusCode)
	}
	rep := Reply{StatusCode: *raw.StatusCode, Headers: raw.Headers, Body: raw.Body, IsBase64Encoded: raw.IsBase64Encoded}
	body := []byte(raw.Body)
	if raw.IsBase64Encoded {
		d, err := base64.StdEncoding.DecodeString(raw.Body)
		if err != nil {
			return Reply{}, nil, fmt.Errorf("the function's reply body is not base64 though isBase64Encoded is true: %v", err)
		}
		body = d
	}
	return rep, body, nil
}

// hopHeaders are not copied from a reply onto the response.
var hopHeaders = map[string]bool{"connection": true, "content-length": true, "transfer-encoding": true, "keep-alive": true, "upgrade": true, "te": true, "trailer": true}

// WriteReply writes the function's reply as the HTTP response.
func WriteReply(w http.ResponseWriter, rep Reply, body []byte) {
	for k, v := range rep.Headers {
		if hopHeaders[strings.ToLower(k)] {
			continue
		}
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.StatusCode)
	_, _ = w.Write(body)
}
