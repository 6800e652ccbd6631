// Package openapi converts Swagger 2.0 and OpenAPI 3.0/3.1 documents with
// Huawei APIG x-apigateway-* extensions into apigw resources (import) and
// back (export). Documents are parsed with kin-openapi; the extensions are
// decoded here, every problem named by its JSON pointer.
package openapi

import (
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Plan is what a document describes, before it is matched with what is
// stored.
type Plan struct {
	// Version is the document's swagger/openapi version.
	Version string
	// GroupName is info.title; GroupRemark info.description.
	GroupName   string
	GroupRemark string
	Authorizers []Item[*apigwv1.Authorizer]
	Throttles   []Item[*apigwv1.Throttle]
	ACLs        []Item[*apigwv1.Acl]
	Responses   []Item[*apigwv1.GatewayResponse]
	APIs        []*APIItem
}

// Item is a resource and the pointer of the node that defines it.
type Item[T any] struct {
	Ptr string
	Msg T
}

// APIItem is an API with the policies the operation binds by name.
type APIItem struct {
	Ptr         string
	API         *apigwv1.Api
	Throttle    string
	ThrottlePtr string
	ACL         string
	ACLPtr      string
}
