package model

import (
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// IDOf returns the identifier of a resource: its id field, the name of an
// instance, or "<api_id>/<env_id>" for a release.
func IDOf(m proto.Message) string {
	switch v := m.(type) {
	case *apigwv1.Instance:
		return v.GetName()
	case *apigwv1.Release:
		return ReleaseID(v.GetApiId(), v.GetEnvId())
	}
	return stringField(m, "id")
}

// ReleaseID is the identifier of the release of an API in an environment.
func ReleaseID(apiID, envID string) string { return apiID + "/" + envID }

// SetID sets the identifier field of a resource.
func SetID(m proto.Message, id string) {
	switch m.(type) {
	case *apigwv1.Instance, *apigwv1.Release:
		return
	}
	setStringField(m, "id", id)
}

// NameOf returns the human name of a resource ("" for kinds without one).
func NameOf(m proto.Message) string {
	k := KindOf(m)
	if k == nil || k.NameField == "" {
		return ""
	}
	return stringField(m, k.NameField)
}

// MetaOf returns the Meta of a resource, creating it when absent.
func MetaOf(m proto.Message) *apigwv1.Meta {
	r := m.ProtoReflect()
	fd := r.Descriptor().Fields().ByName("meta")
	if fd == nil {
		return &apigwv1.Meta{}
	}
	return r.Mutable(fd).Message().Interface().(*apigwv1.Meta)
}

func stringField(m proto.Message, name protoreflect.Name) string {
	r := m.ProtoReflect()
	fd := r.Descriptor().Fields().ByName(name)
	if fd == nil || fd.Kind() != protoreflect.StringKind {
		return ""
	}
	return r.Get(fd).String()
}

func setStringField(m proto.Message, name protoreflect.Name, v string) {
	r := m.ProtoReflect()
	if fd := r.Descriptor().Fields().ByName(name); fd != nil && fd.Kind() == protoreflect.StringKind {
		r.Set(fd, protoreflect.ValueOfString(v))
	}
}

// fieldOpts returns the apigw field options of a field (memoized: reading
// an extension allocates, and every object's fields are visited on write).
func fieldOpts(fd protoreflect.FieldDescriptor) *apigwv1.FieldOptions {
	if v, ok := fieldOptions.Load(fd.FullName()); ok {
		return v.(*apigwv1.FieldOptions)
	}
	var o *apigwv1.FieldOptions
	if opts := fd.Options(); opts != nil {
		o, _ = proto.GetExtension(opts, apigwv1.E_Field).(*apigwv1.FieldOptions)
	}
	fieldOptions.Store(fd.FullName(), o)
	return o
}

var fieldOptions sync.Map // protoreflect.FullName → *apigwv1.FieldOptions

// SecretRef gives access to one secret string field inside a message.
type SecretRef struct {
	// Path is the field path, e.g. "app_codes[0].app_code".
	Path string
	Get  func() string
	Set  func(string)
}

// Secrets lists every secret field (marked [(apigw.v1.field).secret = true])
// in m, recursively.
func Secrets(m proto.Message) []SecretRef {
	var out []SecretRef
	walkSecrets(m.ProtoReflect(), "", &out)
	return out
}

func walkSecrets(r protoreflect.Message, prefix string, out *[]SecretRef) {
	if !holdsSecrets(r.Descriptor()) {
		return
	}
	fields := r.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		path := join(prefix, string(fd.Name()))
		switch {
		case fd.Kind() == protoreflect.StringKind && !fd.IsList() && !fd.IsMap():
			if o := fieldOpts(fd); o.GetSecret() {
				*out = append(*out, SecretRef{
					Path: path,
					Get:  func() string { return r.Get(fd).String() },
					Set:  func(v string) { r.Set(fd, protoreflect.ValueOfString(v)) },
				})
			}
		case fd.Kind() == protoreflect.MessageKind && fd.IsList():
			l := r.Get(fd).List()
			for j := 0; j < l.Len(); j++ {
				walkSecrets(l.Get(j).Message(), index(path, j), out)
			}
		case fd.Kind() == protoreflect.MessageKind && !fd.IsMap() && r.Has(fd):
			walkSecrets(r.Get(fd).Message(), path, out)
		}
	}
}

// ClearOutputOnly resets every output-only field of m (recursively) except
// those of the top-level Meta, which the store manages.
func ClearOutputOnly(m proto.Message) {
	clearOutputOnly(m.ProtoReflect())
}

func clearOutputOnly(r protoreflect.Message) {
	if !holdsOutputOnly(r.Descriptor()) {
		return
	}
	fields := r.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if fieldOpts(fd).GetOutputOnly() && fd.ContainingMessage().FullName() != "apigw.v1.Meta" {
			r.Clear(fd)
			continue
		}
		switch {
		case fd.Kind() == protoreflect.MessageKind && fd.IsList():
			l := r.Get(fd).List()
			for j := 0; j < l.Len(); j++ {
				clearOutputOnly(l.Get(j).Message())
			}
		case fd.Kind() == protoreflect.MessageKind && !fd.IsMap() && r.Has(fd) && fd.Message().FullName() != "apigw.v1.Meta":
			clearOutputOnly(r.Get(fd).Message())
		}
	}
}

// Redact blanks every secret field of m.
func Redact(m proto.Message) {
	for _, s := range Secrets(m) {
		s.Set("")
	}
}

// secretHolders memoizes, per message type, whether a secret field can be
// reached from it; most resources (APIs, publications) hold none, and
// walking them field by field would dominate decoding.
var secretHolders sync.Map // protoreflect.FullName → bool

func holdsSecrets(md protoreflect.MessageDescriptor) bool {
	if v, ok := secretHolders.Load(md.FullName()); ok {
		return v.(bool)
	}
	found := reachesSecret(md, map[protoreflect.FullName]bool{})
	secretHolders.Store(md.FullName(), found)
	return found
}

func reachesSecret(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) bool {
	if seen[md.FullName()] {
		return false
	}
	seen[md.FullName()] = true
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if fd.Kind() == protoreflect.StringKind && fieldOpts(fd).GetSecret() {
			return true
		}
		if fd.Kind() == protoreflect.MessageKind && !fd.IsMap() && reachesSecret(fd.Message(), seen) {
			return true
		}
	}
	return false
}

// outputOnlyHolders memoizes, per message type, whether an output-only
// field (outside a Meta) can be reached from it.
var outputOnlyHolders sync.Map // protoreflect.FullName → bool

func holdsOutputOnly(md protoreflect.MessageDescriptor) bool {
	if v, ok := outputOnlyHolders.Load(md.FullName()); ok {
		return v.(bool)
	}
	found := reachesOutputOnly(md, map[protoreflect.FullName]bool{})
	outputOnlyHolders.Store(md.FullName(), found)
	return found
}

func reachesOutputOnly(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) bool {
	if seen[md.FullName()] || md.FullName() == "apigw.v1.Meta" {
		return false
	}
	seen[md.FullName()] = true
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if fieldOpts(fd).GetOutputOnly() {
			return true
		}
		if fd.Kind() == protoreflect.MessageKind && !fd.IsMap() && reachesOutputOnly(fd.Message(), seen) {
			return true
		}
	}
	return false
}
