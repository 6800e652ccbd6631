package openapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi3"
	"sigs.k8s.io/yaml"
)

// document is what the importer reads from a Swagger 2.0 or OpenAPI 3.x
// file, parsed by kin-openapi, with the JSON pointer of every node it may
// report on.
type document struct {
	version     string // "2.0", "3.0.3", "3.1.0"
	title       string
	description string
	hosts       []string
	schemes     []string // document-level schemes (2.0) or server URL schemes (3.x)
	// root holds the document-level extensions (3.x: root and components).
	root []extSet
	// schemes by name.
	security map[string]*secScheme
	// rootSecurity is the document-level security requirement.
	rootSecurity *[]map[string][]string
	ops          []*operation
}

// extSet is an object's extensions and the pointer of the object.
type extSet struct {
	ptr string
	m   map[string]any
}

type secScheme struct {
	name, ptr, typ, in, header string
	ext                        map[string]any
}

type operation struct {
	path, method string // method upper-case, or ANY
	ptr          string
	id           string
	summary      string
	description  string
	tags         []string
	security     *[]map[string][]string
	schemes      []string
	params       []*param
	ext          map[string]any
	responses    []extSet // response objects in order: default first
}

type param struct {
	ptr, name, in, typ string
	required           bool
	def, example       any
	enum               []any
	min, max           *float64
	minLen             uint64
	maxLen             *uint64
	description        string
	ext                map[string]any
}

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch"}

const anyMethodKey = "x-apigateway-any-method"

// parse loads a Swagger 2.0 or OpenAPI 3.0/3.1 document (YAML or JSON).
func parse(data []byte) (*document, error) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("not YAML or JSON: %w", err)
	}
	var head struct {
		Swagger any `json:"swagger"`
		OpenAPI any `json:"openapi"`
	}
	if err := json.Unmarshal(js, &head); err != nil {
		return nil, fmt.Errorf("the document must be an object: %w", err)
	}
	switch {
	case head.Swagger != nil:
		if fmt.Sprint(head.Swagger) != "2.0" && fmt.Sprint(head.Swagger) != "2" {
			return nil, fmt.Errorf("/swagger: only Swagger 2.0 is supported (got %v)", head.Swagger)
		}
		var doc openapi2.T
		if err := json.Unmarshal(js, &doc); err != nil {
			return nil, fmt.Errorf("not a valid Swagger 2.0 document: %w", err)
		}
		return fromV2(&doc)
	case head.OpenAPI != nil:
		v := fmt.Sprint(head.OpenAPI)
		if !strings.HasPrefix(v, "3.0") && !strings.HasPrefix(v, "3.1") {
			return nil, fmt.Errorf("/openapi: OpenAPI 3.0 and 3.1 are supported (got %v)", head.OpenAPI)
		}
		loader := openapi3.NewLoader()
		loader.Context = context.Background()
		doc, err := loader.LoadFromData(js)
		if err != nil {
			return nil, fmt.Errorf("OpenAPI %s: %w", v, err)
		}
		return fromV3(doc)
	}
	return nil, fmt.Errorf("neither swagger: \"2.0\" nor openapi: 3.x: not an OpenAPI document")
}

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
	for _, path := range sortedKeys(d.Paths) {
		item := d.Paths[path]
		if item == nil { // `/path: null`: no operations
			continue
		}
		pp := ptr("/paths", path)
		add := func(method, p string, op *openapi2.Operation) error {
			o := &operation{path: base + path, method: strings.ToUpper(method), ptr: p, id: op.OperationID, summary: op.Summary,
				description: op.Description, tags: op.Tags, schemes: op.Schemes, ext: op.Extensions}
			if op.Security != nil {
				s := []map[string][]string(*op.Security)
				o.security = &s
			}
			params, err := v2Params(d, item.Parameters, op.Parameters, pp, p)
			if err != nil {
				return err
			}
			o.params = params
			if op.Responses != nil {
				for _, code := range responseOrder(keysOf(op.Responses.Map())) {
					r := op.Responses.Value(code)
					if r == nil {
						continue
					}
					ext := r.Extensions
					if r.Ref != "" {
						if shared := d.Responses[strings.TrimPrefix(r.Ref, "#/responses/")]; shared != nil {
							ext = merge(shared.Extensions, ext)
						}
					}
					o.responses = append(o.responses, extSet{ptr: ptr(p, "responses", code), m: ext})
				}
			}
			doc.ops = append(doc.ops, o)
			return nil
		}
		for _, m := range methods {
			if op := item.GetOperation(strings.ToUpper(m)); op != nil {
				if err := add(m, ptr(pp, m), op); err != nil {
					return nil, err
				}
			}
		}
		if raw, ok := item.Extensions[anyMethodKey]; ok {
			var op openapi2.Operation
			if err := remarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("%s: %w", ptr(pp, anyMethodKey), err)
			}
			if err := add("ANY", ptr(pp, anyMethodKey), &op); err != nil {
				return nil, err
			}
		}
		doc.pathExt(pp, item.Extensions)
	}
	return doc, nil
}

// pathExt records unknown path-item extensions as root-level ones so that
// they are reported.
func (doc *document) pathExt(pp string, ext map[string]any) {
	rest := map[string]any{}
	for k, v := range ext {
		if k != anyMethodKey {
			rest[k] = v
		}
	}
	if len(rest) > 0 {
		doc.root = append(doc.root, extSet{ptr: pp, m: rest})
	}
}

