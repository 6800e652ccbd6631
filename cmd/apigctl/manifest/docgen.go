package manifest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

var (
	reMessage = regexp.MustCompile(`^message (\w+) \{`)
	reField   = regexp.MustCompile(`^\s*(?:optional |repeated )?(?:map<[^>]+>|[\w.]+)\s+(\w+)\s*=\s*\d+[^;]*;\s*(?://\s*(.*))?$`)
	reComment = regexp.MustCompile(`^\s*//\s?(.*)$`)
)

// protoComments reads the field comments of the .proto files in dir,
// keyed "Message.field".
func protoComments(dir string) (map[string]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.proto"))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		msg := ""
		var pending []string
		for sc.Scan() {
			line := sc.Text()
			if m := reMessage.FindStringSubmatch(line); m != nil {
				msg, pending = m[1], nil
				continue
			}
			if m := reComment.FindStringSubmatch(line); m != nil {
				pending = append(pending, m[1])
				continue
			}
			if m := reField.FindStringSubmatch(line); m != nil && msg != "" {
				c := strings.Join(pending, " ")
				if m[2] != "" {
					c = strings.TrimSpace(c + " " + m[2])
				}
				out[msg+"."+m[1]] = c
			}
			pending = nil
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ResourceDoc renders the YAML reference of every resource kind from the
// proto descriptors and the comments of the .proto files in protoDir.
func ResourceDoc(protoDir string) (string, error) {
	comments, err := protoComments(protoDir)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(`# Resource reference

<!-- Generated from proto/apigw/v1 by "go test ./cmd/apigctl/manifest -update-docs"; do not edit. -->

Every definition is one YAML (or JSON) document: ` + "`kind`" + ` (the resource kind) next
to the fields of the resource, spelled as in the proto files (APIG management
API v2 names). Documents are separated by ` + "`---`" + `. References to other objects
(` + "`group_id`" + `, ` + "`env_id`" + `, ` + "`strategy_id`" + `, ...) take an id or a name. ` + "`meta`" + ` and output-only
fields are set by apigw and ignored on input; secret fields are write-only
(` + "`apigctl get`" + ` never shows them). See [apigctl](apigctl.md) for the commands.

` + "```yaml" + `
kind: api
name: get_pet
group_id: pets
req_method: GET
req_uri: /pets/{id}
auth_type: APP
backend_api:
  req_protocol: HTTP
  url_domain: "#backend#"
  req_uri: /v1/pets/{id}
` + "```" + `

Kinds: `)
	var kinds []string
	for _, k := range model.KindNames() {
		kinds = append(kinds, "["+k+"](#"+k+")")
	}
	b.WriteString(strings.Join(kinds, ", ") + ".\n")
	seen := map[protoreflect.FullName]bool{}
	var nested []protoreflect.MessageDescriptor
	for _, k := range model.KindNames() {
		md := model.KindByName(k).New().ProtoReflect().Descriptor()
		fmt.Fprintf(&b, "\n## %s\n\nMessage `%s`.\n\n", k, md.FullName())
		nested = append(nested, fieldTable(&b, md, comments, seen)...)
	}
	b.WriteString("\n## Nested messages\n")
	for len(nested) > 0 {
		md := nested[0]
		nested = nested[1:]
		fmt.Fprintf(&b, "\n### %s\n\n", md.Name())
		nested = append(nested, fieldTable(&b, md, comments, seen)...)
	}
	return b.String(), nil
}

func fieldTable(b *strings.Builder, md protoreflect.MessageDescriptor, comments map[string]string, seen map[protoreflect.FullName]bool) []protoreflect.MessageDescriptor {
	b.WriteString("| Field | Type | Description |\n|---|---|---|\n")
	var nested []protoreflect.MessageDescriptor
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		typ := typeOf(fd)
		if m := messageOf(fd); m != nil && m.ParentFile().Package() == "apigw.v1" && !seen[m.FullName()] {
			seen[m.FullName()] = true
			nested = append(nested, m)
		}
		desc := comments[string(md.Name())+"."+string(fd.Name())]
		if o, _ := proto.GetExtension(fd.Options(), apigwv1.E_Field).(*apigwv1.FieldOptions); o != nil {
			if o.GetSecret() {
				desc = "**Secret** (write-only). " + desc
			}
			if o.GetOutputOnly() {
				desc = "**Output only.** " + desc
			}
		}
		fmt.Fprintf(b, "| `%s` | %s | %s |\n", fd.Name(), typ, strings.ReplaceAll(desc, "|", "\\|"))
	}
	return nested
}

func messageOf(fd protoreflect.FieldDescriptor) protoreflect.MessageDescriptor {
	if fd.IsMap() {
		return fd.MapValue().Message()
	}
	return fd.Message()
}

func typeOf(fd protoreflect.FieldDescriptor) string {
	name := func(f protoreflect.FieldDescriptor) string {
		if m := f.Message(); m != nil {
			if m.ParentFile().Package() == "apigw.v1" {
				return "[" + string(m.Name()) + "](#" + strings.ToLower(string(m.Name())) + ")"
			}
			return string(m.FullName())
		}
		return f.Kind().String()
	}
	switch {
	case fd.IsMap():
		return "map of " + name(fd.MapKey()) + " to " + name(fd.MapValue())
	case fd.IsList():
		return "list of " + name(fd)
	case fd.HasOptionalKeyword():
		return name(fd) + " (optional)"
	}
	return name(fd)
}
