package translate_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/xds/translate"
)

// A kafka_log plug-in's header filters reach the gRPC access logger of
// every HCM through the incremental builder: the listeners are rebuilt
// when the headers change, and reused when a change leaves them alone.
func TestKafkaLogHeadersRebuildListeners(t *testing.T) {
	in := instance(t, 2, 2)
	b := translate.NewBuilder(translate.Options{})
	first, err := b.Build(in)
	if err != nil {
		t.Fatal(err)
	}
	kafka := &apigwv1.Plugin{Id: "k1", PluginName: "kafka_calls", PluginType: model.PluginKafkaLog, PluginScope: model.PluginScopeGlobal,
		PluginContent: `{"broker_list":["10.0.0.5:9092"],"topic":"t","meta_config":{"call_data":{"log_request_header":true,"request_header_filter":"X-Tenant"}}}`}
	with := in.With([]proto.Message{kafka}, nil)
	got, err := b.Build(with)
	if err != nil {
		t.Fatal(err)
	}
	want, err := translate.Build(with, translate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	equalResources(t, got, want)
	if first.Listeners[0] == got.Listeners[0] || proto.Equal(first.Listeners[0], got.Listeners[0]) {
		t.Fatal("a kafka_log header filter did not change the listeners")
	}
	if !strings.Contains(prototext.Format(got.Listeners[0]), "x-tenant") {
		t.Fatal("the access logger does not log x-tenant")
	}
	// Another topic: same headers, the listeners are reused.
	moved := proto.Clone(kafka).(*apigwv1.Plugin)
	moved.PluginContent = strings.Replace(moved.PluginContent, `"topic":"t"`, `"topic":"u"`, 1)
	again, err := b.Build(with.With([]proto.Message{moved}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if again.Listeners[0] != got.Listeners[0] {
		t.Error("listeners rebuilt although the logged headers did not change")
	}
}
