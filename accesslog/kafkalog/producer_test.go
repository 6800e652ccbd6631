package kafkalog_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	datav3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	alsv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/apigw/apigw/accesslog"
	"github.com/apigw/apigw/accesslog/kafkalog"
	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

const topic = "apig.logs"

// entry is an entry as Envoy's http_grpc logger writes it for a request
// on an apigw route, with the headers the translator tells it to log.
func entry(api, env, reqID string) *datav3.HTTPAccessLogEntry {
	start := time.Date(2026, 5, 1, 10, 0, 0, 123e6, time.UTC)
	authz, _ := structpb.NewStruct(map[string]any{dataplane.ExtAuthzMetaAppID: "app-1", dataplane.ExtAuthzMetaAccountName: "alice",
		dataplane.ExtAuthzMetaFrontendContext: map[string]any{"user_name": "alice", "tier": "gold"},
		dataplane.ExtAuthzMetaBackendContext:  map[string]any{"userAge": "42"}})
	return &datav3.HTTPAccessLogEntry{
		CommonProperties: &datav3.AccessLogCommon{
			StartTime: timestamppb.New(start), Duration: durationpb.New(42 * time.Millisecond),
			TimeToFirstUpstreamTxByte: durationpb.New(2 * time.Millisecond), TimeToFirstUpstreamRxByte: durationpb.New(30 * time.Millisecond),
			TimeToLastUpstreamRxByte: durationpb.New(40 * time.Millisecond),
			AccessLogType:            datav3.AccessLogType_DownstreamEnd,
			DownstreamRemoteAddress:  &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{Address: "192.0.2.7", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 40000}}}},
			UpstreamRemoteAddress:    &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{Address: "10.0.0.9", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 8080}}}},
			CustomTags: map[string]string{dataplane.AccessLogTagInstance: "default", dataplane.AccessLogTagGroup: "g1", dataplane.AccessLogTagAPI: api,
				dataplane.AccessLogTagAPIName: "name-" + api, dataplane.AccessLogTagEnv: env},
			Metadata: &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{dataplane.ExtAuthzMetadataNamespace: authz}},
		},
		ProtocolVersion: datav3.HTTPAccessLogEntry_HTTP11,
		Request: &datav3.HTTPRequestProperties{RequestMethod: corev3.RequestMethod_GET, Scheme: "https", Authority: "shop.example.com",
			Path: "/items?limit=5&token=s3cret&tag=a%20b", RequestId: reqID, UserAgent: "curl/8", ForwardedFor: "192.0.2.7",
			RequestHeadersBytes: 100, RequestBodyBytes: 0,
			RequestHeaders: map[string]string{"x-tenant": "acme", "user-agent": "curl/8"}},
		Response: &datav3.HTTPResponseProperties{ResponseCode: wrapperspb.UInt32(200), ResponseHeadersBytes: 50, ResponseBodyBytes: 7,
			ResponseCodeDetails: "via_upstream", ResponseHeaders: map[string]string{"x-trace-id": "t-1"}},
	}
}

// world is an instance with kafka_log plug-ins bound to API items in
// RELEASE.
func world(plugins ...*apigwv1.Plugin) *live.Snapshot {
	objs := []proto.Message{&apigwv1.Api{Id: "items", Name: "name-items", GroupId: "g1", AuthType: "APP", MatchMode: "SWA"},
		&apigwv1.App{Id: "app-1", Name: "shop_app"}}
	for i, p := range plugins {
		objs = append(objs, p, &apigwv1.PluginBinding{Id: fmt.Sprintf("b%d", i), ApiId: "items", EnvId: "RELEASE", PluginId: p.Id})
	}
	return live.NewSnapshot(1, map[string]*model.Instance{"default": model.NewInstance("default", objs)}, nil)
}

func kafkaPlugin(id string, content map[string]any) *apigwv1.Plugin {
	js, err := json.Marshal(content)
	if err != nil {
		panic(err)
	}
	p := &apigwv1.Plugin{Id: id, PluginName: "kafka_" + id, PluginType: model.PluginKafkaLog, PluginScope: model.PluginScopeGlobal, PluginContent: string(js)}
	model.Normalize(p) // as the admin API stores it: the SASL password in plugin_secret
	return p
}

