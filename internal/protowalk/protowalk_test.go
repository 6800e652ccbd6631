package protowalk_test

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/apigw/apigw/internal/protowalk"
)

// Children visits set message fields, list elements and map values, each
// once, named by its step; scalar fields are not visited.
func TestChildren(t *testing.T) {
	v, err := structpb.NewStruct(map[string]any{"a": []any{"x", 1.0}})
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	protowalk.Children(v.ProtoReflect(), func(c protoreflect.Message, step string) { steps = append(steps, step) })
	if !slices.Equal(steps, []string{".fields[a]"}) {
		t.Fatalf("struct: %v", steps)
	}
	steps = nil
	list := v.GetFields()["a"]
	protowalk.Children(list.GetListValue().ProtoReflect(), func(c protoreflect.Message, step string) { steps = append(steps, step) })
	if !slices.Equal(steps, []string{".values[0]", ".values[1]"}) {
		t.Fatalf("list: %v", steps)
	}
	steps = nil
	protowalk.Children(list.ProtoReflect(), func(c protoreflect.Message, step string) { steps = append(steps, step) })
	if !slices.Equal(steps, []string{".list_value"}) {
		t.Fatalf("value: %v", steps)
	}
	steps = nil
	protowalk.Children(structpb.NewNumberValue(1).ProtoReflect(), func(c protoreflect.Message, step string) { steps = append(steps, step) })
	if len(steps) != 0 {
		t.Fatalf("number: %v", steps)
	}
}
