package model

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"net"
	"regexp"
	"slices"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// PluginKafkaLog pushes the access-log entries of the APIs it is bound to
// to a Kafka topic (docs/plugins.md#kafka_log).
const PluginKafkaLog = "kafka_log"

// Bounds of a kafka_log plug-in.
const (
	// MaxKafkaLogPlugins is how many kafka_log plug-ins an instance holds.
	MaxKafkaLogPlugins = 5
	// MaxKafkaBrokers bounds broker_list.
	MaxKafkaBrokers = 10
	// MaxKafkaLogHeaders bounds each header filter.
	MaxKafkaLogHeaders = 10
	// KafkaMaxRetries and KafkaMaxBackoff bound max_retry_count and
	// retry_backoff (seconds).
	KafkaMaxRetries = 5
	KafkaMaxBackoff = 10
)

// Security protocols and SASL mechanisms of a kafka_log plug-in.
const (
	KafkaPlaintext     = "PLAINTEXT"
	KafkaSASLPlaintext = "SASL_PLAINTEXT"
	KafkaSASLSSL       = "SASL_SSL"
	KafkaPlain         = "PLAIN"
	KafkaScram256      = "SCRAM-SHA-256"
	KafkaScram512      = "SCRAM-SHA-512"
)

// kafkaDefaultFields are the system fields written when meta_config.system
// is absent: APIG's defaults without upstream_status, which the
// access-log stream does not carry.
var kafkaDefaultFields = []string{"start_time", "request_id", "client_ip", "request_time", "http_status", "scheme",
	"request_method", "host", "uri", "upstream_addr", "upstream_response_time", "http_x_forwarded_for", "http_user_agent", "error_type"}

// kafkaUnavailable are the system fields refused when true, with why.
var kafkaUnavailable = map[string]string{
	"access_model1":              "APIG's internal access model has no equivalent",
	"access_model2":              "APIG's internal access model has no equivalent",
	"upstream_uri":               "the access-log stream does not carry the path sent to the backend",
	"upstream_status":            "Envoy does not keep the backend's status apart from the one sent",
	"upstream_connect_time":      "the access-log stream does not carry the connection time",
	"all_upstream_response_time": "the access-log stream carries one backend time, not one per attempt",
	"region_id":                  "apigw has no regions",
	"inner_time":                 "APIG's internal time has no equivalent",
	"proxy_protocol_vni":         "apigw does not read PROXY protocol VPC headers",
	"proxy_protocol_vpce_id":     "apigw does not read PROXY protocol VPC headers",
	"proxy_protocol_addr":        "apigw does not read PROXY protocol VPC headers",
	"provider_app_id":            "apigw has no provider apps",
	"provider_app_name":          "apigw has no provider apps",
}

func init() {
	for i := 1; i <= 10; i++ {
		kafkaUnavailable["custom_data_log"+twoDigits(i)] = "custom log fields are written by the instance's access-log lines only (config.access_log.custom_fields); use call_data's filters"
	}
}

func twoDigits(i int) string { return string([]byte{byte('0' + i/10), byte('0' + i%10)}) }

// KafkaSystemFieldNames returns the system fields a kafka_log plug-in
// writes, in the order of KafkaSystemFields: those set in system, or the
// default set without it.
func KafkaSystemFieldNames(m *apigwv1.KafkaMetaConfig) []string {
	sys := m.GetSystem()
	if sys == nil {
		return slices.Clone(kafkaDefaultFields)
	}
	var out []string
	r := sys.ProtoReflect()
	fields := r.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		if fd := fields.Get(i); r.Get(fd).Bool() {
			out = append(out, string(fd.Name()))
		}
	}
	return out
}

// KafkaSupportedFields lists the system fields apigw can write, in the
// order of KafkaSystemFields.
func KafkaSupportedFields() []string {
	var out []string
	fields := (&apigwv1.KafkaSystemFields{}).ProtoReflect().Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		if n := string(fields.Get(i).Name()); kafkaUnavailable[n] == "" {
			out = append(out, n)
		}
	}
	return out
}

// KafkaLogContent returns the content of a kafka_log plug-in (nil if it
// does not decode).
func KafkaLogContent(p *apigwv1.Plugin) *apigwv1.KafkaLogContent {
	m, _ := PluginContent(p)
	c, _ := m.(*apigwv1.KafkaLogContent)
	return c
}

