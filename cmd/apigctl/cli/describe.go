package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/apigw/apigw/cmd/apigctl/manifest"
	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

func newDescribeCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "describe KIND NAME|ID",
		Short: "Show an object with its publications, bindings and related objects",
		Example: `  apigctl describe api get_pet
  apigctl describe app shop_client`,
		Args:              cobra.ExactArgs(2),
		ValidArgsFunction: completeKinds,
		RunE: run(g, func(cmd *cobra.Command, args []string) error {
			kind, err := kindName(args[0])
			if err != nil {
				return usageError(err)
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			ctx, cancel := g.ctx(cmd.Context())
			defer cancel()
			resp, err := c.Get(ctx, &adminv1.GetRequest{Instance: g.instance, Kind: kind, Id: args[1]})
			if err != nil {
				return err
			}
			w := g.streams.Out
			y, err := manifest.YAML(resp.GetResource())
			if err != nil {
				return err
			}
			w.Write(y)
			m, _ := model.Unwrap(resp.GetResource())
			d := describer{ctx: ctx, g: g, c: c, w: w}
			switch v := m.(type) {
			case *apigwv1.Api:
				return d.api(v)
			case *apigwv1.App:
				return d.bindings("Authorized APIs", model.KindAppAuth, listFilter{}, func(r *apigwv1.Resource) bool { return r.GetAppAuth().GetAppId() == v.Id })
			case *apigwv1.Throttle:
				return d.bindings("Bound APIs", model.KindThrottleBinding, listFilter{}, func(r *apigwv1.Resource) bool { return r.GetThrottleBinding().GetStrategyId() == v.Id })
			case *apigwv1.Acl:
				return d.bindings("Bound APIs", model.KindACLBinding, listFilter{}, func(r *apigwv1.Resource) bool { return r.GetAclBinding().GetAclId() == v.Id })
			case *apigwv1.SignatureKey:
				return d.bindings("Bound APIs", model.KindSignBinding, listFilter{}, func(r *apigwv1.Resource) bool { return r.GetSignatureBinding().GetSignId() == v.Id })
			case *apigwv1.Plugin:
				return d.bindings("Bound APIs", model.KindPluginBinding, listFilter{}, func(r *apigwv1.Resource) bool { return r.GetPluginBinding().GetPluginId() == v.Id })
			case *apigwv1.VpcChannel:
				return d.channelHealth(v)
			case *apigwv1.ApiGroup:
				rs, err := listAll(ctx, g, c, model.KindAPI, listFilter{group: v.Id})
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "\nAPIs (%d):\n", len(rs))
				return printResources(w, model.KindAPI, outTable, rs, true)
			}
			return nil
		}),
	}
	return cmd
}

type describer struct {
	ctx context.Context
	g   *globals
	c   adminv1.AdminServiceClient
	w   io.Writer
}

func (d describer) api(a *apigwv1.Api) error {
	envs, err := listAll(d.ctx, d.g, d.c, model.KindEnvironment, listFilter{})
	if err != nil {
		return err
	}
	var rows [][]string
	for _, e := range envs {
		h, err := d.c.ListPublications(d.ctx, &adminv1.ListPublicationsRequest{Instance: d.g.instance, ApiId: a.Id, EnvId: e.GetEnvironment().GetId()})
		if err != nil {
			return err
		}
		for _, p := range h.GetPublications() {
			if p.GetId() == h.GetCurrentPublicationId() {
				rows = append(rows, []string{e.GetEnvironment().GetName(), p.GetId(), p.GetVersion(), p.GetPublishTime().AsTime().UTC().Format(time.RFC3339), fmt.Sprint(len(h.GetPublications()))})
			}
		}
	}
	fmt.Fprintln(d.w, "\nPublished:")
	if len(rows) == 0 {
		fmt.Fprintln(d.w, "  (not published in any environment)")
	} else if err := printTable(d.w, []string{"ENV", "PUBLICATION", "VERSION", "PUBLISHED", "RECORDS"}, rows); err != nil {
		return err
	}
	for _, k := range []string{model.KindThrottleBinding, model.KindACLBinding, model.KindAppAuth, model.KindSignBinding, model.KindPluginBinding} {
		if err := d.bindings("Bindings ("+k+")", k, listFilter{api: a.Id}, nil); err != nil {
			return err
		}
	}
	return nil
}

func (d describer) bindings(title, kind string, f listFilter, keep func(*apigwv1.Resource) bool) error {
	rs, err := listAll(d.ctx, d.g, d.c, kind, f)
	if err != nil {
		return err
	}
	var out []*apigwv1.Resource
	for _, r := range rs {
		if keep == nil || keep(r) {
			out = append(out, r)
		}
	}
	fmt.Fprintf(d.w, "\n%s:\n", title)
	if len(out) == 0 {
		fmt.Fprintln(d.w, "  (none)")
		return nil
	}
	return printResources(d.w, kind, outTable, out, true)
}
