package model_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// kafkaHuawei is Huawei's documented example content with what apigw
// cannot write turned off (upstream_status, bodies).
const kafkaHuawei = `{"broker_list":["10.0.0.5:9092","kafka-2.example.com:9093"],"topic":"apig.logs","key":"","max_retry_count":3,"retry_backoff":10,
"sasl_config":{"security_protocol":"PLAINTEXT","sasl_mechanisms":"PLAIN","sasl_username":"","sasl_password":"","ssl_ca_content":""},
"meta_config":{"system":{"start_time":true,"request_id":true,"client_ip":true,"api_id":false,"user_name":false,"app_id":false,"access_model1":false,
"request_time":true,"http_status":true,"server_protocol":false,"scheme":true,"request_method":true,"host":false,"api_uri_mode":false,"uri":false,
"request_size":false,"response_size":false,"upstream_uri":false,"upstream_addr":true,"upstream_status":false,"upstream_connect_time":false,
"upstream_header_time":false,"upstream_response_time":true,"all_upstream_response_time":false,"region_id":false,"auth_type":false,
"http_x_forwarded_for":true,"http_user_agent":true,"error_type":true,"access_model2":false,"inner_time":false,"proxy_protocol_vni":false,
"proxy_protocol_vpce_id":false,"proxy_protocol_addr":false,"body_bytes_sent":false,"api_name":false,"app_name":false,"provider_app_id":false,
"provider_app_name":false,"custom_data_log01":false,"custom_data_log02":false,"custom_data_log03":false,"custom_data_log04":false,
"custom_data_log05":false,"custom_data_log06":false,"custom_data_log07":false,"custom_data_log08":false,"custom_data_log09":false,
"custom_data_log10":false,"response_source":false},
"call_data":{"log_request_header":true,"log_request_query_string":true,"log_request_body":false,"log_response_header":true,"log_response_body":false,
"request_header_filter":"X-Custom-Auth-Type","request_query_string_filter":"authId","response_header_filter":"X-Trace-Id",
"custom_authorizer":{"frontend":["user_name","user_age"],"backend":["userName","userAge"]}}}}`

