package model

import (
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// ChangedFields lists the field paths that differ between two versions of
// an object ("backend_api.req_uri", "app_secret (secret)"), without their
// values: secret fields are named with " (secret)" and their values never
// leave this function. Nested messages are compared field by field; lists
// and maps are reported as a whole. meta is ignored.
func ChangedFields(old, cur proto.Message) []string {
	var out []string
	diffFields(old.ProtoReflect(), cur.ProtoReflect(), "", &out)
	slices.Sort(out)
	return out
}

func diffFields(a, b protoreflect.Message, prefix string, out *[]string) {
	fields := b.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		name := prefix + string(fd.Name())
		if prefix == "" && fd.Name() == "meta" {
			continue
		}
		av, bv := a.Get(fd), b.Get(fd)
		switch {
		case fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap():
			if !a.Has(fd) && !b.Has(fd) {
				continue
			}
			diffFields(av.Message(), bv.Message(), name+".", out)
		case !av.Equal(bv):
			if fd.Kind() == protoreflect.StringKind && fieldOpts(fd).GetSecret() {
				name += " (secret)"
			}
			*out = append(*out, name)
		}
	}
}
