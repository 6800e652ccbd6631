package admin

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Create stores a new resource.
func (s *Server) Create(ctx context.Context, req *adminv1.CreateRequest) (*adminv1.CreateResponse, error) {
	m, _ := model.Unwrap(req.GetResource())
	if m == nil {
		return nil, s.toStatus(ctx, "create", badRequest("resource is empty: set one of %s", strings.Join(model.KindNames(), ", ")))
	}
	m = proto.Clone(m)
	if err := checkTarget(req.GetInstance(), m); err != nil {
		return nil, s.toStatus(ctx, "create", err)
	}
	var out *apigwv1.Resource
	t, err := s.mutate(ctx, targetInstance(req.GetInstance(), m), false, func(t *tx) error {
		_, obj, err := t.upsert(proto.Clone(m), "", modeCreate)
		if err == nil {
			out = t.output(obj)
		}
		return err
	})
	if err != nil {
		return nil, s.toStatus(ctx, "create", err)
	}
	stampOutput(out, t.revision)
	return &adminv1.CreateResponse{Resource: out}, nil
}

// Update replaces a resource.
func (s *Server) Update(ctx context.Context, req *adminv1.UpdateRequest) (*adminv1.UpdateResponse, error) {
	m, k := model.Unwrap(req.GetResource())
	if m == nil {
		return nil, s.toStatus(ctx, "update", badRequest("resource is empty"))
	}
	if model.IDOf(m) == "" && k.NameField == "" {
		return nil, s.toStatus(ctx, "update", badRequest("%s: id is required", k.Name))
	}
	if err := checkTarget(req.GetInstance(), m); err != nil {
		return nil, s.toStatus(ctx, "update", err)
	}
	var out *apigwv1.Resource
	t, err := s.mutate(ctx, targetInstance(req.GetInstance(), m), false, func(t *tx) error {
		_, obj, err := t.upsert(proto.Clone(m), "", modeUpdate)
		if err == nil {
			out = t.output(obj)
		}
		return err
	})
	if err != nil {
		return nil, s.toStatus(ctx, "update", err)
	}
	stampOutput(out, t.revision)
	return &adminv1.UpdateResponse{Resource: out}, nil
}

// checkTarget checks the instance names of a create or update: the
// request's instance, or the name of an instance resource.
func checkTarget(instance string, m proto.Message) error {
	if in, ok := m.(*apigwv1.Instance); ok && in.Name != "" {
		return model.CheckInstanceName("name", in.Name).Err()
	}
	return model.CheckInstanceName("instance", instanceOf(instance)).Err()
}

// targetInstance is the instance a write goes to: an instance resource
// names itself.
func targetInstance(instance string, m proto.Message) string {
	if in, ok := m.(*apigwv1.Instance); ok && in.Name != "" {
		return in.Name
	}
	return instanceOf(instance)
}

// stampOutput sets resource_version on a written object in a response.
func stampOutput(r *apigwv1.Resource, rev int64) {
	if m, _ := model.Unwrap(r); m != nil && rev != 0 {
		model.MetaOf(m).ResourceVersion = strconv.FormatInt(rev, 10)
	}
}

// Get returns a resource by id or name, secrets redacted.
func (s *Server) Get(ctx context.Context, req *adminv1.GetRequest) (*adminv1.GetResponse, error) {
	k, err := publicKind(req.GetKind())
	if err != nil {
		return nil, s.toStatus(ctx, "get", err)
	}
	inst, field := instanceOf(req.GetInstance()), "instance"
	if k.Name == model.KindInstance {
		inst, field = req.GetId(), "id"
	}
	base, err := s.load(ctx, field, inst)
	if err != nil {
		return nil, s.toStatus(ctx, "get", err)
	}
	t := newTx(s, base)
	m, err := t.find(k.Name, req.GetId())
	if err != nil {
		return nil, s.toStatus(ctx, "get", err)
	}
	s.storeHeader(ctx, base.Revision)
	return &adminv1.GetResponse{Resource: t.output(m)}, nil
}

