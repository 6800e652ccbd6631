package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

func newDeleteCmd(g *globals) *cobra.Command {
	var ff fileFlags
	var dryRun, ignoreMissing bool
	cmd := &cobra.Command{
		Use:   "delete (KIND NAME|ID ... | -f FILE)",
		Short: "Delete objects by name or id, or those described by files (atomically)",
		Long: `Delete removes objects. With -f, every object described by the documents is
removed in one atomic change (nothing is removed if one cannot be). Objects
still referenced (a policy bound to an API, a group with APIs) are refused
and the referrers are listed.`,
		Example: `  apigctl delete api get_pet
  apigctl delete -f pets.yaml --dry-run`,
		ValidArgsFunction: completeKinds,
		RunE: withAdmin(g, func(ctx context.Context, c adminv1.AdminServiceClient, cmd *cobra.Command, args []string) error {
			req := &adminv1.ApplyRequest{Instance: g.instance, DryRun: dryRun}
			switch {
			case len(ff.files) > 0 && len(args) > 0:
				return usageError(fmt.Errorf("give either KIND NAME... or -f, not both"))
			case len(ff.files) > 0:
				docs, err := ff.read(g.streams.In)
				if err != nil {
					return err
				}
				probe := &adminv1.ApplyRequest{Instance: g.instance, DryRun: true}
				for _, d := range docs {
					probe.Resources = append(probe.Resources, d.Resource)
				}
				found, err := c.Apply(ctx, probe) // matches each document to its stored object
				if err != nil {
					return &exitError{code: classifyCode(err), err: err, fields: docFields(docs)}
				}
				res := found.GetResults()
				for i := len(res) - 1; i >= 0; i-- { // dependents first
					r := res[i]
					if r.GetAction() == "created" {
						if ignoreMissing {
							continue
						}
						return &exitError{code: ExitNotFound, err: fmt.Errorf("%s: %s/%s does not exist", docs[i].Source, r.GetKind(), refName(r))}
					}
					req.Deletes = append(req.Deletes, &adminv1.ObjectRef{Kind: r.GetKind(), Id: r.GetId()})
				}
			case len(args) >= 2:
				kind, err := kindName(args[0])
				if err != nil {
					return usageError(err)
				}
				for _, id := range args[1:] {
					req.Deletes = append(req.Deletes, &adminv1.ObjectRef{Kind: kind, Id: id})
				}
			default:
				return usageError(fmt.Errorf("give KIND and at least one NAME or ID, or -f"))
			}
			if len(req.Deletes) == 0 {
				fmt.Fprintln(g.streams.Out, "Nothing to delete.")
				return nil
			}
			resp, err := c.Apply(ctx, req)
			if err != nil {
				return err
			}
			suffix := ""
			if dryRun {
				suffix = " (dry run)"
			}
			for _, r := range resp.GetResults() {
				fmt.Fprintf(g.streams.Out, "%s/%s deleted%s\n", r.GetKind(), refName(r), suffix)
			}
			return nil
		}),
	}
	ff.add(cmd, "Definitions to delete")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "Check and report what would be deleted; change nothing.")
	cmd.Flags().BoolVar(&ignoreMissing, "ignore-not-found", false, "With -f, skip objects that do not exist.")
	return cmd
}
