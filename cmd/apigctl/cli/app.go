package cli

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

func newAppCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "app",
		Short: "Manage apps (credentials): create, reset the secret, AppCodes",
		Long: `Apps are the credentials of APP authentication. The app secret and AppCodes
are shown only when they are created or reset; store them then.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newAppCreateCmd(g), newAppResetCmd(g), newAppCodeCmd(g))
	return cmd
}

func newAppCreateCmd(g *globals) *cobra.Command {
	var key, secret, remark, output string
	var codes int
	cmd := &cobra.Command{
		Use:     "create NAME",
		Short:   "Create an app; prints its key and secret (shown only now)",
		Example: `  apigctl app create shop_client --appcodes 1`,
		Args:    cobra.ExactArgs(1),
		RunE: run(g, func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, outTable, outYAML, outJSON); err != nil {
				return usageError(err)
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			ctx, cancel := g.ctx(cmd.Context())
			defer cancel()
			app := &apigwv1.App{Name: args[0], AppKey: key, AppSecret: secret, Remark: remark}
			for range codes {
				app.AppCodes = append(app.AppCodes, &apigwv1.AppCode{})
			}
			resp, err := c.Create(ctx, &adminv1.CreateRequest{Instance: g.instance, Resource: model.Wrap(app)})
			if err != nil {
				return err
			}
			return printCredentials(g, output, resp.GetResource())
		}),
	}
	cmd.Flags().StringVar(&key, "app-key", "", "App key (generated when empty).")
	cmd.Flags().StringVar(&secret, "app-secret", "", "App secret (generated when empty).")
	cmd.Flags().StringVar(&remark, "remark", "", "Remark.")
	cmd.Flags().IntVar(&codes, "appcodes", 0, "Number of AppCodes to generate.")
	cmd.Flags().StringVarP(&output, "output", "o", outTable, "Output format: table, yaml or json.")
	return cmd
}

func printCredentials(g *globals, output string, r *apigwv1.Resource) error {
	if output != outTable {
		return printResources(g.streams.Out, model.KindApp, output, []*apigwv1.Resource{r}, false)
	}
	a := r.GetApp()
	w := g.streams.Out
	fmt.Fprintf(w, "app/%s\nID:         %s\nAPP KEY:    %s\n", a.GetName(), a.GetId(), a.GetAppKey())
	if a.GetAppSecret() != "" {
		fmt.Fprintf(w, "APP SECRET: %s\n", a.GetAppSecret())
	}
	for _, c := range a.GetAppCodes() {
		if c.GetAppCode() != "" {
			fmt.Fprintf(w, "APPCODE:    %s  (id %s)\n", c.GetAppCode(), c.GetId())
		}
	}
	fmt.Fprintln(w, "Store the secret and AppCodes now: they are not shown again.")
	return nil
}

func newAppResetCmd(g *globals) *cobra.Command {
	var secret, output string
	cmd := &cobra.Command{
		Use:   "reset-secret APP",
		Short: "Set a new app secret (generated unless given); prints it",
		Args:  cobra.ExactArgs(1),
		RunE: run(g, func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, outTable, outYAML, outJSON); err != nil {
				return usageError(err)
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			ctx, cancel := g.ctx(cmd.Context())
			defer cancel()
			resp, err := c.ResetAppSecret(ctx, &adminv1.ResetAppSecretRequest{Instance: g.instance, AppId: args[0], AppSecret: secret})
			if err != nil {
				return err
			}
			return printCredentials(g, output, model.Wrap(resp.GetApp()))
		}),
	}
	cmd.Flags().StringVar(&secret, "app-secret", "", "New secret (generated when empty).")
	cmd.Flags().StringVarP(&output, "output", "o", outTable, "Output format: table, yaml or json.")
	return cmd
}

func newAppCodeCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "appcode",
		Short: "Manage the AppCodes of an app (simple authentication, X-Apig-AppCode)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	var code string
	add := &cobra.Command{
		Use:   "add APP",
		Short: "Add an AppCode (generated unless --code); prints it once",
		Args:  cobra.ExactArgs(1),
		RunE: run(g, func(cmd *cobra.Command, args []string) error {
			return editApp(cmd, g, args[0], func(a *apigwv1.App) error {
				a.AppCodes = append(a.AppCodes, &apigwv1.AppCode{AppCode: code})
				return nil
			}, func(before, after *apigwv1.App) {
				for _, c := range after.GetAppCodes() {
					if c.GetAppCode() != "" {
						fmt.Fprintf(g.streams.Out, "appcode %s added to app %s:\n%s\n", c.GetId(), after.GetName(), c.GetAppCode())
					}
				}
			})
		}),
	}
	add.Flags().StringVar(&code, "code", "", "The AppCode (64-180 characters; generated when empty).")
	list := &cobra.Command{
		Use:   "list APP",
		Short: "List the AppCodes of an app (ids and creation times; codes are secret)",
		Args:  cobra.ExactArgs(1),
		RunE: withAdmin(g, func(ctx context.Context, c adminv1.AdminServiceClient, cmd *cobra.Command, args []string) error {
			resp, err := c.Get(ctx, &adminv1.GetRequest{Instance: g.instance, Kind: model.KindApp, Id: args[0]})
			if err != nil {
				return err
			}
			var rows [][]string
			for _, ac := range resp.GetResource().GetApp().GetAppCodes() {
				created := ""
				if ac.GetCreateTime().GetSeconds() > 0 {
					created = ac.GetCreateTime().AsTime().UTC().Format(time.RFC3339)
				}
				rows = append(rows, []string{ac.GetId(), created})
			}
			return printTable(g.streams.Out, []string{"ID", "CREATED"}, rows)
		}),
	}
	del := &cobra.Command{
		Use:   "delete APP APPCODE_ID...",
		Short: "Delete AppCodes of an app by id",
		Args:  cobra.MinimumNArgs(2),
		RunE: run(g, func(cmd *cobra.Command, args []string) error {
			return editApp(cmd, g, args[0], func(a *apigwv1.App) error {
				for _, id := range args[1:] {
					i := slices.IndexFunc(a.AppCodes, func(c *apigwv1.AppCode) bool { return c.GetId() == id })
					if i < 0 {
						return &exitError{code: ExitNotFound, err: fmt.Errorf("app %s has no AppCode %s", a.GetName(), id)}
					}
					a.AppCodes = slices.Delete(a.AppCodes, i, i+1)
				}
				return nil
			}, func(_, after *apigwv1.App) {
				fmt.Fprintf(g.streams.Out, "%d AppCode(s) deleted from app %s\n", len(args)-1, after.GetName())
			})
		}),
	}
	cmd.AddCommand(add, list, del)
	return cmd
}

// editApp reads an app, changes it and writes it back guarded by its
// resource_version (secrets left blank keep their stored values).
func editApp(cmd *cobra.Command, g *globals, ref string, edit func(*apigwv1.App) error, done func(before, after *apigwv1.App)) error {
	c, err := g.client()
	if err != nil {
		return err
	}
	ctx, cancel := g.ctx(cmd.Context())
	defer cancel()
	resp, err := c.Get(ctx, &adminv1.GetRequest{Instance: g.instance, Kind: model.KindApp, Id: ref})
	if err != nil {
		return err
	}
	before := resp.GetResource().GetApp()
	app := proto.Clone(before).(*apigwv1.App)
	if err := edit(app); err != nil {
		return err
	}
	up, err := c.Update(ctx, &adminv1.UpdateRequest{Instance: g.instance, Resource: model.Wrap(app)})
	if err != nil {
		return err
	}
	done(before, up.GetResource().GetApp())
	return nil
}
