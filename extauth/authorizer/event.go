package authorizer

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Event is the JSON body POSTed to an authorizer. It follows the
// FunctionGraph APIG-trigger event, so authorizer functions written for
// Huawei APIG read the same fields.
type Event struct {
	// Type is FRONTEND or BACKEND.
	Type string `json:"type"`
	// UserData is the authorizer's user_data.
	UserData string `json:"user_data"`
	// HTTPMethod and Path are the client's request method and path
	// (percent-encoded, without query).
	HTTPMethod string `json:"httpMethod"`
	Path       string `json:"path"`
	// Headers holds every request header by lower-case name (repeated
	// headers joined with ",").
	Headers map[string]string `json:"headers"`
	// QueryStringParameters holds the first value of each decoded query
	// parameter.
	QueryStringParameters map[string]string `json:"queryStringParameters"`
	// PathParameters holds the decoded path parameters of the API.
	PathParameters map[string]string `json:"pathParameters"`
	// RequestContext describes the call.
	RequestContext RequestContext `json:"requestContext"`
	// Body is the request body when the authorizer sets need_body: base64
	// when IsBase64Encoded, else the raw text.
	Body            string `json:"body,omitempty"`
	IsBase64Encoded bool   `json:"isBase64Encoded"`
}

// RequestContext is the gateway's view of the call.
type RequestContext struct {
	APIID     string `json:"apiId"`
	APIName   string `json:"apiName"`
	Stage     string `json:"stage"`
	RequestID string `json:"requestId"`
	SourceIP  string `json:"sourceIp"`
	// AppID is the authenticated app (two-factor APP + authorizer).
	AppID string `json:"appId,omitempty"`
	// AccountID is the IAM account (two-factor IAM + authorizer).
	AccountID string `json:"accountId,omitempty"`
	// Authorizer holds the FRONTEND authorizer's context for BACKEND
	// authorizers.
	Authorizer map[string]string `json:"authorizer,omitempty"`
}

// SetBody puts the body into the event, base64-encoded unless raw.
func (e *Event) SetBody(body []byte, raw bool) {
	if raw {
		e.Body, e.IsBase64Encoded = string(body), false
		return
	}
	e.Body, e.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
}

// Decision is the authorizer's answer.
type Decision struct {
	Allow bool
	// Context holds the string key/value pairs the authorizer returned.
	// It is shared with the cache: never modify it.
	Context map[string]string
}

// MaxResponseSize bounds an authorizer response to 1 MB
// (docs/apig-semantics.md#custom-authorizers).
const MaxResponseSize = 1 << 20

var reContextKey = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_\-]{0,31}$`)

// errBadResponse marks a response that breaks the contract.
var errBadResponse = errors.New("invalid authorizer response")

// ParseResponse reads an authorizer's HTTP 200 response body.
func ParseResponse(body []byte) (Decision, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return Decision{}, fmt.Errorf("%w: %v", errBadResponse, err)
	}
	if sc, ok := top["statusCode"]; ok {
		var code int
		if err := json.Unmarshal(sc, &code); err != nil {
			return Decision{}, fmt.Errorf("%w: statusCode is not a number", errBadResponse)
		}
		if code != 200 {
			return Decision{}, fmt.Errorf("%w: statusCode %d", errBadResponse, code)
		}
		var inner string
		if err := json.Unmarshal(top["body"], &inner); err != nil {
			return Decision{}, fmt.Errorf("%w: body must be a JSON string", errBadResponse)
		}
		var b64 bool
		if raw, ok := top["isBase64Encoded"]; ok {
			_ = json.Unmarshal(raw, &b64)
		}
		data := []byte(inner)
		if b64 {
			var err error
			if data, err = base64.StdEncoding.DecodeString(inner); err != nil {
				return Decision{}, fmt.Errorf("%w: body is not base64", errBadResponse)
			}
		}
		if err := json.Unmarshal(data, &top); err != nil {
			return Decision{}, fmt.Errorf("%w: body: %v", errBadResponse, err)
		}
		top = onlyDecision(top)
	}
	return parseDecision(top)
}

func onlyDecision(m map[string]json.RawMessage) map[string]json.RawMessage {
	return map[string]json.RawMessage{"status": m["status"], "context": m["context"]}
}

func parseDecision(m map[string]json.RawMessage) (Decision, error) {
	var status string
	if err := json.Unmarshal(m["status"], &status); err != nil || status == "" {
		return Decision{}, fmt.Errorf("%w: status must be \"allow\" or \"deny\"", errBadResponse)
	}
	var d Decision
	switch strings.ToLower(status) {
	case "allow":
		d.Allow = true
	case "deny":
	default:
		return Decision{}, fmt.Errorf("%w: status %q is neither allow nor deny", errBadResponse, status)
	}
	raw := m["context"]
	if len(raw) == 0 || string(raw) == "null" {
		return d, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var ctx map[string]any
	if err := dec.Decode(&ctx); err != nil {
		return Decision{}, fmt.Errorf("%w: context must be an object", errBadResponse)
	}
	d.Context = make(map[string]string, len(ctx))
	for k, v := range ctx {
		if !reContextKey.MatchString(k) {
			return Decision{}, fmt.Errorf("%w: context key %q must be 1-32 of [A-Za-z0-9_-] starting with a letter", errBadResponse, k)
		}
		switch v := v.(type) {
		case string:
			d.Context[k] = v
		case json.Number:
			d.Context[k] = v.String()
		case bool:
			d.Context[k] = strconv.FormatBool(v)
		default:
			return Decision{}, fmt.Errorf("%w: context value of %q must be a string, number or boolean", errBadResponse, k)
		}
	}
	return d, nil
}