// alsStream serves an access-log service feeding the sinks and returns a
// function that streams entries to it as one Envoy logger.
func alsStream(t *testing.T, sinks ...accesslog.Sink) func(entries ...*datav3.HTTPAccessLogEntry) {
	t.Helper()
	srv, err := accesslog.New(nil, slog.New(slog.DiscardHandler), prometheus.NewRegistry(), sinks...)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	srv.Register(gs)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return func(entries ...*datav3.HTTPAccessLogEntry) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		st, err := alsv3.NewAccessLogServiceClient(conn).StreamAccessLogs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Send(&alsv3.StreamAccessLogsMessage{
			Identifier: &alsv3.StreamAccessLogsMessage_Identifier{Node: &corev3.Node{Cluster: "default"}, LogName: dataplane.AccessLogName},
			LogEntries: &alsv3.StreamAccessLogsMessage_HttpLogs{HttpLogs: &alsv3.StreamAccessLogsMessage_HTTPAccessLogEntries{LogEntry: entries}},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CloseAndRecv(); err != nil {
			t.Fatal(err)
		}
	}
}

func newProducer(t testing.TB, reg prometheus.Registerer, buffer int) *kafkalog.Producer {
	t.Helper()
	p, err := kafkalog.New(slog.New(slog.DiscardHandler), kafkalog.Options{Registerer: reg, BufferRecords: buffer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// consume reads n records of the topic (and fails after 15 s).
func consume(t *testing.T, n int, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(append(opts, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records before the deadline", len(out), n)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Logf("fetch: %v", err) })
		out = append(out, fs.Records()...)
	}
	return out
}

func decode(t *testing.T, r *kgo.Record) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Value, &m); err != nil {
		t.Fatalf("record %q: %v", r.Value, err)
	}
	return m
}

// Records of a bound API reach the topic with the selected fields only;
// other APIs and environments write none.
func TestRecordsCarryTheSelectedFields(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topic))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	reg := prometheus.NewRegistry()
	p := newProducer(t, reg, 0)
	p.Update(world(kafkaPlugin("k1", map[string]any{
		"broker_list": c.ListenAddrs(), "topic": topic, "key": "shop",
		"meta_config": map[string]any{
			"system": map[string]any{"start_time": true, "request_id": true, "client_ip": true, "api_id": true, "api_name": true, "env_id": true,
				"app_id": true, "user_name": true, "request_time": true, "http_status": true, "server_protocol": true, "request_method": true,
				"host": true, "uri": true, "request_size": true, "response_size": true, "upstream_addr": true, "upstream_header_time": true,
				"upstream_response_time": true, "response_source": true, "scheme": false, "auth_type": true, "api_uri_mode": true, "app_name": true},
			"call_data": map[string]any{"log_request_header": true, "request_header_filter": "X-Tenant,X-Absent",
				"log_request_query_string": true, "request_query_string_filter": "limit,tag",
				"log_response_header": true, "response_header_filter": "X-Trace-Id",
				"custom_authorizer": map[string]any{"frontend": []string{"user_name", "absent"}, "backend": []string{"userAge"}}},
		},
	})))
	send := alsStream(t, p)
	send(entry("orders", "RELEASE", "r0"), entry("items", "RELEASE", "r1"), entry("items", "TEST", "r2"), entry("items", "RELEASE", "r3"))
	recs := consume(t, 2, kgo.SeedBrokers(c.ListenAddrs()...))
	if len(recs) != 2 {
		t.Fatalf("want 2 records (the bound API and environment), got %d", len(recs))
	}
	first := decode(t, recs[0])
	if first["request_id"] != "r1" || decode(t, recs[1])["request_id"] != "r3" {
		t.Fatalf("records %s, %s: want r1 then r3", recs[0].Value, recs[1].Value)
	}
	if string(recs[0].Key) != "shop" {
		t.Errorf("key %q, want shop", recs[0].Key)
	}
	want := map[string]any{
		"start_time": "2026-05-01T10:00:00.123Z", "request_id": "r1", "client_ip": "192.0.2.7", "api_id": "items", "api_name": "name-items",
		"env_id": "RELEASE", "app_id": "app-1", "user_name": "alice", "request_time": 42.0, "http_status": 200.0, "server_protocol": "HTTP/1.1",
		"request_method": "GET", "host": "shop.example.com", "uri": "/items?limit=5&token=s3cret&tag=a%20b", "request_size": 100.0,
		"response_size": 57.0, "upstream_addr": "10.0.0.9:8080", "upstream_header_time": 28.0, "upstream_response_time": 38.0,
		"response_source": "via_upstream", "auth_type": "APP", "api_uri_mode": "SWA", "app_name": "shop_app",
		"request_header":       map[string]any{"x-tenant": "acme"},
		"request_query_string": map[string]any{"limit": "5", "tag": "a b"},
		"response_header":      map[string]any{"x-trace-id": "t-1"},
		"custom_authorizer":    map[string]any{"frontend": map[string]any{"user_name": "alice"}, "backend": map[string]any{"userAge": "42"}},
	}
	for k, v := range want {
		if fmt.Sprint(first[k]) != fmt.Sprint(v) {
			t.Errorf("%s = %v, want %v", k, first[k], v)
		}
	}
	for k := range first {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected field %s = %v", k, first[k])
		}
	}
	waitFor(t, func() bool { return testutil.ToFloat64(counter(t, reg, "sent")) == 2 })
}