func v2Params(d *openapi2.T, shared, own openapi2.Parameters, pathPtr, opPtr string) ([]*param, error) {
	var out []*param
	seen := map[string]int{}
	conv := func(p *openapi2.Parameter, at string) (*param, error) {
		if p == nil {
			return nil, fmt.Errorf("%s: not a parameter", at)
		}
		if p.Ref != "" {
			name := strings.TrimPrefix(p.Ref, "#/parameters/")
			r := d.Parameters[name]
			if r == nil {
				return nil, fmt.Errorf("%s: $ref %q names no parameter of /parameters", at, p.Ref)
			}
			p = r
		}
		q := &param{ptr: at, name: p.Name, in: p.In, required: p.Required, def: p.Default, enum: p.Enum,
			min: p.Minimum, max: p.Maximum, minLen: p.MinLength, maxLen: p.MaxLength, description: p.Description, ext: p.Extensions}
		if p.Type != nil && len(*p.Type) > 0 {
			q.typ = (*p.Type)[0]
		}
		if v, ok := p.Extensions["example"]; ok {
			q.example = v
		}
		return q, nil
	}
	for i, p := range shared {
		q, err := conv(p, ptr(pathPtr, "parameters", i))
		if err != nil {
			return nil, err
		}
		seen[q.in+"/"+q.name] = len(out)
		out = append(out, q)
	}
	for i, p := range own {
		q, err := conv(p, ptr(opPtr, "parameters", i))
		if err != nil {
			return nil, err
		}
		if j, ok := seen[q.in+"/"+q.name]; ok {
			out[j] = q
			continue
		}
		out = append(out, q)
	}
	return out, nil
}

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
	for _, path := range sortedKeys(pm) {
		item := pm[path]
		if item == nil { // `/path: null`: no operations
			continue
		}
		pp := ptr("/paths", path)
		add := func(method, p string, op *openapi3.Operation) error {
			o := &operation{path: path, method: strings.ToUpper(method), ptr: p, id: op.OperationID, summary: op.Summary,
				description: op.Description, tags: op.Tags, ext: op.Extensions}
			if op.Security != nil {
				s := toReqs(*op.Security)
				o.security = &s
			}
			servers := op.Servers
			if servers == nil {
				servers = &item.Servers
			}
			for _, s := range *servers {
				if s == nil {
					continue
				}
				if u, err := url.Parse(s.URL); err == nil && u.Scheme != "" {
					o.schemes = append(o.schemes, u.Scheme)
				}
			}
			params, err := v3Params(d, item.Parameters, op.Parameters, pp, p)
			if err != nil {
				return err
			}
			o.params = params
			if op.Responses != nil {
				m := op.Responses.Map()
				for _, code := range responseOrder(keysOf(m)) {
					r := m[code]
					if r == nil {
						continue
					}
					ext := r.Extensions
					if r.Value != nil {
						ext = merge(r.Value.Extensions, ext)
					}
					o.responses = append(o.responses, extSet{ptr: ptr(p, "responses", code), m: ext})
				}
			}
			doc.ops = append(doc.ops, o)
			return nil
		}
		for _, m := range methods {
			if op := item.GetOperation(strings.ToUpper(m)); op != nil {
				if err := add(m, ptr(pp, m), op); err != nil {
					return nil, err
				}
			}
		}
		if raw, ok := item.Extensions[anyMethodKey]; ok {
			var op openapi3.Operation
			if err := remarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("%s: %w", ptr(pp, anyMethodKey), err)
			}
			if err := add("ANY", ptr(pp, anyMethodKey), &op); err != nil {
				return nil, err
			}
		}
		doc.pathExt(pp, item.Extensions)
	}
	return doc, nil
}

func toReqs(s openapi3.SecurityRequirements) []map[string][]string {
	out := make([]map[string][]string, len(s))
	for i, r := range s {
		out[i] = map[string][]string(r)
	}
	return out
}

func v3Params(d *openapi3.T, shared, own openapi3.Parameters, pathPtr, opPtr string) ([]*param, error) {
	var out []*param
	seen := map[string]int{}
	conv := func(r *openapi3.ParameterRef, at string) (*param, error) {
		if r == nil {
			return nil, fmt.Errorf("%s: not a parameter", at)
		}
		p := r.Value
		if p == nil && r.Ref != "" && d.Components != nil {
			if c := d.Components.Parameters[strings.TrimPrefix(r.Ref, "#/components/parameters/")]; c != nil {
				p = c.Value
			}
		}
		if p == nil {
			return nil, fmt.Errorf("%s: $ref %q names no parameter", at, r.Ref)
		}
		q := &param{ptr: at, name: p.Name, in: p.In, required: p.Required, description: p.Description, ext: p.Extensions, example: p.Example}
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
	for i, p := range shared {
		q, err := conv(p, ptr(pathPtr, "parameters", i))
		if err != nil {
			return nil, err
		}
		seen[q.in+"/"+q.name] = len(out)
		out = append(out, q)
	}
	for i, p := range own {
		q, err := conv(p, ptr(opPtr, "parameters", i))
		if err != nil {
			return nil, err
		}
		if j, ok := seen[q.in+"/"+q.name]; ok {
			out[j] = q
			continue
		}
		out = append(out, q)
	}
	return out, nil
}

func remarshal(in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

func merge(a, b map[string]any) map[string]any {
	if len(a) == 0 {
		return b
	}
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := keysOf(m)
	sort.Strings(out)
	return out
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// responseOrder puts "default" first, then the codes in order.
func responseOrder(codes []string) []string {
	sort.Slice(codes, func(i, j int) bool {
		if codes[i] == "default" || codes[j] == "default" {
			return codes[i] == "default"
		}
		return codes[i] < codes[j]
	})
	return codes
}
