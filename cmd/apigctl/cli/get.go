package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/apigw/apigw/cmd/apigctl/manifest"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

type listFilter struct {
	group, env, api, name, tag string
}

func (f *listFilter) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.group, "group", "", "Only objects of this API group (id or name).")
	cmd.Flags().StringVar(&f.env, "env", "", "Only bindings and variables of this environment (id or name).")
	cmd.Flags().StringVar(&f.api, "api", "", "Only bindings of this API (id or name).")
	cmd.Flags().StringVar(&f.name, "name", "", "Only objects whose name contains this text.")
	cmd.Flags().StringVar(&f.tag, "tag", "", "Only APIs with this tag.")
}

func newGetCmd(g *globals) *cobra.Command {
	var f listFilter
	var output string
	var clean bool
	cmd := &cobra.Command{
		Use:   "get KIND [NAME|ID ...]",
		Short: "List objects of a kind, or show some by name or id",
		Long: `Get lists the objects of a kind (api, group, environment, env_variable,
vpc_channel, throttle, acl, app, app_quota, authorizer, response, certificate,
throttle_binding, acl_binding, app_auth, signature, signature_binding,
plugin, plugin_binding, orchestration, instance; plurals work too) or shows
the named ones. "get all" lists every kind of the instance, or with --group
the group, its APIs, variables and response sets and the bindings and
authorizations of its APIs (one table per kind). -o yaml prints documents that apply -f accepts; secrets are
never shown.`,
		Example: `  apigctl get apis --group pets
  apigctl get all --group pets
  apigctl get api get_pet -o yaml
  apigctl get throttle_bindings --env RELEASE --api get_pet`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeKinds,
		RunE: run(g, func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, outTable, outWide, outYAML, outJSON, outName); err != nil {
				return usageError(err)
			}
			if args[0] == kindAll {
				if len(args) > 1 {
					return usageError(fmt.Errorf("get all takes no names"))
				}
				c, err := g.client()
				if err != nil {
					return err
				}
				ctx, cancel := g.ctx(cmd.Context())
				defer cancel()
				secs, err := getAll(ctx, g, c, f)
				if err != nil {
					return err
				}
				return printSections(g.streams.Out, output, clean, secs)
			}
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
			var rs []*apigwv1.Resource
			if len(args) > 1 {
				for _, id := range args[1:] {
					resp, err := c.Get(ctx, &adminv1.GetRequest{Instance: g.instance, Kind: kind, Id: id})
					if err != nil {
						return err
					}
					rs = append(rs, resp.GetResource())
				}
			} else if rs, err = listAll(ctx, g, c, kind, f); err != nil {
				return err
			}
			if clean {
				for i := range rs {
					rs[i] = manifest.Clean(rs[i])
				}
			}
			return printResources(g.streams.Out, kind, output, rs, len(args) != 2)
		}),
	}
	f.add(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", outTable, "Output format: table, yaml, json or name.")
	cmd.Flags().BoolVar(&clean, "export", false, "Leave out meta and output-only fields (documents to keep in Git).")
	return cmd
}

// listAll lists every object of a kind, following pages.
func listAll(ctx context.Context, g *globals, c adminv1.AdminServiceClient, kind string, f listFilter) ([]*apigwv1.Resource, error) {
	var out []*apigwv1.Resource
	token := ""
	for {
		resp, err := c.List(ctx, &adminv1.ListRequest{Instance: g.instance, Kind: kind, GroupId: f.group, EnvId: f.env, ApiId: f.api,
			Name: f.name, Tag: f.tag, PageSize: 1000, PageToken: token})
		if err != nil {
			return nil, err
		}
		out = append(out, resp.GetResources()...)
		token = resp.GetNextPageToken()
		if token == "" {
			return out, nil
		}
	}
}
