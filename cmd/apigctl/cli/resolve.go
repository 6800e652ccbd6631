package cli

import (
	"context"
	"fmt"

	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// resolveAPIs turns API names into ids within a group (API names are only
// unique per group). Without a group the references are passed on as is.
func resolveAPIs(ctx context.Context, g *globals, c adminv1.AdminServiceClient, group string, refs []string) ([]string, error) {
	if group == "" {
		return refs, nil
	}
	rs, err := listAll(ctx, g, c, model.KindAPI, listFilter{group: group})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ref := range refs {
		id := ""
		for _, r := range rs {
			if a := r.GetApi(); a.GetId() == ref || a.GetName() == ref {
				id = a.GetId()
			}
		}
		if id == "" {
			return nil, &exitError{code: ExitNotFound, err: fmt.Errorf("api %q is not in group %q", ref, group)}
		}
		out = append(out, id)
	}
	return out, nil
}

func apiOf(r *apigwv1.Resource) string {
	switch {
	case r.GetThrottleBinding() != nil:
		return r.GetThrottleBinding().GetApiId()
	case r.GetAclBinding() != nil:
		return r.GetAclBinding().GetApiId()
	case r.GetAppAuth() != nil:
		return r.GetAppAuth().GetApiId()
	case r.GetSignatureBinding() != nil:
		return r.GetSignatureBinding().GetApiId()
	case r.GetPluginBinding() != nil:
		return r.GetPluginBinding().GetApiId()
	}
	return ""
}
