package envoysim

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestFormatText(t *testing.T) {
	x := &fmtCtx{
		req:       headers(":path", "/pets/1?lang=en&x=%20y", "x-request-id", "r1", "X-Trace", "t1"),
		dynMeta:   map[string]*structpb.Struct{"envoy.filters.http.ext_authz": must(structpb.NewStruct(map[string]any{"app_id": "a1", "n": 3.0}))},
		routeMeta: &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{"apigw": must(structpb.NewStruct(map[string]any{"api_id": "api1"}))}},
		remote:    "10.0.0.1:555", local: "127.0.0.1:8080",
	}
	for format, want := range map[string]string{
		"50%%":                                     "50%",
		"%REQ(X-REQUEST-ID)%":                      "r1",
		"%REQ(x-trace)%/%REQ(missing)%":            "t1/",
		"%REQ(missing?x-trace)%":                   "t1",
		"%REQ(X-TRACE):1%":                         "t",
		"%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%": "10.0.0.1",
		"%DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%":  "127.0.0.1",
		"%DYNAMIC_METADATA(envoy.filters.http.ext_authz:app_id)%": "a1",
		"%DYNAMIC_METADATA(envoy.filters.http.ext_authz:n)%":      "3",
		"%DYNAMIC_METADATA(envoy.filters.http.ext_authz:none)%":   "",
		"%METADATA(ROUTE:apigw:api_id)%":                          "api1",
		"%PATH(NQ)%":                                              "/pets/1",
		"%REQ(:PATH)%":                                            "/pets/1?lang=en&x=%20y",
		"%QUERY_PARAM(lang)%":                                     "en",
	} {
		got, err := formatText(format, "", x)
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", format, got, err, want)
		}
	}
	for _, bad := range []string{"%NOT_A_COMMAND%", "%REQ(x)", "%REQ(x):y%"} {
		if _, err := formatText(bad, "", x); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestFormatJSON(t *testing.T) {
	x := &fmtCtx{req: headers("x-request-id", "r1"), status: 404}
	in := must(structpb.NewStruct(map[string]any{"code": "APIG.0101", "request_id": "%REQ(X-REQUEST-ID)%", "status": "%RESPONSE_CODE%", "missing": "%REQ(nope)%", "text": "id=%REQ(nope)%"}))
	out, err := formatJSON(in, x)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"code": "APIG.0101", "request_id": "r1", "status": 404.0, "missing": nil, "text": "id=-"} {
		if got := out.GetFields()[k].AsInterface(); got != want {
			t.Errorf("%s = %#v, want %#v", k, got, want)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