func TestKafkaLogContentValidation(t *testing.T) {
	lim := model.AbsoluteLimits()
	base := `"broker_list":["127.0.0.1:9092"],"topic":"logs"`
	for _, tc := range []struct {
		name, content string
		want          string // a violated field path; "" = valid
	}{
		{"huawei example", kafkaHuawei, ""},
		{"minimal", `{` + base + `}`, ""},
		{"sasl plain", `{` + base + `,"sasl_config":{"security_protocol":"SASL_PLAINTEXT","sasl_username":"u","sasl_password":"p"}}`, ""},
		{"sasl scram ssl", `{` + base + `,"sasl_config":{"security_protocol":"SASL_SSL","sasl_mechanisms":"SCRAM-SHA-512","sasl_username":"u","sasl_password":"p"}}`, ""},
		{"no brokers", `{"topic":"logs"}`, "plugin_content.broker_list"},
		{"broker without port", `{"broker_list":["kafka.example.com"],"topic":"logs"}`, "plugin_content.broker_list[0]"},
		{"broker bad port", `{"broker_list":["127.0.0.1:9092","k:0"],"topic":"logs"}`, "plugin_content.broker_list[1]"},
		{"eleven brokers", `{"broker_list":[` + strings.TrimSuffix(strings.Repeat(`"k:9092",`, 11), ",") + `],"topic":"logs"}`, "plugin_content.broker_list"},
		{"no topic", `{"broker_list":["k:9092"]}`, "plugin_content.topic"},
		{"bad topic", `{"broker_list":["k:9092"],"topic":"a b"}`, "plugin_content.topic"},
		{"retries", `{` + base + `,"max_retry_count":6}`, "plugin_content.max_retry_count"},
		{"backoff", `{` + base + `,"retry_backoff":0}`, "plugin_content.retry_backoff"},
		{"unknown field", `{` + base + `,"brokers":["k:1"]}`, "plugin_content"},
		{"unknown system field", `{` + base + `,"meta_config":{"system":{"request_ids":true}}}`, "plugin_content"},
		{"wrong type", `{` + base + `,"max_retry_count":true}`, "plugin_content"},
		{"protocol", `{` + base + `,"sasl_config":{"security_protocol":"SSL"}}`, "plugin_content.sasl_config.security_protocol"},
		{"mechanism", `{` + base + `,"sasl_config":{"security_protocol":"SASL_SSL","sasl_mechanisms":"GSSAPI","sasl_username":"u","sasl_password":"p"}}`, "plugin_content.sasl_config.sasl_mechanisms"},
		{"sasl without user", `{` + base + `,"sasl_config":{"security_protocol":"SASL_PLAINTEXT","sasl_password":"p"}}`, "plugin_content.sasl_config.sasl_username"},
		{"sasl without password", `{` + base + `,"sasl_config":{"security_protocol":"SASL_PLAINTEXT","sasl_username":"u"}}`, "plugin_content.sasl_config.sasl_password"},
		{"plaintext with password", `{` + base + `,"sasl_config":{"security_protocol":"PLAINTEXT","sasl_password":"p"}}`, "plugin_content.sasl_config.sasl_password"},
		{"ca not pem", `{` + base + `,"sasl_config":{"security_protocol":"SASL_SSL","sasl_username":"u","sasl_password":"p","ssl_ca_content":"nope"}}`, "plugin_content.sasl_config.ssl_ca_content"},
		{"ca without ssl", `{` + base + `,"sasl_config":{"security_protocol":"SASL_PLAINTEXT","sasl_username":"u","sasl_password":"p","ssl_ca_content":"x"}}`, "plugin_content.sasl_config.ssl_ca_content"},
		{"upstream_status", `{` + base + `,"meta_config":{"system":{"upstream_status":true}}}`, "plugin_content.meta_config.system.upstream_status"},
		{"custom data", `{` + base + `,"meta_config":{"system":{"custom_data_log03":true}}}`, "plugin_content.meta_config.system.custom_data_log03"},
		{"request body", `{` + base + `,"meta_config":{"call_data":{"log_request_body":true}}}`, "plugin_content.meta_config.call_data.log_request_body"},
		{"response body", `{` + base + `,"meta_config":{"call_data":{"log_response_body":true}}}`, "plugin_content.meta_config.call_data.log_response_body"},
		{"header star", `{` + base + `,"meta_config":{"call_data":{"log_request_header":true,"request_header_filter":"*"}}}`, "plugin_content.meta_config.call_data.request_header_filter"},
		{"header filter missing", `{` + base + `,"meta_config":{"call_data":{"log_response_header":true}}}`, "plugin_content.meta_config.call_data.response_header_filter"},
		{"bad header", `{` + base + `,"meta_config":{"call_data":{"log_request_header":true,"request_header_filter":"X-A,bad header"}}}`, "plugin_content.meta_config.call_data.request_header_filter"},
		{"query star ok", `{` + base + `,"meta_config":{"call_data":{"log_request_query_string":true,"request_query_string_filter":"*"}}}`, ""},
		{"query filter missing", `{` + base + `,"meta_config":{"call_data":{"log_request_query_string":true}}}`, "plugin_content.meta_config.call_data.request_query_string_filter"},
		{"authorizer fields", `{` + base + `,"meta_config":{"call_data":{"custom_authorizer":{"frontend":["user_name","user-age"],"backend":["tier"]}}}}`, ""},
		{"authorizer bad key", `{` + base + `,"meta_config":{"call_data":{"custom_authorizer":{"backend":["tier","9lives"]}}}}`, "plugin_content.meta_config.call_data.custom_authorizer.backend[1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs := model.Validate(plugin("k1", model.PluginKafkaLog, tc.content), lim)
			if tc.want == "" {
				if len(vs) > 0 {
					t.Fatalf("unexpected violations:\n%s", fieldsOf(vs))
				}
				return
			}
			found := false
			for _, v := range vs {
				found = found || v.Field == tc.want
			}
			if !found {
				t.Fatalf("want a violation of %s, got:\n%s", tc.want, fieldsOf(vs))
			}
		})
	}
}

func TestKafkaLogPluginsPerInstance(t *testing.T) {
	content := `{"broker_list":["127.0.0.1:9092"],"topic":"logs"}`
	var objs []*apigwv1.Plugin
	for i := range model.MaxKafkaLogPlugins {
		objs = append(objs, plugin(fmt.Sprintf("k%d", i), model.PluginKafkaLog, content))
	}
	in := pluginWorld(objs[0], objs[1], objs[2], objs[3], objs[4])
	sixth := plugin("k5", model.PluginKafkaLog, content)
	vs := in.With([]proto.Message{sixth}, nil).Check(sixth)
	if len(vs) == 0 || vs[0].Field != "plugin_type" || !strings.Contains(vs[0].String(), "at most 5") {
		t.Fatalf("a sixth kafka_log plug-in: want a plugin_type violation, got %v", vs)
	}
	// Updating one of the five is not a sixth.
	upd := plugin("k4", model.PluginKafkaLog, `{"broker_list":["127.0.0.1:9093"],"topic":"logs"}`)
	if vs := in.With([]proto.Message{upd}, nil).Check(upd); len(vs) > 0 {
		t.Fatalf("updating a kafka_log plug-in: %v", vs)
	}
}

