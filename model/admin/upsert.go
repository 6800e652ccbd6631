package admin

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

type upsertMode int

const (
	modeCreate upsertMode = iota
	modeUpdate
	modeApply
)

// Actions reported by Apply.
const (
	actCreated   = "created"
	actUpdated   = "updated"
	actUnchanged = "unchanged"
	actDeleted   = "deleted"
)

// upsert stages m as a new object or as a new version of an existing one
// and returns the action and the object as it will be stored.
func (t *tx) upsert(m proto.Message, field string, mode upsertMode) (string, proto.Message, error) {
	k := model.KindOf(m)
	if k == nil || k.Internal {
		return "", nil, badRequest("%s: resource kind is missing or not writable", field)
	}
	rv := model.MetaOf(m).GetResourceVersion()
	r := m.ProtoReflect()
	r.Clear(r.Descriptor().Fields().ByName("meta"))
	model.ClearOutputOnly(m)
	t.resolve(m)
	if _, ok := m.(*apigwv1.Api); ok {
		t.resolve(m) // again: its response set is scoped by its group, resolved above
	}
	old, err := t.existing(m, mode)
	if err != nil {
		return "", nil, err
	}
	switch {
	case mode == modeCreate && old != nil:
		return "", nil, fmt.Errorf("%s %s (%s): %w", k.Name, model.IDOf(old), describe(old), model.ErrExists)
	case mode == modeUpdate && old == nil:
		return "", nil, fmt.Errorf("%s %q: %w", k.Name, model.IDOf(m), model.ErrNotFound)
	}
	if err := t.checkDefaultGroup(m, old); err != nil {
		return "", nil, err
	}
	if old != nil {
		if rv != "" && rv != model.MetaOf(old).GetResourceVersion() {
			return "", nil, fmt.Errorf("%s %s has resource_version %s, not %s: %w", k.Name, model.IDOf(old), model.MetaOf(old).GetResourceVersion(), rv, model.ErrConflict)
		}
		model.SetID(m, model.IDOf(old))
		if err := t.checkImmutable(m, old); err != nil {
			return "", nil, err
		}
		t.keepSecrets(m, old)
		keepNestedIDs(m, old)
	} else if model.IDOf(m) == "" {
		model.SetID(m, t.s.newID())
	}
	t.generate(m)
	t.revealNew(m, old)
	model.Normalize(m)
	t.derive(m)
	if old != nil && sameDefinition(m, old) {
		return actUnchanged, old, nil
	}
	t.stamp(m, old)
	t.stage(m, field)
	if old != nil {
		return actUpdated, m, nil
	}
	return actCreated, m, nil
}

func describe(m proto.Message) string {
	if n := model.NameOf(m); n != "" {
		return "name " + n
	}
	return "same key"
}

// existing finds the stored object m replaces: by id, or else (apply and
// update) by its natural key among the objects that can share it (those
// of the same name, or the bindings of the same API).
func (t *tx) existing(m proto.Message, mode upsertMode) (proto.Message, error) {
	k := model.KindOf(m)
	if id := model.IDOf(m); id != "" {
		return t.get(k.Name, id), nil
	}
	key := naturalKey(m)
	if key == "" {
		return nil, nil
	}
	var ids []string
	switch v := m.(type) {
	case *apigwv1.ThrottleBinding:
		ids = t.view().ReferrerIDs(model.KindAPI, v.ApiId, k.Name)
	case *apigwv1.AclBinding:
		ids = t.view().ReferrerIDs(model.KindAPI, v.ApiId, k.Name)
	case *apigwv1.AppAuth:
		ids = t.view().ReferrerIDs(model.KindAPI, v.ApiId, k.Name)
	case *apigwv1.SignatureBinding:
		ids = t.view().ReferrerIDs(model.KindAPI, v.ApiId, k.Name)
	case *apigwv1.PluginBinding:
		ids = t.view().ReferrerIDs(model.KindAPI, v.ApiId, k.Name)
	default:
		ids = t.view().Named(k.Name, model.NameOf(m))
	}
	for _, id := range ids {
		if o := t.get(k.Name, id); o != nil && naturalKey(o) == key {
			return o, nil
		}
	}
	return nil, nil
}

