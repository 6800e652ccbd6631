// Package protowalk visits the messages inside a protobuf message.
package protowalk

import (
	"fmt"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Children calls fn for each message held directly by m: every set
// message field, every message in a list and every message value of a
// map, in m's field order. step names the child from m: ".field",
// ".field[3]" or ".field[key]".
func Children(m protoreflect.Message, fn func(child protoreflect.Message, step string)) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := "." + string(fd.Name())
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := 0; i < v.List().Len(); i++ {
				fn(v.List().Get(i).Message(), fmt.Sprintf("%s[%d]", name, i))
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				fn(mv.Message(), fmt.Sprintf("%s[%v]", name, k.Interface()))
				return true
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			fn(v.Message(), name)
		}
		return true
	})
}
