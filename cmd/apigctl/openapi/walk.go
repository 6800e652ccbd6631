package openapi

import (
	"fmt"
	"strings"
)

// pathItem is what the operation walker reads of a path item of either
// version: its operation for a method and its extensions.
type pathItem[O any] struct {
	operation  func(method string) *O
	extensions map[string]any
}

// walkOperations reads the operations of the paths into doc.ops, in the
// given order: those of the methods APIG knows, then the
// x-apigateway-any-method operation (method ANY); read converts one, given
// its path, method and JSON pointer. The path items' other extensions are
// recorded for the report. item returns nil for a path item that is null
// (`/path: null`: no operations), which is skipped.
func walkOperations[O any](doc *document, paths []string, item func(path string) *pathItem[O], read func(path, method, at string, op *O) (*operation, error)) error {
	visit := func(path, method, at string, op *O) error {
		o, err := read(path, method, at, op)
		if err != nil {
			return err
		}
		doc.ops = append(doc.ops, o)
		return nil
	}
	for _, path := range paths {
		it := item(path)
		if it == nil {
			continue
		}
		pp := ptr("/paths", path)
		for _, m := range methods {
			if op := it.operation(strings.ToUpper(m)); op != nil {
				if err := visit(path, strings.ToUpper(m), ptr(pp, m), op); err != nil {
					return err
				}
			}
		}
		if raw, ok := it.extensions[anyMethodKey]; ok {
			var op O
			if err := remarshal(raw, &op); err != nil {
				return fmt.Errorf("%s: %w", ptr(pp, anyMethodKey), err)
			}
			if err := visit(path, "ANY", ptr(pp, anyMethodKey), &op); err != nil {
				return err
			}
		}
		doc.pathExt(pp, it.extensions)
	}
	return nil
}

// mergeParams converts a path item's parameters and an operation's: an
// operation parameter replaces the path item's of the same location and
// name, in its place. A null parameter is refused.
func mergeParams[P comparable](shared, own []P, pathPtr, opPtr string, conv func(p P, at string) (*param, error)) ([]*param, error) {
	var out []*param
	seen := map[string]int{}
	var null P
	convert := func(p P, at string) (*param, error) {
		if p == null {
			return nil, fmt.Errorf("%s: not a parameter", at)
		}
		return conv(p, at)
	}
	for i, p := range shared {
		q, err := convert(p, ptr(pathPtr, "parameters", i))
		if err != nil {
			return nil, err
		}
		seen[q.in+"/"+q.name] = len(out)
		out = append(out, q)
	}
	for i, p := range own {
		q, err := convert(p, ptr(opPtr, "parameters", i))
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

// responseSets lists an operation's response objects with their
// extensions, "default" first, then by code; null responses are skipped.
// The extensions of the responses object itself come first: APIG exports
// write result samples there too, beside `default: {$ref}`.
func responseSets[R comparable](responses map[string]R, own map[string]any, opPtr string, ext func(R) map[string]any) []extSet {
	var out []extSet
	if len(own) > 0 {
		out = append(out, extSet{ptr: ptr(opPtr, "responses"), m: own})
	}
	var null R
	for _, code := range responseOrder(keysOf(responses)) {
		r := responses[code]
		if r == null {
			continue
		}
		out = append(out, extSet{ptr: ptr(opPtr, "responses", code), m: ext(r)})
	}
	return out
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
