package openapi

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// fromV3 reads an OpenAPI 3.0 or 3.1 document.
func fromV3(d *openapi3.T) (*document, error) {
	doc := &document{version: d.OpenAPI, security: map[string]*secScheme{}}
	if d.Info != nil { // required by OpenAPI; without it the group has no title (warned)
		doc.title, doc.description = d.Info.Title, d.Info.Description
	}
	if d.Extensions != nil {
		doc.root = append(doc.root, extSet{ptr: "", m: d.Extensions})
	}
	if d.Components != nil {
		if d.Components.Extensions != nil {
			doc.root = append(doc.root, extSet{ptr: "/components", m: d.Components.Extensions})
		}
		for name, s := range d.Components.SecuritySchemes {
			if s == nil || s.Value == nil {
				continue
			}
			doc.security[name] = &secScheme{name: name, ptr: ptr("/components/securitySchemes", name), typ: s.Value.Type, in: s.Value.In,
				header: s.Value.Name, ext: s.Value.Extensions}
		}
	}
	for _, s := range d.Servers {
		if s == nil {
			continue
		}
		if u, err := url.Parse(s.URL); err == nil {
			if u.Host != "" {
				doc.hosts = append(doc.hosts, u.Host)
			}
			if u.Scheme != "" {
				doc.schemes = append(doc.schemes, u.Scheme)
			}
		}
	}
	if d.Security != nil {
		s := toReqs(d.Security)
		doc.rootSecurity = &s
	}
	if d.Paths == nil {
		return doc, nil
	}
	pm := d.Paths.Map()
	item := func(path string) *pathItem[openapi3.Operation] {
		it := pm[path]
		if it == nil {
			return nil
		}
		return &pathItem[openapi3.Operation]{operation: it.GetOperation, extensions: it.Extensions}
	}
	return doc, walkOperations(doc, sortedKeys(pm), item, func(path, method, at string, op *openapi3.Operation) (*operation, error) {
		it := pm[path]
		o := &operation{path: path, method: method, ptr: at, id: op.OperationID, summary: op.Summary,
			description: op.Description, tags: op.Tags, ext: op.Extensions}
		if op.Security != nil {
			s := toReqs(*op.Security)
			o.security = &s
		}
		servers := op.Servers
		if servers == nil {
			servers = &it.Servers
		}
		for _, s := range *servers {
			if s == nil {
				continue
			}
			if u, err := url.Parse(s.URL); err == nil && u.Scheme != "" {
				o.schemes = append(o.schemes, u.Scheme)
			}
		}
		var err error
		o.params, err = mergeParams(it.Parameters, op.Parameters, ptr("/paths", path), at, func(p *openapi3.ParameterRef, at string) (*param, error) {
			return v3Param(d, p, at)
		})
		if err != nil {
			return nil, err
		}
		if op.Responses != nil {
			o.responses = responseSets(op.Responses.Map(), op.Responses.Extensions, at, func(r *openapi3.ResponseRef) map[string]any {
				if r.Value != nil {
					return merge(r.Value.Extensions, r.Extensions)
				}
				return r.Extensions
			})
		}
		return o, nil
	})
}

func toReqs(s openapi3.SecurityRequirements) []map[string][]string {
	out := make([]map[string][]string, len(s))
	for i, r := range s {
		out[i] = map[string][]string(r)
	}
	return out
}

// v3Param converts an OpenAPI 3 parameter (or the component it refers
// to), with its schema's type, default, enumeration and bounds.
func v3Param(d *openapi3.T, r *openapi3.ParameterRef, at string) (*param, error) {
	p := r.Value
	src := at
	if r.Ref != "" {
		src = ptr("/components/parameters", strings.TrimPrefix(r.Ref, "#/components/parameters/"))
	}
	if p == nil && r.Ref != "" && d.Components != nil {
		if c := d.Components.Parameters[strings.TrimPrefix(r.Ref, "#/components/parameters/")]; c != nil {
			p = c.Value
		}
	}
	if p == nil {
		return nil, fmt.Errorf("%s: $ref %q names no parameter", at, r.Ref)
	}
	q := &param{ptr: at, src: src, bounds: ptr(src, "schema"), name: p.Name, in: p.In, required: p.Required, description: p.Description, ext: p.Extensions, example: p.Example}
	if p.Schema != nil && strings.HasPrefix(p.Schema.Ref, "#/components/schemas/") {
		q.bounds = ptr("/components/schemas", strings.TrimPrefix(p.Schema.Ref, "#/components/schemas/"))
	}
	if p.Schema != nil && p.Schema.Value != nil {
		s := p.Schema.Value
		if s.Type != nil {
			for _, t := range *s.Type {
				if t != "null" {
					q.typ = t
					break
				}
			}
		}
		q.def, q.enum, q.min, q.max, q.minLen, q.maxLen = s.Default, s.Enum, s.Min, s.Max, s.MinLength, s.MaxLength
		if q.example == nil {
			q.example = s.Example
		}
	}
	return q, nil
}
