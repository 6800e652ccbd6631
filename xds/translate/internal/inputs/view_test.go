package inputs

import (
	"reflect"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

func testInstance(groupName string) *model.Instance {
	api := &apigwv1.Api{Id: "a1", GroupId: "g1"}
	return model.NewInstance("default", []proto.Message{
		&apigwv1.ApiGroup{Id: "g1", Name: groupName, UrlDomains: []*apigwv1.UrlDomain{{Domain: "a.example.com"}}},
		api,
		&apigwv1.Publication{Id: "p1", ApiId: "a1", EnvId: model.ReleaseEnvID, Api: api},
		&apigwv1.Release{ApiId: "a1", EnvId: model.ReleaseEnvID, PublicationId: "p1"},
		&apigwv1.GatewayResponse{Id: "r1", GroupId: "g1", Name: model.DefaultResponse},
	})
}

// Every exported method of View is a recorded lookup: calling it adds one
// read to the Record, the Record holds for the Snapshot it was made on, and
// the View gives no way back to the model.Instance.
func TestEveryViewMethodRecords(t *testing.T) {
	s := Open(testInstance("g"), nil)
	instance := reflect.TypeFor[*model.Instance]()
	vt := reflect.TypeFor[*View]()
	for i := range vt.NumMethod() {
		m := vt.Method(i)
		for j := range m.Type.NumOut() {
			if m.Type.Out(j) == instance {
				t.Errorf("View.%s returns the model.Instance", m.Name)
			}
		}
		if m.Name == "Record" {
			continue
		}
		v := s.Track()
		args := []reflect.Value{reflect.ValueOf(v)}
		for j := 1; j < m.Type.NumIn(); j++ {
			if m.Type.In(j).Kind() != reflect.String {
				t.Fatalf("View.%s takes a %s; extend this test", m.Name, m.Type.In(j))
			}
			args = append(args, reflect.ValueOf([]string{"a1", model.ReleaseEnvID}[(j-1)%2]))
		}
		m.Func.Call(args)
		if n := v.Record().Len(); n != 1 {
			t.Errorf("View.%s recorded %d reads, want 1", m.Name, n)
		}
		if !v.Record().Holds(s) {
			t.Errorf("the Record of View.%s does not hold for its own Snapshot", m.Name)
		}
	}
	st := reflect.TypeFor[*Snapshot]()
	for i := range st.NumMethod() {
		if m := st.Method(i); m.Name != "Track" && m.Name != "Holds" && m.Name != "Seq" {
			t.Errorf("Snapshot.%s: a Snapshot is read through Views only", m.Name)
		}
	}
}

// A Record holds while the lookups give the same objects and stops holding
// when one of them changes.
func TestRecordHolds(t *testing.T) {
	in := testInstance("g")
	s := Open(in, nil)
	v := s.Track()
	if len(v.ServedAll()) != 1 || v.Env(model.ReleaseEnvID) == nil || len(v.Hosts("g1")) != 2 ||
		v.ResponseSet("g1", "") == nil || v.Config() == nil {
		t.Fatal("lookups of the test instance failed")
	}
	rec := v.Record()

	// The store rebuilds the view: new configuration and RELEASE
	// environment with equal values, everything else the same objects.
	var objs []proto.Message
	for _, k := range model.Kinds() {
		for _, o := range in.Objects(k.Name) {
			if o != in.Env(model.ReleaseEnvID) {
				objs = append(objs, o)
			}
		}
	}
	same := Open(model.NewInstance("default", objs), s)
	if !rec.Holds(same) {
		t.Error("the Record does not hold for an equal rebuilt instance")
	}
	if rec.Holds(Open(model.NewInstance("default", objs), nil)) {
		t.Error("without the previous Snapshot the rebuilt built-in objects are new; the Record must not hold")
	}

	// A group edit that changes its hosts.
	g := proto.Clone(in.Group("g1")).(*apigwv1.ApiGroup)
	g.UrlDomains = append(g.UrlDomains, &apigwv1.UrlDomain{Domain: "b.example.com"})
	if rec.Holds(Open(in.With([]proto.Message{g}, nil), s)) {
		t.Error("the Record holds although the group's hosts changed")
	}
	// A group edit that does not: nothing recorded depends on it.
	g = proto.Clone(in.Group("g1")).(*apigwv1.ApiGroup)
	g.Remark = "new remark"
	if !rec.Holds(Open(in.With([]proto.Message{g}, nil), s)) {
		t.Error("the Record does not hold although no recorded lookup changed")
	}
}