// Without meta_config.system, the default fields are written.
func TestDefaultFields(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topic))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p := newProducer(t, nil, 0)
	p.Update(world(kafkaPlugin("k1", map[string]any{"broker_list": c.ListenAddrs(), "topic": topic})))
	alsStream(t, p)(entry("items", "RELEASE", "r1"))
	got := decode(t, consume(t, 1, kgo.SeedBrokers(c.ListenAddrs()...))[0])
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	want := model.KafkaSystemFieldNames(nil)
	if len(keys) != len(want) {
		t.Fatalf("fields %v, want %v", keys, want)
	}
	for _, k := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("default field %s missing from %v", k, got)
		}
	}
}

// Every system field the model accepts has a writer: none is accepted and
// left out.
func TestEverySupportedFieldIsWritten(t *testing.T) {
	sys := map[string]any{}
	for _, f := range model.KafkaSupportedFields() {
		sys[f] = true
	}
	pl := kafkaPlugin("k1", map[string]any{"broker_list": []string{"127.0.0.1:1"}, "topic": topic, "meta_config": map[string]any{"system": sys}})
	if vs := model.Validate(pl, model.AbsoluteLimits()); len(vs) > 0 {
		t.Fatalf("every supported field: %v", vs)
	}
	var got []map[string]any
	sink := kafkalog.RenderFunc(pl, func(b []byte) {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		got = append(got, m)
	})
	r := accesslog.Decode(&corev3.Node{Cluster: "default"}, entry("items", "RELEASE", "r1"))
	sink(&r)
	for _, f := range model.KafkaSupportedFields() {
		if _, ok := got[0][f]; !ok {
			t.Errorf("supported field %s is not written", f)
		}
	}
}

func counter(t testing.TB, reg *prometheus.Registry, result string) prometheus.Collector {
	t.Helper()
	return collectorFunc(func() float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "apigw_kafka_log_records_total" {
				continue
			}
			sum := 0.0
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "result" && l.GetValue() == result {
						sum += m.GetCounter().GetValue()
					}
				}
			}
			return sum
		}
		return 0
	})
}

// collectorFunc exposes a value as a gauge for testutil.ToFloat64.
func collectorFunc(f func() float64) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "probe", Help: "probe"}, f)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 15 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// SASL PLAIN and SCRAM, over plaintext and TLS with the plug-in's CA; a
// wrong password writes nothing and counts the records as failed.
func TestSASLAndTLS(t *testing.T) {
	certPEM, tlsCfg := selfSigned(t)
	for _, tc := range []struct {
		name, proto, mech string
		tls               bool
	}{
		{"plain", "SASL_PLAINTEXT", "PLAIN", false},
		{"scram-256", "SASL_PLAINTEXT", "SCRAM-SHA-256", false},
		{"scram-512 over TLS", "SASL_SSL", "SCRAM-SHA-512", true},
		{"plain over TLS", "SASL_SSL", "PLAIN", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(1, topic), kfake.EnableSASL(),
				kfake.Superuser(tc.mech, "apig", "s3cret-pw"), kfake.Superuser("PLAIN", "reader", "reader-pw")}
			if tc.tls {
				opts = append(opts, kfake.TLS(tlsCfg))
			}
			c, err := kfake.NewCluster(opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			sasl := map[string]any{"security_protocol": tc.proto, "sasl_mechanisms": tc.mech, "sasl_username": "apig", "sasl_password": "s3cret-pw"}
			bad := map[string]any{"security_protocol": tc.proto, "sasl_mechanisms": tc.mech, "sasl_username": "apig", "sasl_password": "wrong"}
			if tc.tls {
				sasl["ssl_ca_content"], bad["ssl_ca_content"] = certPEM, certPEM
			}
			good := kafkaPlugin("good", map[string]any{"broker_list": c.ListenAddrs(), "topic": topic, "sasl_config": sasl,
				"meta_config": map[string]any{"system": map[string]any{"request_id": true}}})
			wrong := kafkaPlugin("wrong", map[string]any{"broker_list": c.ListenAddrs(), "topic": topic, "sasl_config": bad, "max_retry_count": 0,
				"meta_config": map[string]any{"system": map[string]any{"request_id": true, "api_id": true}}})
			for _, pl := range []*apigwv1.Plugin{good, wrong} {
				if vs := model.Validate(pl, model.AbsoluteLimits()); len(vs) > 0 {
					t.Fatalf("%s: %v", pl.Id, vs)
				}
				if strings.Contains(pl.PluginContent, "s3cret") || pl.PluginSecret == "" {
					t.Fatalf("%s: the password is not kept apart: %s", pl.Id, pl.PluginContent)
				}
			}
			reg := prometheus.NewRegistry()
			p := newProducer(t, reg, 0)
			p.Update(world(good, wrong))
			alsStream(t, p)(entry("items", "RELEASE", "r1"))
			copts := []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...), kgo.SASL(plain.Auth{User: "reader", Pass: "reader-pw"}.AsMechanism())}
			if tc.tls {
				pool := x509.NewCertPool()
				pool.AppendCertsFromPEM([]byte(certPEM))
				copts = append(copts, kgo.DialTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
			}
			recs := consume(t, 1, copts...)
			if got := string(recs[0].Value); got != `{"request_id":"r1"}` {
				t.Fatalf("record %s", got)
			}
			waitFor(t, func() bool { return testutil.ToFloat64(counter(t, reg, "failed")) == 1 })
		})
	}
}

