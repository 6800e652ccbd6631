package gwresp

import (
	"encoding/json"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// DefaultBody is APIG's default gateway-response body template.
const DefaultBody = `{"error_code":"$context.error.code","error_msg":"$context.error.message","request_id":"$context.requestId"}`

// Vars are the $context variables of a request, by name without the
// "$context." prefix: apiId, apiName, appId, appName, requestId, stage,
// sourceIp, reqPath, reqUri, reqMethod, authorizer.frontend.<key>, ...
// The error.* variables are filled from the Error.
type Vars map[string]string

// Response is a rendered gateway response.
type Response struct {
	Status      int32
	ContentType string
	Headers     [][2]string
	Body        string
}

// Template is a response type's effective definition in a response set.
type Template struct {
	// Status is the configured status, 0 when the error's own applies.
	Status  int32
	Body    string
	Headers []*apigwv1.ResponseHeader
}

// Lookup returns the effective template of a response type for an API:
// the type's entry in the API's response set if it defines one, else the
// default.
func Lookup(in *model.Instance, groupID, responseID, typ string) Template {
	if in == nil {
		return Template{Body: DefaultBody}
	}
	return LookupIn(in, groupID, responseID, typ)
}

// ResponseSets finds a group's gateway-response sets the way
// model.Instance.ResponseSet does.
type ResponseSets interface {
	ResponseSet(groupID, ref string) *apigwv1.GatewayResponse
}

// LookupIn is Lookup over any ResponseSets.
func LookupIn(sets ResponseSets, groupID, responseID, typ string) Template {
	t := Template{Body: DefaultBody}
	set := sets.ResponseSet(groupID, responseID)
	if set == nil && responseID != "" {
		set = sets.ResponseSet(groupID, "")
	}
	if info := set.GetResponses()[typ]; info != nil {
		t.Status = info.Status
		if info.Body != "" {
			t.Body = info.Body
		}
		t.Headers = info.Headers
	}
	return t
}

// Render renders the gateway response for e with the template of e.Type.
func Render(in *model.Instance, groupID, responseID string, e Error, vars Vars) Response {
	t := Lookup(in, groupID, responseID, e.Type)
	all := make(Vars, len(vars)+3)
	for k, v := range vars {
		all[k] = Clip(v, MaxEcho)
	}
	all["error.code"], all["error.message"], all["error.type"] = e.Code, Clip(e.Message, 2*MaxEcho), e.Type
	status := e.Status
	if t.Status != 0 {
		status = t.Status
	}
	r := Response{Status: status, ContentType: "application/json", Body: Substitute(t.Body, all, looksJSON(t.Body))}
	if !looksJSON(t.Body) {
		r.ContentType = "text/plain; charset=utf-8"
	}
	for _, h := range t.Headers {
		r.Headers = append(r.Headers, [2]string{h.Key, withoutControls(Substitute(h.Value, all, false))})
	}
	sort.SliceStable(r.Headers, func(i, j int) bool { return r.Headers[i][0] < r.Headers[j][0] })
	return r
}

// MaxEcho bounds what a gateway response echoes of one request value
// (a path, an app key, an authorizer's context value), in bytes.
const MaxEcho = 256

// Clip cuts s to at most n bytes on a UTF-8 boundary, ending it with
// "..." when it was cut.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := max(n-3, 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// withoutControls drops control characters (but tab) from a header value:
// a substituted value (an authorizer's context) never splits a header.
func withoutControls(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return -1
		}
		return r
	}, s)
}

func isControl(r rune) bool { return (r < 0x20 && r != '\t') || r == 0x7f }

var reVar = regexp.MustCompile(`\$context\.[A-Za-z0-9_.\-]+`)

// Substitute replaces $context.<name> with vars[name] (unknown → empty).
// With jsonEscape the values are escaped for use inside JSON strings, so a
// request path with quotes cannot break the body.
func Substitute(tmpl string, vars Vars, jsonEscape bool) string {
	return reVar.ReplaceAllStringFunc(tmpl, func(tok string) string {
		name := strings.TrimPrefix(tok, "$context.")
		trail := ""
		for strings.HasSuffix(name, ".") {
			name, trail = name[:len(name)-1], trail+"."
		}
		v := vars[name]
		if jsonEscape {
			b, _ := json.Marshal(v)
			v = string(b[1 : len(b)-1])
		}
		return v + trail
	})
}

func looksJSON(s string) bool {
	s = strings.TrimSpace(s)
	return strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[")
}

// StatusText is a short reason for logs and metrics labels.
func (e Error) StatusText() string { return e.Code + " " + strconv.Itoa(int(e.Status)) }
