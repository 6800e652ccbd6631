package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

func newBindCmd(g *globals, bind bool) *cobra.Command {
	var apis []string
	var group, env string
	use, short := "bind", "Bind a throttling or ACL policy or a plug-in to APIs, or authorize an app, in an environment"
	if !bind {
		use, short = "unbind", "Remove policy bindings or app authorizations from APIs in an environment"
	}
	cmd := &cobra.Command{
		Use:   use + " throttle|acl|app|signature|plugin POLICY --api API [--api API...] [--env ENV]",
		Short: short,
		Example: fmt.Sprintf(`  apigctl %[1]s throttle rl_basic --api get_pet --api list_pets --env RELEASE
  apigctl %[1]s app shop_client --group pets --api get_pet
  apigctl %[1]s plugin cors_shop --group pets --api get_pet --env RELEASE`, use),
		Args: cobra.ExactArgs(2),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) == 0 {
				return []string{"throttle", "acl", "app", "signature", "plugin"}, cobra.ShellCompDirectiveNoFileComp
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: run(g, func(cmd *cobra.Command, args []string) error {
			kind, err := kindName(args[0])
			if err != nil || (kind != "throttle" && kind != "acl" && kind != "app" && kind != "signature" && kind != "plugin") {
				return usageError(fmt.Errorf("the policy kind is throttle, acl, app, signature or plugin (got %q)", args[0]))
			}
			if len(apis) == 0 {
				return usageError(fmt.Errorf("--api is required"))
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			ctx, cancel := g.ctx(cmd.Context())
			defer cancel()
			ids, err := resolveAPIs(ctx, g, c, group, apis)
			if err != nil {
				return err
			}
			if bind {
				resp, err := c.Bind(ctx, &adminv1.BindRequest{Instance: g.instance, PolicyKind: kind, PolicyId: args[1], EnvId: env, ApiIds: ids})
				if err != nil {
					return err
				}
				for _, r := range resp.GetResources() {
					fmt.Fprintf(g.streams.Out, "%s %s bound to api %s in %s\n", kind, args[1], apiOf(r), env)
				}
				return nil
			}
			resp, err := c.Unbind(ctx, &adminv1.UnbindRequest{Instance: g.instance, PolicyKind: kind, PolicyId: args[1], EnvId: env, ApiIds: ids})
			if err != nil {
				return err
			}
			fmt.Fprintf(g.streams.Out, "%d binding(s) of %s %s removed in %s\n", resp.GetRemoved(), kind, args[1], env)
			return nil
		}),
	}
	cmd.Flags().StringSliceVar(&apis, "api", nil, "API (id or name; repeatable or comma-separated).")
	cmd.Flags().StringVar(&group, "group", "", "API group of the APIs named (id or name).")
	cmd.Flags().StringVarP(&env, "env", "e", "RELEASE", "Environment (id or name).")
	return cmd
}
