package cli

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"

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

// apis returns the API references of the command (the arguments, or the
// ids of every API of the group with --all) and their names for messages.
func (t *targetFlags) apis(ctx context.Context, g *globals, c adminv1.AdminServiceClient, args []string) (refs, names []string, err error) {
	if !t.all {
		if len(args) == 0 {
			return nil, nil, usageError(fmt.Errorf("name at least one API, or use --all --group GROUP"))
		}
		return args, args, nil
	}
	if t.group == "" || len(args) > 0 {
		return nil, nil, usageError(fmt.Errorf("--all needs --group and no API names"))
	}
	rs, err := listAll(ctx, g, c, "api", listFilter{group: t.group})
	if err != nil {
		return nil, nil, err
	}
	for _, r := range rs {
		refs, names = append(refs, r.GetApi().GetId()), append(names, r.GetApi().GetName())
	}
	if len(refs) == 0 {
		return nil, nil, &exitError{code: ExitNotFound, err: fmt.Errorf("group %s has no APIs", t.group)}
	}
	return refs, names, nil
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
'apigctl history' and 'apigctl rollback'. The APIs named (or all of the
group) are published in one atomic change: all of them, or none when one
cannot be published.`,
		Example: `  apigctl publish get_pet --env TEST
  apigctl publish --all --group pets --version 1.2 --remark "pets v1.2"`,
		RunE: withAdmin(g, func(ctx context.Context, c adminv1.AdminServiceClient, cmd *cobra.Command, args []string) error {
			apis, names, err := t.apis(ctx, g, c, args)
			if err != nil {
				return err
			}
			req := &adminv1.PublishBatchRequest{Instance: g.instance}
			for _, a := range apis {
				req.Items = append(req.Items, &adminv1.PublishBatchItem{Action: adminv1.PublishAction_PUBLISH_ACTION_PUBLISH,
					ApiId: a, Group: t.group, EnvId: t.env, Version: version, Remark: remark})
			}
			resp, err := c.PublishBatch(ctx, req)
			if err != nil {
				return &exitError{code: classifyCode(err), err: fmt.Errorf("publish (nothing was published): %w", err), fields: itemFields(names)}
			}
			for _, r := range resp.GetResults() {
				fmt.Fprintf(g.streams.Out, "api/%s published to %s (publication %s)\n", r.GetApiName(), t.env, r.GetPublication().GetId())
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
		Long: `Unpublish takes the APIs named (or all of the group) offline in one atomic
change: all of them, or none when one is not published there.`,
		RunE: withAdmin(g, func(ctx context.Context, c adminv1.AdminServiceClient, cmd *cobra.Command, args []string) error {
			apis, names, err := t.apis(ctx, g, c, args)
			if err != nil {
				return err
			}
			req := &adminv1.PublishBatchRequest{Instance: g.instance}
			for _, a := range apis {
				req.Items = append(req.Items, &adminv1.PublishBatchItem{Action: adminv1.PublishAction_PUBLISH_ACTION_UNPUBLISH,
					ApiId: a, Group: t.group, EnvId: t.env})
			}
			resp, err := c.PublishBatch(ctx, req)
			if err != nil {
				return &exitError{code: classifyCode(err), err: fmt.Errorf("unpublish (nothing was unpublished): %w", err), fields: itemFields(names)}
			}
			for _, r := range resp.GetResults() {
				fmt.Fprintf(g.streams.Out, "api/%s unpublished from %s\n", r.GetApiName(), t.env)
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

var reItemIndex = regexp.MustCompile(`^items\[(\d+)\]`)

// itemFields rewrites the field paths of a batch's violations
// (items[i].backend_api...) to name the API of the item.
func itemFields(names []string) func(string) string {
	return func(f string) string {
		m := reItemIndex.FindStringSubmatch(f)
		if m == nil {
			return f
		}
		i, _ := strconv.Atoi(m[1])
		if i >= len(names) {
			return f
		}
		return "api " + names[i] + strings.Replace(f[len(m[0]):], ".", ": ", 1)
	}
}

// batchDetails renders why a batch failed: one line per violation, naming
// the API of the item, or the status message.
func batchDetails(err error, names []string) string {
	st, ok := status.FromError(err)
	if !ok {
		return "  " + err.Error()
	}
	var lines []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				lines = append(lines, "  "+itemFields(names)(v.GetField())+": "+v.GetDescription())
			}
		}
	}
	if len(lines) == 0 {
		return "  " + st.Message()
	}
	return strings.Join(lines, "\n")
}
