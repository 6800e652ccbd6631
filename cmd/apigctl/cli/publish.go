package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

type targetFlags struct {
	group string
	env   string
	all   bool
}

func (t *targetFlags) add(cmd *cobra.Command, allowAll bool) {
	cmd.Flags().StringVar(&t.group, "group", "", "API group of the APIs named (id or name); needed when API names repeat across groups.")
	cmd.Flags().StringVarP(&t.env, "env", "e", "RELEASE", "Environment (id or name).")
	if allowAll {
		cmd.Flags().BoolVar(&t.all, "all", false, "Every API of --group.")
	}
}

// apis returns the API references of the command: the arguments, or every
// API of the group with --all.
func (t *targetFlags) apis(ctx context.Context, g *globals, c adminv1.AdminServiceClient, args []string) ([]string, error) {
	if !t.all {
		if len(args) == 0 {
			return nil, usageError(fmt.Errorf("name at least one API, or use --all --group GROUP"))
		}
		return args, nil
	}
	if t.group == "" || len(args) > 0 {
		return nil, usageError(fmt.Errorf("--all needs --group and no API names"))
	}
	rs, err := listAll(ctx, g, c, "api", listFilter{group: t.group})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range rs {
		out = append(out, r.GetApi().GetId())
	}
	if len(out) == 0 {
		return nil, &exitError{code: ExitNotFound, err: fmt.Errorf("group %s has no APIs", t.group)}
	}
	return out, nil
}

func newPublishCmd(g *globals) *cobra.Command {
	var t targetFlags
	var version, remark string
	cmd := &cobra.Command{
		Use:   "publish API... [--env ENV] [--group GROUP] | --all --group GROUP",
		Short: "Publish APIs (their current definition) to an environment",
		Long: `Publish stores an immutable publication record of each API's current
definition in the environment (environment variables resolved) and makes it
the one served. Up to 10 records are kept per API and environment; see
'apigctl history' and 'apigctl rollback'.`,
		Example: `  apigctl publish get_pet --env TEST
  apigctl publish --all --group pets --version 1.2 --remark "pets v1.2"`,
		RunE: withAdmin(g, func(ctx context.Context, c adminv1.AdminServiceClient, cmd *cobra.Command, args []string) error {
			apis, err := t.apis(ctx, g, c, args)
			if err != nil {
				return err
			}
			for _, a := range apis {
				resp, err := c.Publish(ctx, &adminv1.PublishRequest{Instance: g.instance, ApiId: a, Group: t.group, EnvId: t.env, Version: version, Remark: remark})
				if err != nil {
					return fmt.Errorf("publish %s: %w", a, err)
				}
				p := resp.GetPublication()
				fmt.Fprintf(g.streams.Out, "api/%s published to %s (publication %s)\n", p.GetApi().GetName(), t.env, p.GetId())
			}
			return nil
		}),
	}
	t.add(cmd, true)
	cmd.Flags().StringVar(&version, "version", "", "Version label of the publication.")
	cmd.Flags().StringVar(&remark, "remark", "", "Remark of the publication.")
	return cmd
}

func newUnpublishCmd(g *globals) *cobra.Command {
	var t targetFlags
	cmd := &cobra.Command{
		Use:   "unpublish API... [--env ENV] [--group GROUP] | --all --group GROUP",
		Short: "Take APIs offline in an environment (bindings and records stay)",
		RunE: withAdmin(g, func(ctx context.Context, c adminv1.AdminServiceClient, cmd *cobra.Command, args []string) error {
			apis, err := t.apis(ctx, g, c, args)
			if err != nil {
				return err
			}
			for _, a := range apis {
				if _, err := c.Unpublish(ctx, &adminv1.UnpublishRequest{Instance: g.instance, ApiId: a, Group: t.group, EnvId: t.env}); err != nil {
					return fmt.Errorf("unpublish %s: %w", a, err)
				}
				fmt.Fprintf(g.streams.Out, "api/%s unpublished from %s\n", a, t.env)
			}
			return nil
		}),
	}
	t.add(cmd, true)
	return cmd
}

