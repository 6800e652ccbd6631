package openapi

import (
	"context"
	"encoding/json"
	"fmt"
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
	// bounds is the node holding minimum/maximum/minLength/maxLength: the
	// parameter (2.0), its schema (3.x), or what a $ref names.
	bounds string
	// src is the parameter object itself (what a $ref names).
	src          string
	required     bool
	def, example any
	enum         []any
	min, max     *float64
	minLen       uint64
	maxLen       *uint64
	description  string
	ext          map[string]any
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