// List returns resources of a kind, filtered and paginated by id.
func (s *Server) List(ctx context.Context, req *adminv1.ListRequest) (*adminv1.ListResponse, error) {
	k, err := publicKind(req.GetKind())
	if err != nil {
		return nil, s.toStatus(ctx, "list", err)
	}
	size := int(req.GetPageSize())
	switch {
	case size <= 0:
		size = 100
	case size > 1000:
		size = 1000
	}
	if k.Name == model.KindInstance {
		return s.listInstances(ctx, req, size)
	}
	base, err := s.load(ctx, "instance", instanceOf(req.GetInstance()))
	if err != nil {
		return nil, s.toStatus(ctx, "list", err)
	}
	t := newTx(s, base)
	f, err := t.filter(req)
	if err != nil {
		return nil, s.toStatus(ctx, "list", err)
	}
	var matched []proto.Message
	for _, m := range t.objects(k.Name) {
		if f(m) {
			matched = append(matched, m)
		}
	}
	s.storeHeader(ctx, base.Revision)
	return page(t, matched, req.GetPageToken(), size), nil
}

func page(t *tx, matched []proto.Message, token string, size int) *adminv1.ListResponse {
	sort.Slice(matched, func(i, j int) bool { return model.IDOf(matched[i]) < model.IDOf(matched[j]) })
	resp := &adminv1.ListResponse{Total: int32(len(matched))}
	last := ""
	for _, m := range matched {
		if token != "" && model.IDOf(m) <= token {
			continue
		}
		if len(resp.Resources) == size {
			resp.NextPageToken = last
			break
		}
		resp.Resources = append(resp.Resources, t.output(m))
		last = model.IDOf(m)
	}
	return resp
}

func (s *Server) listInstances(ctx context.Context, req *adminv1.ListRequest, size int) (*adminv1.ListResponse, error) {
	insts, err := s.store.Instances(ctx)
	if err != nil {
		return nil, s.toStatus(ctx, "list", err)
	}
	var matched []proto.Message
	for _, in := range insts {
		if req.GetName() == "" || strings.Contains(in.Name, req.GetName()) {
			matched = append(matched, in)
		}
	}
	return page(&tx{reveal: map[string]bool{}}, matched, req.GetPageToken(), size), nil
}

func publicKind(name string) (*model.Kind, error) {
	k := model.KindByName(name)
	if k == nil || k.Internal {
		return nil, badRequest("unknown kind %s; one of %s", model.Excerpt(name), strings.Join(model.KindNames(), ", "))
	}
	return k, nil
}

