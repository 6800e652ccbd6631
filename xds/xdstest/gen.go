// Package xdstest generates apigw instances of any size for the xDS
// benchmarks and tests.
package xdstest

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// PublishTime stamps generated publications.
var PublishTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Objects returns the definitions of an instance with groups×perGroup APIs,
// each published to RELEASE: a mix of exact, templated and prefix paths
// over 50 backend addresses, every fourth API with APP authentication.
func Objects(groups, perGroup int) []proto.Message {
	var objs []proto.Message
	for g := range groups {
		gid := fmt.Sprintf("g%03d", g)
		objs = append(objs, &apigwv1.ApiGroup{Id: gid, Name: "group_" + gid, UrlDomains: []*apigwv1.UrlDomain{{Domain: gid + ".example.com"}}})
		for a := range perGroup {
			objs = append(objs, API(gid, a, 0))
		}
	}
	for _, o := range objs {
		model.Normalize(o)
	}
	return objs
}

// API returns the a-th generated API of a group; rev varies its backend
// path so that a test can change it.
func API(groupID string, a, rev int) *apigwv1.Api {
	id := fmt.Sprintf("%s-a%04d", groupID, a)
	api := &apigwv1.Api{
		Id: id, Name: "api_" + id, GroupId: groupID, ReqProtocol: model.ProtoBoth, ReqMethod: "GET",
		BackendApi: &apigwv1.BackendApi{
			UrlDomain: fmt.Sprintf("10.0.%d.%d:8080", a%50/250, a%50+1), ReqProtocol: model.ProtoHTTP,
			ReqUri: fmt.Sprintf("/backend/%s/r%d", id, rev),
		},
	}
	switch a % 3 {
	case 0:
		api.ReqUri = fmt.Sprintf("/v1/res%d", a)
	case 1:
		api.ReqUri = fmt.Sprintf("/v1/res%d/{id}", a)
		api.BackendApi.ReqUri += "/{id}"
	case 2:
		api.ReqUri = fmt.Sprintf("/v1/pre%d", a)
		api.MatchMode = model.MatchPrefix
	}
	if a%4 == 0 {
		api.AuthType = model.AuthApp
	}
	model.Normalize(api)
	return api
}

// Instance builds an instance from objects and publishes every API to
// RELEASE.
func Instance(name string, objs []proto.Message) (*model.Instance, error) {
	in := model.NewInstance(name, objs)
	var pubs []proto.Message
	for _, o := range objs {
		api, ok := o.(*apigwv1.Api)
		if !ok {
			continue
		}
		p, err := Publish(in, api.Id, 1)
		if err != nil {
			return nil, err
		}
		pubs = append(pubs, p...)
	}
	return in.With(pubs, nil), nil
}

// Publish returns the publication record (number n) and release of an API
// in RELEASE, as the admin API writes them.
func Publish(in *model.Instance, apiID string, n int) ([]proto.Message, error) {
	pubID := fmt.Sprintf("pub-%s-%d", apiID, n)
	pub, err := in.Publication(apiID, model.ReleaseEnvID, pubID, fmt.Sprint(n), "", PublishTime)
	if err != nil {
		return nil, err
	}
	return []proto.Message{pub, &apigwv1.Release{ApiId: apiID, EnvId: model.ReleaseEnvID, PublicationId: pubID}}, nil
}

// Change edits and republishes one API of an instance (the a-th of a
// group) with backend revision rev, returning the new instance view.
func Change(in *model.Instance, groupID string, a, rev int) (*model.Instance, error) {
	api := API(groupID, a, rev)
	next := in.With([]proto.Message{api}, nil)
	p, err := Publish(next, api.Id, rev+1)
	if err != nil {
		return nil, err
	}
	return next.With(p, nil), nil
}