func TestKafkaLogDefaultsAndHeaders(t *testing.T) {
	p := plugin("k1", model.PluginKafkaLog, kafkaHuawei)
	got := model.KafkaSystemFieldNames(model.KafkaLogContent(p).GetMetaConfig())
	want := []string{"start_time", "request_id", "client_ip", "request_time", "http_status", "scheme", "request_method", "upstream_addr",
		"upstream_response_time", "http_x_forwarded_for", "http_user_agent", "error_type"}
	if !slices.Equal(got, want) {
		t.Fatalf("selected fields %v, want %v", got, want)
	}
	def := model.KafkaSystemFieldNames(nil)
	if slices.Contains(def, "upstream_status") || !slices.Contains(def, "request_id") {
		t.Fatalf("default fields %v", def)
	}
	for _, f := range def {
		if !slices.Contains(model.KafkaSupportedFields(), f) {
			t.Errorf("default field %s is not supported", f)
		}
	}
	other := plugin("k2", model.PluginKafkaLog, `{"broker_list":["k:9092"],"topic":"t","meta_config":{"call_data":{"log_request_header":true,"request_header_filter":"x-custom-auth-type, X-Tenant","log_response_header":false,"response_header_filter":"X-Ignored"}}}`)
	in := pluginWorld(p, other)
	req, resp := in.KafkaLogHeaders()
	if !slices.Equal(req, []string{"x-custom-auth-type", "x-tenant"}) || !slices.Equal(resp, []string{"x-trace-id"}) {
		t.Fatalf("headers: request %v, response %v", req, resp)
	}
}

// The SASL password is kept apart from plugin_content, in a secret field
// (sealed at rest, never read back), and merged back for its users.
func TestKafkaLogPasswordIsASecret(t *testing.T) {
	p := plugin("k1", model.PluginKafkaLog, `{"broker_list":["k:9092"],"topic":"t","sasl_config":{"security_protocol":"SASL_SSL","sasl_username":"u","sasl_password":"pw-<1>"}}`)
	if strings.Contains(p.PluginContent, "pw-") || p.PluginSecret != "pw-<1>" {
		t.Fatalf("content %s, secret %q", p.PluginContent, p.PluginSecret)
	}
	if got := model.KafkaLogContent(p).GetSaslConfig().GetSaslPassword(); got != "pw-<1>" {
		t.Fatalf("merged password %q", got)
	}
	// The plug-in's secret fields: plugin_secret (this one) and
	// client_secret (oidc_auth's), both sealed at rest.
	var set []string
	for _, s := range model.Secrets(p) {
		if s.Get() != "" {
			set = append(set, s.Path+"="+s.Get())
		}
	}
	if strings.Join(set, ",") != "plugin_secret=pw-<1>" {
		t.Fatalf("secret fields set: %v", set)
	}
	if vs := model.Validate(p, model.AbsoluteLimits()); len(vs) > 0 {
		t.Fatal(vs)
	}
	// Normalizing again changes nothing.
	q := proto.Clone(p).(*apigwv1.Plugin)
	model.Normalize(q)
	if !proto.Equal(p, q) {
		t.Fatalf("normalize is not idempotent: %v vs %v", p, q)
	}
	// A kept password is dropped when the plug-in stops using SASL; one
	// written in PLAINTEXT content is refused.
	plain := &apigwv1.Plugin{Id: "k1", PluginName: "plugin_k1", PluginType: model.PluginKafkaLog, PluginSecret: "pw-<1>",
		PluginContent: `{"broker_list":["k:9092"],"topic":"t"}`}
	model.Normalize(plain)
	if plain.PluginSecret != "" {
		t.Fatalf("PLAINTEXT kept the password")
	}
	bad := plugin("k2", model.PluginKafkaLog, `{"broker_list":["k:9092"],"topic":"t","sasl_config":{"sasl_password":"x"}}`)
	if vs := model.Validate(bad, model.AbsoluteLimits()); len(vs) == 0 || vs[0].Field != "plugin_content.sasl_config.sasl_password" {
		t.Fatalf("PLAINTEXT with a password: %v", vs)
	}
	other := plugin("c1", model.PluginCORS, `{"allow_origin":"*","allow_methods":"GET"}`)
	other.PluginSecret = "x"
	if vs := model.Validate(other, model.AbsoluteLimits()); len(vs) == 0 || vs[0].Field != "plugin_secret" {
		t.Fatalf("a secret on a cors plug-in: %v", vs)
	}
}

// A publication's copy of a bound kafka_log plug-in leaves the SASL
// password out (the stored plug-in keeps it).
func TestPublicationLeavesTheSASLPasswordOut(t *testing.T) {
	k := plugin("o1", model.PluginKafkaLog, `{"broker_list":["k:9092"],"topic":"t","sasl_config":{"security_protocol":"SASL_SSL","sasl_username":"u","sasl_password":"pw-2"}}`)
	in := pluginWorld(k, &apigwv1.PluginBinding{Id: "b1", ApiId: "a1", EnvId: "e1", PluginId: "o1"})
	pub, err := in.Publication("a1", "e1", "p1", "", "", testTime)
	if err != nil {
		t.Fatal(err)
	}
	if len(pub.Plugins) != 1 || pub.Plugins[0].PluginSecret != "" || strings.Contains(pub.Plugins[0].PluginContent, "pw-2") {
		t.Fatalf("publication plug-ins %v: want the plug-in without its password", pub.Plugins)
	}
	if k.PluginSecret != "pw-2" {
		t.Fatal("the stored plug-in lost its password")
	}
}
