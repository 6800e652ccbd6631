package openapi

import (
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
)

// fromV2 reads a Swagger 2.0 document.
func fromV2(d *openapi2.T) (*document, error) {
	doc := &document{version: "2.0", title: d.Info.Title, description: d.Info.Description, schemes: d.Schemes,
		security: map[string]*secScheme{}}
	if d.Host != "" {
		doc.hosts = []string{d.Host}
	}
	if d.Extensions != nil {
		doc.root = append(doc.root, extSet{ptr: "", m: d.Extensions})
	}
	if d.Security != nil {
		s := []map[string][]string(d.Security)
		doc.rootSecurity = &s
	}
	for name, s := range d.SecurityDefinitions {
		if s == nil { // `name: null`: nothing to define
			continue
		}
		doc.security[name] = &secScheme{name: name, ptr: ptr("/securityDefinitions", name), typ: s.Type, in: s.In, header: s.Name, ext: s.Extensions}
	}
	base := strings.TrimSuffix(d.BasePath, "/")
	item := func(path string) *pathItem[openapi2.Operation] {
		it := d.Paths[path]
		if it == nil {
			return nil
		}
		return &pathItem[openapi2.Operation]{operation: it.GetOperation, extensions: it.Extensions}
	}
	return doc, walkOperations(doc, sortedKeys(d.Paths), item, func(path, method, at string, op *openapi2.Operation) (*operation, error) {
		o := &operation{path: base + path, method: method, ptr: at, id: op.OperationID, summary: op.Summary,
			description: op.Description, tags: op.Tags, schemes: op.Schemes, ext: op.Extensions}
		if op.Security != nil {
			s := []map[string][]string(*op.Security)
			o.security = &s
		}
		var err error
		o.params, err = mergeParams(d.Paths[path].Parameters, op.Parameters, ptr("/paths", path), at, func(p *openapi2.Parameter, at string) (*param, error) {
			return v2Param(d, p, at)
		})
		if err != nil {
			return nil, err
		}
		if op.Responses != nil {
			o.responses = responseSets(op.Responses.Map(), op.Responses.Extensions, at, func(r *openapi2.Response) map[string]any {
				if r.Ref != "" {
					if shared := d.Responses[strings.TrimPrefix(r.Ref, "#/responses/")]; shared != nil {
						return merge(shared.Extensions, r.Extensions)
					}
				}
				return r.Extensions
			})
		}
		return o, nil
	})
}

// v2Param converts a Swagger 2.0 parameter (or the /parameters entry it
// refers to).
func v2Param(d *openapi2.T, p *openapi2.Parameter, at string) (*param, error) {
	bounds := at
	if p.Ref != "" {
		name := strings.TrimPrefix(p.Ref, "#/parameters/")
		r := d.Parameters[name]
		if r == nil {
			return nil, fmt.Errorf("%s: $ref %q names no parameter of /parameters", at, p.Ref)
		}
		p, bounds = r, ptr("/parameters", name)
	}
	q := &param{ptr: at, bounds: bounds, src: bounds, name: p.Name, in: p.In, required: p.Required, def: p.Default, enum: p.Enum,
		min: p.Minimum, max: p.Maximum, minLen: p.MinLength, maxLen: p.MaxLength, description: p.Description, ext: p.Extensions}
	if p.Type != nil && len(*p.Type) > 0 {
		q.typ = (*p.Type)[0]
	}
	if v, ok := p.Extensions["example"]; ok {
		q.example = v
	}
	return q, nil
}
