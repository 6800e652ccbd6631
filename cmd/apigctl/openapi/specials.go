package openapi

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// KeepSpecialIDs gives the specials of a throttle without ids the ids of
// the stored throttle's specials for the same object, so that applying an
// unchanged definition reports "unchanged" (the admin API generates an id
// for every special without one).
func KeepSpecialIDs(ctx context.Context, c adminv1.AdminServiceClient, instance string, t *apigwv1.Throttle) error {
	if len(t.Specials) == 0 {
		return nil
	}
	ref := t.Id
	if ref == "" {
		ref = t.Name
	}
	resp, err := c.Get(ctx, &adminv1.GetRequest{Instance: instance, Kind: model.KindThrottle, Id: ref})
	if status.Code(err) == codes.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	stored := map[string]string{}
	for _, s := range resp.GetResource().GetThrottle().GetSpecials() {
		stored[s.ObjectType+"/"+s.ObjectId] = s.Id
	}
	for _, s := range t.Specials {
		if s.Id == "" {
			s.Id = stored[s.ObjectType+"/"+s.ObjectId]
		}
	}
	return nil
}
