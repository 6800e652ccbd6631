package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

var marshal = protojson.MarshalOptions{UseProtoNames: true}

// Object returns the document of a resource as a JSON object: kind plus
// the message fields.
func Object(r *apigwv1.Resource) (map[string]any, error) {
	m, k := model.Unwrap(r)
	if m == nil {
		return nil, fmt.Errorf("empty resource")
	}
	js, err := marshal.Marshal(m)
	if err != nil {
		return nil, err
	}
	obj := map[string]any{}
	if err := json.Unmarshal(js, &obj); err != nil {
		return nil, err
	}
	obj["kind"] = k.Name
	return obj, nil
}

// YAML writes one resource as a YAML document, kind first.
func YAML(r *apigwv1.Resource) ([]byte, error) {
	obj, err := Object(r)
	if err != nil {
		return nil, err
	}
	kind := obj["kind"]
	delete(obj, "kind")
	body, err := yaml.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "kind: %s\n", kind)
	if len(obj) > 0 {
		b.Write(body)
	}
	return b.Bytes(), nil
}

// YAMLStream writes resources as a multi-document YAML stream.
func YAMLStream(rs []*apigwv1.Resource) ([]byte, error) {
	var b bytes.Buffer
	for i, r := range rs {
		if i > 0 {
			b.WriteString("---\n")
		}
		y, err := YAML(r)
		if err != nil {
			return nil, err
		}
		b.Write(y)
	}
	return b.Bytes(), nil
}

// JSON writes one resource (indented), or a JSON array when there are
// several or list is set.
func JSON(rs []*apigwv1.Resource, list bool) ([]byte, error) {
	objs := make([]map[string]any, 0, len(rs))
	for _, r := range rs {
		o, err := Object(r)
		if err != nil {
			return nil, err
		}
		objs = append(objs, o)
	}
	var v any = objs
	if len(objs) == 1 && !list {
		v = objs[0]
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// Clean returns a copy of a resource without its Meta, output-only fields
// and (blank) secrets: the definition a user keeps in Git.
func Clean(r *apigwv1.Resource) *apigwv1.Resource {
	m, _ := model.Unwrap(r)
	if m == nil {
		return r
	}
	m = proto.Clone(m)
	pr := m.ProtoReflect()
	if fd := pr.Descriptor().Fields().ByName("meta"); fd != nil {
		pr.Clear(fd)
	}
	model.ClearOutputOnly(m)
	return model.Wrap(m)
}