// KafkaHeaderNames returns the lower-case header names of a filter.
func KafkaHeaderNames(filter string) []string {
	var out []string
	for _, h := range SplitList(filter) {
		if h = strings.ToLower(h); !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// KafkaLogHeaders returns the request and response headers the kafka_log
// plug-ins of an instance write (lower case, sorted, unique): Envoy's
// access logger must be told to put them in its entries.
func (in *Instance) KafkaLogHeaders() (req, resp []string) {
	for _, m := range in.Objects(KindPlugin) {
		p, ok := m.(*apigwv1.Plugin)
		if !ok || p.PluginType != PluginKafkaLog {
			continue
		}
		cd := KafkaLogContent(p).GetMetaConfig().GetCallData()
		if cd.GetLogRequestHeader() {
			req = append(req, KafkaHeaderNames(cd.GetRequestHeaderFilter())...)
		}
		if cd.GetLogResponseHeader() {
			resp = append(resp, KafkaHeaderNames(cd.GetResponseHeaderFilter())...)
		}
	}
	slices.Sort(req)
	slices.Sort(resp)
	return slices.Compact(req), slices.Compact(resp)
}

var reKafkaTopic = regexp.MustCompile(`^[A-Za-z0-9._\-]{1,249}$`)

func validateKafkaLog(c checker, v *apigwv1.KafkaLogContent) {
	if len(v.BrokerList) == 0 {
		c.add("broker_list", "is required (1-%d brokers, host:port)", MaxKafkaBrokers)
	}
	if len(v.BrokerList) > MaxKafkaBrokers {
		c.add("broker_list", "at most %d brokers (got %d)", MaxKafkaBrokers, len(v.BrokerList))
	}
	for i, b := range v.BrokerList {
		field := index("broker_list", i)
		if _, port, err := net.SplitHostPort(b); err != nil || port == "" {
			c.add(field, "%q must be host:port", b)
		} else if err := CheckHostPort(b); err != nil {
			c.add(field, "%v", err)
		}
	}
	if c.required("topic", v.Topic) && (!reKafkaTopic.MatchString(v.Topic) || v.Topic == "." || v.Topic == "..") {
		c.add("topic", "must be 1-249 of [A-Za-z0-9._-] (a Kafka topic name)")
	}
	c.maxLen("key", v.Key, 255)
	checkWire(c, "key", v.Key)
	if v.MaxRetryCount != nil {
		c.rangeInt("max_retry_count", int64(*v.MaxRetryCount), 0, KafkaMaxRetries)
	}
	if v.RetryBackoff != nil {
		c.rangeInt("retry_backoff", int64(*v.RetryBackoff), 1, KafkaMaxBackoff)
	}
	validateKafkaSASL(c.at("sasl_config"), v.GetSaslConfig())
	validateKafkaMeta(c.at("meta_config"), v.GetMetaConfig())
}

func validateKafkaSASL(c checker, s *apigwv1.KafkaSaslConfig) {
	proto := KafkaSecurityProtocol(s)
	c.oneOf("security_protocol", proto, KafkaPlaintext, KafkaSASLPlaintext, KafkaSASLSSL)
	if proto == KafkaPlaintext {
		for _, f := range []struct{ name, v string }{{"sasl_username", s.GetSaslUsername()}, {"sasl_password", s.GetSaslPassword()}, {"ssl_ca_content", s.GetSslCaContent()}} {
			if f.v != "" {
				c.add(f.name, "must be empty with security_protocol PLAINTEXT")
			}
		}
		return
	}
	c.oneOf("sasl_mechanisms", KafkaMechanism(s), KafkaPlain, KafkaScram256, KafkaScram512)
	if c.required("sasl_username", s.GetSaslUsername()) {
		c.maxLen("sasl_username", s.GetSaslUsername(), 255)
		checkWire(c, "sasl_username", s.GetSaslUsername())
	}
	if c.required("sasl_password", s.GetSaslPassword()) {
		c.maxLen("sasl_password", s.GetSaslPassword(), 1024)
	}
	if ca := s.GetSslCaContent(); ca != "" {
		if proto != KafkaSASLSSL {
			c.add("ssl_ca_content", "is only used with security_protocol SASL_SSL")
		} else if !x509.NewCertPool().AppendCertsFromPEM([]byte(ca)) {
			c.add("ssl_ca_content", "is not a PEM certificate")
		}
	}
}

// KafkaSecurityProtocol returns the security protocol (PLAINTEXT by
// default).
func KafkaSecurityProtocol(s *apigwv1.KafkaSaslConfig) string {
	if p := strings.ToUpper(strings.TrimSpace(s.GetSecurityProtocol())); p != "" {
		return p
	}
	return KafkaPlaintext
}

// KafkaMechanism returns the SASL mechanism (PLAIN by default).
func KafkaMechanism(s *apigwv1.KafkaSaslConfig) string {
	if m := strings.ToUpper(strings.TrimSpace(s.GetSaslMechanisms())); m != "" {
		return m
	}
	return KafkaPlain
}

func validateKafkaMeta(c checker, m *apigwv1.KafkaMetaConfig) {
	if sys := m.GetSystem(); sys != nil {
		sc := c.at("system")
		r := sys.ProtoReflect()
		r.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			if why := kafkaUnavailable[string(fd.Name())]; why != "" && v.Bool() {
				sc.add(string(fd.Name()), "cannot be written by apigw: %s", why)
			}
			return true
		})
	}
	cd := m.GetCallData()
	cc := c.at("call_data")
	headers := func(logField, filterField string, on bool, filter string) {
		if filter == "" {
			if on {
				cc.add(filterField, "is required with %s: name the headers (Envoy logs named headers only)", logField)
			}
			return
		}
		c.maxLen("call_data."+filterField, filter, 1024)
		names := SplitList(filter)
		if len(names) > MaxKafkaLogHeaders {
			cc.add(filterField, "at most %d headers (got %d)", MaxKafkaLogHeaders, len(names))
		}
		for _, h := range names {
			switch {
			case h == "*":
				cc.add(filterField, "\"*\" is not supported: Envoy's access log carries named headers only")
			case !ValidHeaderName(h):
				cc.add(filterField, "%q is not a header name", h)
			}
		}
	}
	headers("log_request_header", "request_header_filter", cd.GetLogRequestHeader(), cd.GetRequestHeaderFilter())
	headers("log_response_header", "response_header_filter", cd.GetLogResponseHeader(), cd.GetResponseHeaderFilter())
	if q := cd.GetRequestQueryStringFilter(); q != "" {
		c.maxLen("call_data.request_query_string_filter", q, 1024)
		for _, n := range SplitList(q) {
			if n != "*" && (HasControl(n) || strings.ContainsAny(n, "&=#")) {
				cc.add("request_query_string_filter", "%q is not a query parameter name", n)
			}
		}
	} else if cd.GetLogRequestQueryString() {
		cc.add("request_query_string_filter", "is required with log_request_query_string: names or \"*\"")
	}
	if cd.GetLogRequestBody() {
		cc.add("log_request_body", "is not supported: Envoy's access-log stream carries no request bodies")
	}
	if cd.GetLogResponseBody() {
		cc.add("log_response_body", "is not supported: Envoy's access-log stream carries no response bodies")
	}
	ac := cc.at("custom_authorizer")
	for _, side := range []struct {
		name string
		keys []string
	}{{"frontend", cd.GetCustomAuthorizer().GetFrontend()}, {"backend", cd.GetCustomAuthorizer().GetBackend()}} {
		if len(side.keys) > MaxKafkaLogHeaders {
			ac.add(side.name, "at most %d context keys (got %d)", MaxKafkaLogHeaders, len(side.keys))
		}
		for i, k := range side.keys {
			if !reContextKey.MatchString(k) {
				ac.add(index(side.name, i), "authorizer context keys are 1-32 of [A-Za-z0-9_-] starting with a letter (got %q)", k)
			}
		}
	}
}

