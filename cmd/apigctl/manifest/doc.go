// Package manifest reads and writes apigctl's declarative documents: one
// apigw resource per YAML or JSON document, written as
//
//	kind: api
//	name: get_pet
//	group_id: pets
//	...
//
// that is the kind (the apigw.v1.Resource oneof field name) next to the
// fields of the resource message, with the proto field names. Documents
// are read and written through protojson, so unknown fields are errors and
// `apigctl get -o yaml` output can be applied again.
package manifest

import (
	"fmt"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Doc is one decoded document.
type Doc struct {
	// Source names the document: "file.yaml#2" (1-based), or "-#1" for
	// standard input.
	Source   string
	Resource *apigwv1.Resource
}

// Error is a document that cannot be decoded.
type Error struct {
	Source string
	Err    error
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %v", e.Source, e.Err) }

func (e *Error) Unwrap() error { return e.Err }