// filter builds the List predicate.
func (t *tx) filter(req *adminv1.ListRequest) (func(proto.Message) bool, error) {
	resolveRef := func(kind, v string) (string, error) {
		if v == "" {
			return "", nil
		}
		m, err := t.find(kind, v)
		if err != nil {
			return "", err
		}
		return model.IDOf(m), nil
	}
	group, err := resolveRef(model.KindGroup, req.GetGroupId())
	if err != nil {
		return nil, err
	}
	api, err := resolveRef(model.KindAPI, req.GetApiId())
	if err != nil {
		return nil, err
	}
	env, err := resolveRef(model.KindEnvironment, req.GetEnvId())
	if err != nil {
		return nil, err
	}
	return func(m proto.Message) bool {
		if req.GetName() != "" && !strings.Contains(model.NameOf(m), req.GetName()) {
			return false
		}
		r := m.ProtoReflect()
		field := func(name string) (string, bool) {
			fd := r.Descriptor().Fields().ByName(protoName(name))
			if fd == nil {
				return "", false
			}
			return r.Get(fd).String(), true
		}
		for _, c := range []struct{ field, want string }{{"group_id", group}, {"api_id", api}, {"env_id", env}} {
			if c.want == "" {
				continue
			}
			if v, ok := field(c.field); !ok || v != c.want {
				return false
			}
		}
		if tag := req.GetTag(); tag != "" {
			a, ok := m.(*apigwv1.Api)
			if !ok || !contains(a.Tags, tag) {
				return false
			}
		}
		return true
	}, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Delete removes a resource nothing references. Deleting an API also
// removes its publication records, releases and bindings; deleting a group
// its environment variables and response sets; deleting an environment its
// variables.
func (s *Server) Delete(ctx context.Context, req *adminv1.DeleteRequest) (*adminv1.DeleteResponse, error) {
	k, err := publicKind(req.GetKind())
	if err != nil {
		return nil, s.toStatus(ctx, "delete", err)
	}
	inst := instanceOf(req.GetInstance())
	if k.Name == model.KindInstance {
		inst = req.GetId()
		if err := model.CheckInstanceName("id", inst).Err(); err != nil {
			return nil, s.toStatus(ctx, "delete", err)
		}
	}
	_, err = s.mutate(ctx, inst, false, func(t *tx) error {
		m, err := t.find(k.Name, req.GetId())
		if err != nil {
			return err
		}
		if rv := req.GetResourceVersion(); rv != "" && rv != model.MetaOf(m).GetResourceVersion() {
			return fmt.Errorf("%s %s has resource_version %s, not %s: %w", k.Name, model.IDOf(m), model.MetaOf(m).GetResourceVersion(), rv, model.ErrConflict)
		}
		return t.delete(k.Name, model.IDOf(m))
	})
	if err != nil {
		return nil, s.toStatus(ctx, "delete", err)
	}
	return &adminv1.DeleteResponse{}, nil
}

// delete stages the deletion of an object and of what it owns.
func (t *tx) delete(kind, id string) error {
	switch {
	case kind == model.KindEnvironment && id == model.ReleaseEnvID:
		return fmt.Errorf("the built-in environment RELEASE %w", model.ErrImmutable)
	case kind == model.KindGroup && model.IsDefaultGroup(t.view().Group(id)):
		return fmt.Errorf("the DEFAULT group %w: every instance has one", model.ErrImmutable)
	case kind == model.KindInstance && id == model.DefaultInstance:
		return fmt.Errorf("instance default %w: it always exists", model.ErrImmutable)
	case kind == model.KindInstance:
		// A written DEFAULT group goes with its instance.
		dflt := ""
		if ids := t.view().Named(model.KindGroup, model.DefaultGroupName); len(ids) == 1 && t.view().Stored(model.KindGroup, ids[0]) {
			dflt = ids[0]
		}
		for _, k := range model.Kinds() {
			n := t.view().StoredCount(k.Name)
			if k.Name == model.KindGroup && dflt != "" {
				n--
			}
			if k.Name != model.KindInstance && n > 0 {
				return fmt.Errorf("instance %s still holds %s objects; delete them first: %w", id, k.Name, model.ErrInUse)
			}
		}
		if dflt != "" {
			t.remove(model.KindGroup, dflt)
		}
	}
	// What the object owns references it: its referrers of the owned kinds.
	var owned []string
	switch kind {
	case model.KindAPI:
		owned = []string{model.KindPublication, model.KindRelease, model.KindThrottleBinding, model.KindACLBinding, model.KindAppAuth, model.KindSignBinding, model.KindPluginBinding}
	case model.KindGroup:
		owned = []string{model.KindEnvVariable, model.KindResponse}
	case model.KindEnvironment:
		owned = []string{model.KindEnvVariable}
	}
	field := map[string]string{model.KindAPI: "api_id", model.KindGroup: "group_id", model.KindEnvironment: "env_id"}[kind]
	for _, k := range owned {
		for _, oid := range t.view().ReferrerIDs(kind, id, k) {
			if m := t.get(k, oid); m != nil {
				if v, _ := fieldString(m, field); v == id {
					t.remove(k, oid)
				}
			}
		}
	}
	t.remove(kind, id)
	return nil
}

func fieldString(m proto.Message, name string) (string, bool) {
	r := m.ProtoReflect()
	fd := r.Descriptor().Fields().ByName(protoName(name))
	if fd == nil {
		return "", false
	}
	return r.Get(fd).String(), true
}

func protoName(s string) protoreflect.Name { return protoreflect.Name(s) }