// naturalKey identifies objects given without an id (declarative apply).
func naturalKey(m proto.Message) string {
	switch v := m.(type) {
	case *apigwv1.Api:
		return v.GroupId + "/" + v.Name
	case *apigwv1.EnvVariable:
		return v.GroupId + "/" + v.EnvId + "/" + v.VariableName
	case *apigwv1.GatewayResponse:
		return v.GroupId + "/" + v.Name
	case *apigwv1.ThrottleBinding:
		return v.ApiId + "/" + v.EnvId
	case *apigwv1.AclBinding:
		return v.ApiId + "/" + v.EnvId + "/" + v.AclId
	case *apigwv1.AppAuth:
		return v.ApiId + "/" + v.EnvId + "/" + v.AppId
	case *apigwv1.SignatureBinding:
		return v.ApiId + "/" + v.EnvId + "/" + v.SignId
	case *apigwv1.PluginBinding:
		return v.ApiId + "/" + v.EnvId + "/" + v.PluginId
	}
	return model.NameOf(m)
}

func (t *tx) checkImmutable(m, old proto.Message) error {
	switch v := m.(type) {
	case *apigwv1.Authorizer:
		if o := old.(*apigwv1.Authorizer); v.Type != o.Type && v.Type != "" {
			return fmt.Errorf("authorizer type %s %w (it is %s)", v.Type, model.ErrImmutable, o.Type)
		}
	case *apigwv1.Plugin:
		if o := old.(*apigwv1.Plugin); v.PluginType != o.PluginType {
			return fmt.Errorf("plug-in type %s %w (it is %s)", v.PluginType, model.ErrImmutable, o.PluginType)
		}
	case *apigwv1.ApiGroup:
		if o := old.(*apigwv1.ApiGroup); model.IsDefaultGroup(o) && !model.IsDefaultGroup(v) {
			return fmt.Errorf("the DEFAULT group %w: it keeps the name DEFAULT (got name %q)", model.ErrImmutable, v.Name)
		}
	case *apigwv1.Environment:
		if v.Id == model.ReleaseEnvID {
			return fmt.Errorf("the built-in environment RELEASE %w", model.ErrImmutable)
		}
	}
	return nil
}

// keepSecrets copies stored secrets into fields the client left empty
// (secrets are write-only: reads return them blank).
func (t *tx) keepSecrets(m, old proto.Message) {
	if app, ok := m.(*apigwv1.App); ok {
		prev := map[string]string{}
		for _, c := range old.(*apigwv1.App).AppCodes {
			prev[c.Id] = c.AppCode
		}
		for _, c := range app.AppCodes {
			if c.AppCode == "" && c.Id != "" {
				c.AppCode = prev[c.Id]
			}
		}
		if app.AppSecret == "" {
			app.AppSecret = old.(*apigwv1.App).AppSecret
		}
		if app.AppKey == "" { // generated on creation; keep it
			app.AppKey = old.(*apigwv1.App).AppKey
		}
		return
	}
	olds := map[string]string{}
	for _, s := range model.Secrets(old) {
		olds[s.Path] = s.Get()
	}
	for _, s := range model.Secrets(m) {
		if s.Get() == "" {
			s.Set(olds[s.Path])
		}
	}
}

// generate fills generated values: app keys, secrets and AppCodes, and
// nested ids.
func (t *tx) generate(m proto.Message) {
	switch v := m.(type) {
	case *apigwv1.App:
		if v.AppKey == "" {
			v.AppKey = t.s.newID()
		}
		if v.AppSecret == "" {
			v.AppSecret = t.s.secret(32)
		}
		for _, c := range v.AppCodes {
			if c.Id == "" {
				c.Id = t.s.newID()
			}
			if c.AppCode == "" {
				c.AppCode = t.s.secret(64)
			}
			if c.CreateTime == nil {
				c.CreateTime = timestamppb.New(t.s.now())
			}
		}
	case *apigwv1.ApiGroup:
		for _, d := range v.UrlDomains {
			if d.Id == "" {
				d.Id = t.s.newID()
			}
			d.Domain = strings.ToLower(d.Domain)
		}
	case *apigwv1.Throttle:
		for _, sp := range v.Specials {
			if sp.Id == "" {
				sp.Id = t.s.newID()
			}
		}
	}
}