// splitPluginSecret moves the SASL password of a kafka_log plug-in's
// content into plugin_secret, a secret field (sealed at rest, never read
// back); the content keeps its other fields, re-encoded as compact JSON.
// With security_protocol PLAINTEXT no password is kept. Content that does
// not decode is left for validation to refuse.
func splitPluginSecret(p *apigwv1.Plugin) {
	if p.PluginType != PluginKafkaLog {
		return
	}
	dec := json.NewDecoder(strings.NewReader(p.PluginContent))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil || dec.More() {
		return
	}
	var sc map[string]any
	for _, k := range []string{"sasl_config", "saslConfig"} {
		if m, ok := doc[k].(map[string]any); ok {
			sc = m
		}
	}
	changed := false
	for _, k := range []string{"sasl_password", "saslPassword"} {
		if pw, ok := sc[k].(string); ok && pw != "" {
			p.PluginSecret = pw
			delete(sc, k)
			changed = true
		}
	}
	if !changed {
		// A password kept from the stored version is dropped when the
		// plug-in no longer uses SASL; one written in the content stays,
		// for validation to refuse.
		if c := KafkaLogContent(p); c != nil && KafkaSecurityProtocol(c.GetSaslConfig()) == KafkaPlaintext {
			p.PluginSecret = ""
		}
		return
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return
	}
	p.PluginContent = strings.TrimSuffix(b.String(), "\n")
}
