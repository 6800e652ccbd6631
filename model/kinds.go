// Package model holds the rules and views over the apigw resource messages
// generated from proto/apigw/v1: the kind table, defaults, validation,
// references and publication. The runtime pieces built on it (the
// snapshot the data-plane components serve from, its feed and the status
// registry) are in model/live. It imports no etcd, gRPC or Envoy packages.
package model

import (
	"slices"
	"sort"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Kind names, equal to the apigw.v1.Resource oneof field names.
const (
	KindInstance        = "instance"
	KindGroup           = "group"
	KindEnvironment     = "environment"
	KindEnvVariable     = "env_variable"
	KindAPI             = "api"
	KindVpcChannel      = "vpc_channel"
	KindThrottle        = "throttle"
	KindACL             = "acl"
	KindApp             = "app"
	KindAppQuota        = "app_quota"
	KindAuthorizer      = "authorizer"
	KindResponse        = "response"
	KindCertificate     = "certificate"
	KindThrottleBinding = "throttle_binding"
	KindACLBinding      = "acl_binding"
	KindAppAuth         = "app_auth"
	// KindPublication and KindRelease are managed by publish, unpublish and
	// rollback only; they are not part of apigw.v1.Resource.
	KindPublication = "publication"
	KindRelease     = "release"
)

// Kind describes one kind of stored resource.
type Kind struct {
	// Name is the kind name (see the Kind* constants).
	Name string
	// Segment is the etcd key segment ("apis").
	Segment string
	// NameField is the proto field holding the human name, if any.
	NameField protoreflect.Name
	// Internal kinds are not exposed through apigw.v1.Resource.
	Internal bool
	newMsg   func() proto.Message
}

// New returns an empty message of the kind.
func (k *Kind) New() proto.Message { return k.newMsg() }

// Kinds returns every kind, in dependency order (referenced kinds first),
// in a new slice.
func Kinds() []*Kind { return slices.Clone(kindTable) }

var kindTable = []*Kind{
	{Name: KindInstance, Segment: "instances", NameField: "name", newMsg: func() proto.Message { return &apigwv1.Instance{} }},
	{Name: KindCertificate, Segment: "certificates", NameField: "name", newMsg: func() proto.Message { return &apigwv1.Certificate{} }},
	{Name: KindGroup, Segment: "groups", NameField: "name", newMsg: func() proto.Message { return &apigwv1.ApiGroup{} }},
	{Name: KindEnvironment, Segment: "environments", NameField: "name", newMsg: func() proto.Message { return &apigwv1.Environment{} }},
	{Name: KindEnvVariable, Segment: "env-variables", NameField: "variable_name", newMsg: func() proto.Message { return &apigwv1.EnvVariable{} }},
	{Name: KindVpcChannel, Segment: "vpc-channels", NameField: "name", newMsg: func() proto.Message { return &apigwv1.VpcChannel{} }},
	{Name: KindAuthorizer, Segment: "authorizers", NameField: "name", newMsg: func() proto.Message { return &apigwv1.Authorizer{} }},
	{Name: KindResponse, Segment: "responses", NameField: "name", newMsg: func() proto.Message { return &apigwv1.GatewayResponse{} }},
	{Name: KindOrchestration, Segment: "orchestrations", NameField: "orchestration_name", newMsg: func() proto.Message { return &apigwv1.Orchestration{} }},
	{Name: KindAPI, Segment: "apis", NameField: "name", newMsg: func() proto.Message { return &apigwv1.Api{} }},
	{Name: KindAppQuota, Segment: "app-quotas", NameField: "name", newMsg: func() proto.Message { return &apigwv1.AppQuota{} }},
	{Name: KindApp, Segment: "apps", NameField: "name", newMsg: func() proto.Message { return &apigwv1.App{} }},
	{Name: KindThrottle, Segment: "throttles", NameField: "name", newMsg: func() proto.Message { return &apigwv1.Throttle{} }},
	{Name: KindACL, Segment: "acls", NameField: "acl_name", newMsg: func() proto.Message { return &apigwv1.Acl{} }},
	{Name: KindThrottleBinding, Segment: "throttle-bindings", newMsg: func() proto.Message { return &apigwv1.ThrottleBinding{} }},
	{Name: KindACLBinding, Segment: "acl-bindings", newMsg: func() proto.Message { return &apigwv1.AclBinding{} }},
	{Name: KindAppAuth, Segment: "app-auths", newMsg: func() proto.Message { return &apigwv1.AppAuth{} }},
	{Name: KindPublication, Segment: "publications", Internal: true, newMsg: func() proto.Message { return &apigwv1.Publication{} }},
	{Name: KindRelease, Segment: "releases", Internal: true, newMsg: func() proto.Message { return &apigwv1.Release{} }},
}

// kindIndex finds kinds by name, key segment and message type.
type kindIndex struct {
	byName    map[string]*Kind
	bySegment map[string]*Kind
	byMsg     map[protoreflect.FullName]*Kind
}

// kinds is the index of kindTable, built on first use.
var kinds = sync.OnceValue(func() *kindIndex {
	x := &kindIndex{
		byName:    make(map[string]*Kind, len(kindTable)),
		bySegment: make(map[string]*Kind, len(kindTable)),
		byMsg:     make(map[protoreflect.FullName]*Kind, len(kindTable)),
	}
	for _, k := range kindTable {
		x.byName[k.Name] = k
		x.bySegment[k.Segment] = k
		x.byMsg[k.New().ProtoReflect().Descriptor().FullName()] = k
	}
	return x
})

// KindByName returns the kind with that name, or nil.
func KindByName(name string) *Kind { return kinds().byName[name] }

// KindBySegment returns the kind stored under that etcd key segment, or nil.
func KindBySegment(seg string) *Kind { return kinds().bySegment[seg] }

// KindOf returns the kind of a resource message, or nil.
func KindOf(m proto.Message) *Kind {
	if m == nil {
		return nil
	}
	return kinds().byMsg[m.ProtoReflect().Descriptor().FullName()]
}

// KindNames returns the public kind names, sorted.
func KindNames() []string {
	var out []string
	for _, k := range kindTable {
		if !k.Internal {
			out = append(out, k.Name)
		}
	}
	sort.Strings(out)
	return out
}

// Wrap puts a resource message into an apigw.v1.Resource.
func Wrap(m proto.Message) *apigwv1.Resource {
	r := &apigwv1.Resource{}
	k := KindOf(m)
	if k == nil || k.Internal {
		return r
	}
	fd := r.ProtoReflect().Descriptor().Fields().ByName(protoreflect.Name(k.Name))
	r.ProtoReflect().Set(fd, protoreflect.ValueOfMessage(m.ProtoReflect()))
	return r
}

// Unwrap returns the message held by r and its kind (nil when empty).
func Unwrap(r *apigwv1.Resource) (proto.Message, *Kind) {
	if r == nil {
		return nil, nil
	}
	od := r.ProtoReflect().Descriptor().Oneofs().ByName("kind")
	fd := r.ProtoReflect().WhichOneof(od)
	if fd == nil {
		return nil, nil
	}
	m := r.ProtoReflect().Get(fd).Message().Interface()
	return m, kinds().byName[string(fd.Name())]
}