// derive sets output-only fields computed from the definition.
func (t *tx) derive(m proto.Message) {
	switch v := m.(type) {
	case *apigwv1.ApiGroup:
		v.SlDomain = model.DebugDomain(v.Id, t.view().Config)
		v.SlDomains = []string{v.SlDomain}
	case *apigwv1.Certificate:
		model.FillCertificateInfo(v)
	}
}

// sameDefinition compares two objects ignoring their Meta.
func sameDefinition(a, b proto.Message) bool {
	a, b = proto.Clone(a), proto.Clone(b)
	for _, m := range []proto.Message{a, b} {
		r := m.ProtoReflect()
		r.Clear(r.Descriptor().Fields().ByName("meta"))
	}
	return proto.Equal(a, b)
}

// revealNew marks the secrets this call creates (all of a new object, the
// changed ones of an update) as returnable in the response.
func (t *tx) revealNew(m, old proto.Message) {
	prev := map[string]bool{}
	if old != nil {
		for _, s := range model.Secrets(old) {
			prev[s.Get()] = true
		}
	}
	for _, s := range model.Secrets(m) {
		if v := s.Get(); v != "" && !prev[v] {
			t.reveal[v] = true
		}
	}
}

// output returns m wrapped for a response, with every secret not created
// by this call blanked.
func (t *tx) output(m proto.Message) *apigwv1.Resource {
	m = proto.Clone(m)
	for _, s := range model.Secrets(m) {
		if !t.reveal[s.Get()] {
			s.Set("")
		}
	}
	return model.Wrap(m)
}

// keepNestedIDs gives nested items sent without an id the id (and creation
// time) of the stored item they match, so that re-applying a definition
// changes nothing: throttle specials by (object_type, object_id), domains by
// name, AppCodes by id or value.
func keepNestedIDs(m, old proto.Message) {
	switch v := m.(type) {
	case *apigwv1.Throttle:
		prev := map[string]string{}
		for _, s := range old.(*apigwv1.Throttle).Specials {
			prev[s.ObjectType+"/"+s.ObjectId] = s.Id
		}
		for _, s := range v.Specials {
			if s.Id == "" {
				s.Id = prev[s.ObjectType+"/"+s.ObjectId]
			}
		}
	case *apigwv1.ApiGroup:
		prev := map[string]string{}
		for _, d := range old.(*apigwv1.ApiGroup).UrlDomains {
			prev[d.Domain] = d.Id
		}
		for _, d := range v.UrlDomains {
			if d.Id == "" {
				d.Id = prev[strings.ToLower(d.Domain)]
			}
		}
	case *apigwv1.App:
		byID, byCode := map[string]*apigwv1.AppCode{}, map[string]*apigwv1.AppCode{}
		for _, c := range old.(*apigwv1.App).AppCodes {
			byID[c.Id], byCode[c.AppCode] = c, c
		}
		for _, c := range v.AppCodes {
			prev := byID[c.Id]
			if prev == nil && c.Id == "" && c.AppCode != "" {
				prev = byCode[c.AppCode]
			}
			if prev != nil {
				c.Id, c.CreateTime = prev.Id, prev.CreateTime
			}
		}
	}
}

// checkDefaultGroup refuses a second group named DEFAULT: every instance
// has one (built in until written), which is updated, not created.
func (t *tx) checkDefaultGroup(m, old proto.Message) error {
	g, ok := m.(*apigwv1.ApiGroup)
	if !ok || !model.IsDefaultGroup(g) {
		return nil
	}
	id := model.IDOf(m)
	if old != nil {
		id = model.IDOf(old)
	}
	for _, other := range t.view().Named(model.KindGroup, model.DefaultGroupName) {
		if other != id {
			return fmt.Errorf("group name DEFAULT: the instance's DEFAULT group is group %s; update it instead: %w", other, model.ErrExists)
		}
	}
	return nil
}