func newRollbackCmd(g *globals) *cobra.Command {
	var t targetFlags
	var to string
	cmd := &cobra.Command{
		Use:   "rollback API [--env ENV] [--to PUBLICATION]",
		Short: "Serve an earlier publication record of an API again",
		Long: `Rollback makes a retained publication record current again: the one given
with --to, or else the record published before the current one. For an API
that is offline in the environment, the default is the newest record: rolling
back publishes it again.`,
		Example: `  apigctl history get_pet --env RELEASE
  apigctl rollback get_pet --env RELEASE --to 3f2a...`,
		Args: cobra.ExactArgs(1),
		RunE: withAdmin(g, func(ctx context.Context, c adminv1.AdminServiceClient, cmd *cobra.Command, args []string) error {
			if to == "" {
				h, err := c.ListPublications(ctx, &adminv1.ListPublicationsRequest{Instance: g.instance, ApiId: args[0], Group: t.group, EnvId: t.env})
				if err != nil {
					return err
				}
				to = previous(h)
				if to == "" {
					return &exitError{code: ExitNotFound, err: fmt.Errorf("api %s has no earlier publication in %s", args[0], t.env)}
				}
			}
			resp, err := c.Rollback(ctx, &adminv1.RollbackRequest{Instance: g.instance, ApiId: args[0], Group: t.group, EnvId: t.env, PublicationId: to})
			if err != nil {
				return err
			}
			p := resp.GetPublication()
			fmt.Fprintf(g.streams.Out, "api/%s in %s rolled back to publication %s (%s)\n", args[0], t.env, p.GetId(), stamp(p))
			return nil
		}),
	}
	t.add(cmd, false)
	cmd.Flags().StringVar(&to, "to", "", "Publication id to serve (default: the one before the current).")
	return cmd
}

// previous returns the record published just before the current one.
func previous(h *adminv1.ListPublicationsResponse) string {
	cur := h.GetCurrentPublicationId()
	for i, p := range h.GetPublications() {
		if p.GetId() == cur && i+1 < len(h.GetPublications()) {
			return h.GetPublications()[i+1].GetId()
		}
	}
	if cur == "" && len(h.GetPublications()) > 0 {
		return h.GetPublications()[0].GetId()
	}
	return ""
}

func stamp(p *apigwv1.Publication) string {
	s := p.GetPublishTime().AsTime().UTC().Format(time.RFC3339)
	if p.GetVersion() != "" {
		s = "version " + p.GetVersion() + ", " + s
	}
	return s
}

func newHistoryCmd(g *globals) *cobra.Command {
	var t targetFlags
	var output string
	cmd := &cobra.Command{
		Use:   "history API [--env ENV]",
		Short: "List the publication records of an API in an environment",
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
			h, err := c.ListPublications(ctx, &adminv1.ListPublicationsRequest{Instance: g.instance, ApiId: args[0], Group: t.group, EnvId: t.env})
			if err != nil {
				return err
			}
			if output != outTable {
				return printMessage(g.streams.Out, output, h)
			}
			if len(h.GetPublications()) == 0 {
				fmt.Fprintf(g.streams.Out, "api/%s has never been published to %s.\n", args[0], t.env)
				return nil
			}
			var rows [][]string
			for _, p := range h.GetPublications() {
				cur := ""
				if p.GetId() == h.GetCurrentPublicationId() {
					cur = "*"
				}
				rows = append(rows, []string{cur, p.GetId(), p.GetVersion(), p.GetPublishTime().AsTime().UTC().Format(time.RFC3339), p.GetRemark()})
			}
			if h.GetCurrentPublicationId() == "" {
				fmt.Fprintf(g.streams.Out, "api/%s is offline in %s.\n", args[0], t.env)
			}
			return printTable(g.streams.Out, []string{"CURRENT", "PUBLICATION", "VERSION", "PUBLISHED", "REMARK"}, rows)
		}),
	}
	t.add(cmd, false)
	cmd.Flags().StringVarP(&output, "output", "o", outTable, "Output format: table, yaml or json.")
	return cmd
}