// Kafka unreachable: the access-log stream does not wait; records beyond
// the buffer are dropped and counted.
func TestKafkaDownDropsWithoutBlocking(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := lis.Addr().String()
	lis.Close()
	reg := prometheus.NewRegistry()
	p := newProducer(t, reg, 50)
	p.Update(world(kafkaPlugin("k1", map[string]any{"broker_list": []string{dead}, "topic": topic, "max_retry_count": 5, "retry_backoff": 10})))
	r := accesslog.Decode(&corev3.Node{Cluster: "default"}, entry("items", "RELEASE", "r1"))
	const n = 20000
	start := time.Now()
	for range n {
		p.Add(&r)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("%d records took %v with Kafka down", n, took)
	}
	if d := testutil.ToFloat64(counter(t, reg, "dropped")); d < n-50 {
		t.Fatalf("dropped %v of %d records, want at least %d", d, n, n-50)
	}
	// The stream itself is served as fast as ever.
	send := alsStream(t, p)
	start = time.Now()
	for range 20 {
		send(entry("items", "RELEASE", "r2"))
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("20 streams took %v with Kafka down", took)
	}
}

// Unbinding stops the records; a changed content replaces the client.
func TestUpdateFollowsBindings(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topic))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	reg := prometheus.NewRegistry()
	p := newProducer(t, reg, 0)
	send := alsStream(t, p)
	sys := map[string]any{"system": map[string]any{"request_id": true}}
	p.Update(world(kafkaPlugin("k1", map[string]any{"broker_list": c.ListenAddrs(), "topic": topic, "meta_config": sys})))
	send(entry("items", "RELEASE", "r1"))
	consume(t, 1, kgo.SeedBrokers(c.ListenAddrs()...))
	p.Update(world()) // unbound (and deleted)
	send(entry("items", "RELEASE", "r2"))
	p.Update(world(kafkaPlugin("k1", map[string]any{"broker_list": c.ListenAddrs(), "topic": topic, "key": "k",
		"meta_config": map[string]any{"system": map[string]any{"request_id": true, "api_id": true}}})))
	send(entry("items", "RELEASE", "r3"))
	recs := consume(t, 2, kgo.SeedBrokers(c.ListenAddrs()...))
	if len(recs) != 2 || string(recs[1].Value) != `{"request_id":"r3","api_id":"items"}` || string(recs[1].Key) != "k" {
		var vals []string
		for _, r := range recs {
			vals = append(vals, string(r.Value))
		}
		t.Fatalf("records after unbinding and rebinding: %s", strings.Join(vals, " "))
	}
	// A changed content keeps the plug-in's series: the old client's
	// retirement does not delete them.
	sent := counter(t, reg, "sent")
	waitFor(t, func() bool { return testutil.ToFloat64(sent) >= 1 })
	time.Sleep(300 * time.Millisecond) // the unbound plug-in's client is closed by now
	base := testutil.ToFloat64(sent)
	p.Update(world(kafkaPlugin("k1", map[string]any{"broker_list": c.ListenAddrs(), "topic": topic, "key": "k2", "meta_config": sys})))
	send(entry("items", "RELEASE", "r4"))
	consume(t, 3, kgo.SeedBrokers(c.ListenAddrs()...))
	waitFor(t, func() bool { return testutil.ToFloat64(sent) == base+1 })
	time.Sleep(300 * time.Millisecond) // the replaced client is closed by now
	if v := testutil.ToFloat64(sent); v != base+1 {
		t.Fatalf("sent = %v after the content changed, want %v", v, base+1)
	}
}

// selfSigned returns a certificate for 127.0.0.1 (PEM) and a server TLS
// config with it.
func selfSigned(t *testing.T) (string, *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kafka-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		t.Fatal(err)
	}
	return string(certPEM), &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
}
