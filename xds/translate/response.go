package translate

import (
	"encoding/json"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model/gwresp"
	"github.com/apigw/apigw/xds/translate/internal/inputs"
)

// envoyVars are the $context variables of gateway-response templates as Envoy
// formatter commands (docs/apig-semantics.md#gateway-responses). Variables
// Envoy cannot know (API and app names, authorizer context) render empty.
var envoyVars = gwresp.Vars{
	"requestId": "%REQ(X-REQUEST-ID)%",
	"sourceIp":  "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%",
	"reqPath":   "%PATH(NQ)%",
	"reqUri":    "%REQ(:PATH)%",
	"reqMethod": "%REQ(:METHOD)%",
	"stage":     "%REQ(X-STAGE)%",
	"apiId":     "%METADATA(ROUTE:" + metadataNamespace + ":api_id)%",
	"appId":     "%DYNAMIC_METADATA(" + dataplane.ExtAuthzMetadataNamespace + ":" + dataplane.ExtAuthzMetaAppID + ")%",
}

// reply is a gateway response rendered for Envoy: status, body format
// (with formatter commands) and headers.
type reply struct {
	status  uint32
	body    *corev3.SubstitutionFormatString
	headers []*corev3.HeaderValueOption
}

// renderReply renders the template a group (and response set) defines for
// an error's type into an Envoy body format: JSON templates become
// json_format (values JSON-escaped by Envoy), others text_format.
func renderReply(v *inputs.View, groupID, responseID string, e gwresp.Error) reply {
	t := gwresp.LookupIn(v, groupID, responseID, e.Type)
	vars := gwresp.Vars{}
	for k, v := range envoyVars {
		vars[k] = v
	}
	vars["error.code"] = escapeFormatter(e.Code)
	vars["error.message"] = escapeFormatter(e.Message)
	vars["error.type"] = escapeFormatter(e.Type)
	r := reply{status: uint32(e.Status)}
	if t.Status != 0 {
		r.status = uint32(t.Status)
	}
	r.body = bodyFormat(t.Body, vars)
	for _, h := range t.Headers {
		r.headers = append(r.headers, &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: strings.ToLower(h.Key), Value: gwresp.Substitute(escapeFormatter(h.Value), vars, false)},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		})
	}
	return r
}

func bodyFormat(tmpl string, vars gwresp.Vars) *corev3.SubstitutionFormatString {
	var obj map[string]any
	if err := json.Unmarshal([]byte(tmpl), &obj); err == nil {
		if s, err := structpb.NewStruct(substituteJSON(obj, vars).(map[string]any)); err == nil {
			return &corev3.SubstitutionFormatString{Format: &corev3.SubstitutionFormatString_JsonFormat{JsonFormat: s}}
		}
	}
	return &corev3.SubstitutionFormatString{
		//lint:ignore SA1019 Envoy still accepts text_format; text_format_source would only rewrite the golden files
		Format:      &corev3.SubstitutionFormatString_TextFormat{TextFormat: gwresp.Substitute(escapeFormatter(tmpl), vars, false)},
		ContentType: "text/plain; charset=utf-8",
	}
}

func substituteJSON(v any, vars gwresp.Vars) any {
	switch x := v.(type) {
	case string:
		return gwresp.Substitute(escapeFormatter(x), vars, false)
	case map[string]any:
		for k, e := range x {
			x[k] = substituteJSON(e, vars)
		}
	case []any:
		for i, e := range x {
			x[i] = substituteJSON(e, vars)
		}
	}
	return v
}

// customized reports whether a group's default response set changes a
// response type (so Envoy-generated replies need group-specific mappers).
func customized(v *inputs.View, groupID, typ string) bool {
	t := gwresp.LookupIn(v, groupID, "", typ)
	return t.Status != 0 || t.Body != gwresp.DefaultBody || len(t.Headers) > 0
}
