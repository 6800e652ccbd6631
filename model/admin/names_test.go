package admin_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Instance names become part of etcd keys: a name that is not one is
// refused with its field path, by every RPC, and nothing is written.
func TestInstanceNamesAreValidatedWithTheFieldPath(t *testing.T) {
	e := setup(t)
	before := e.keys(t)
	for _, bad := range []string{"default/apis", strings.Repeat("a", 1<<20), "Default", "-x", "a\x00b"} {
		calls := map[string]func() error{
			"create": func() error {
				_, err := e.c.Create(e.ctx, &adminv1.CreateRequest{Instance: bad, Resource: model.Wrap(&apigwv1.ApiGroup{Name: "pets"})})
				return err
			},
			"apply": func() error {
				_, err := e.c.Apply(e.ctx, &adminv1.ApplyRequest{Instance: bad, Resources: []*apigwv1.Resource{model.Wrap(&apigwv1.Environment{Name: "TEST"})}})
				return err
			},
			"get": func() error {
				_, err := e.c.Get(e.ctx, &adminv1.GetRequest{Instance: bad, Kind: model.KindGroup, Id: "pets"})
				return err
			},
			"list": func() error {
				_, err := e.c.List(e.ctx, &adminv1.ListRequest{Instance: bad, Kind: model.KindGroup})
				return err
			},
			"publish": func() error {
				_, err := e.c.Publish(e.ctx, &adminv1.PublishRequest{Instance: bad, ApiId: "x"})
				return err
			},
			"status": func() error {
				_, err := e.c.GetStatus(e.ctx, &adminv1.GetStatusRequest{Instance: bad})
				return err
			},
			"delete": func() error {
				_, err := e.c.Delete(e.ctx, &adminv1.DeleteRequest{Instance: bad, Kind: model.KindGroup, Id: "pets"})
				return err
			},
		}
		for name, call := range calls {
			err := call()
			if code(err) != codes.InvalidArgument {
				t.Fatalf("%s with instance %.20q: %v, want InvalidArgument", name, bad, err)
			}
			vs := violations(t, err)
			if len(vs) != 1 || vs[0].Field != "instance" || !strings.Contains(vs[0].Description, "[a-z0-9-]") {
				t.Fatalf("%s with instance %.20q: violations %v", name, bad, vs)
			}
			if len(vs[0].Description) > 200 {
				t.Fatalf("%s: the description echoes the whole name (%d bytes)", name, len(vs[0].Description))
			}
		}
		// An instance resource names itself; as the id of Get and Delete.
		_, err := e.c.Create(e.ctx, &adminv1.CreateRequest{Resource: model.Wrap(&apigwv1.Instance{Name: bad})})
		if vs := violations(t, err); len(vs) != 1 || vs[0].Field != "name" {
			t.Fatalf("create instance %.20q: %v", bad, vs)
		}
		for _, kindCall := range []func() error{
			func() error {
				_, err := e.c.Get(e.ctx, &adminv1.GetRequest{Kind: model.KindInstance, Id: bad})
				return err
			},
			func() error {
				_, err := e.c.Delete(e.ctx, &adminv1.DeleteRequest{Kind: model.KindInstance, Id: bad})
				return err
			},
		} {
			if vs := violations(t, kindCall()); len(vs) != 1 || vs[0].Field != "id" {
				t.Fatalf("instance %.20q by id: %v", bad, vs)
			}
		}
	}
	if after := e.keys(t); len(after) != len(before) {
		t.Fatalf("keys written by refused requests: %v", after)
	}
}

// Ids given by clients are checked before they build a key.
func TestObjectIDsAreValidatedWithTheFieldPath(t *testing.T) {
	e := setup(t)
	for _, bad := range []string{"../groups/x", "a/b", strings.Repeat("g", 65), "é"} {
		_, err := e.c.Create(e.ctx, &adminv1.CreateRequest{Resource: model.Wrap(&apigwv1.ApiGroup{Id: bad, Name: "pets"})})
		vs := violations(t, err)
		if len(vs) != 1 || vs[0].Field != "id" {
			t.Fatalf("group id %q: %v", bad, vs)
		}
	}
	if keys := e.keys(t); len(keys) != 0 {
		t.Fatalf("keys written: %v", keys)
	}
}

// Lookups by a huge reference answer NOT_FOUND without echoing it whole.
func TestLookupErrorsQuoteAnExcerpt(t *testing.T) {
	e := setup(t)
	huge := strings.Repeat("n", 1<<20)
	_, err := e.c.Get(e.ctx, &adminv1.GetRequest{Kind: model.KindGroup, Id: huge})
	if code(err) != codes.NotFound || len(err.Error()) > 1000 {
		t.Fatalf("get by a 1 MB name: %d bytes, %.200v", len(err.Error()), err)
	}
	_, err = e.c.Publish(e.ctx, &adminv1.PublishRequest{ApiId: huge})
	if code(err) != codes.NotFound || len(err.Error()) > 1000 {
		t.Fatalf("publish by a 1 MB name: %d bytes", len(err.Error()))
	}
}
