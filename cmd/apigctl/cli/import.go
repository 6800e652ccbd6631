package cli

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/apigw/apigw/cmd/apigctl/openapi"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

func newImportCmd(g *globals) *cobra.Command {
	var file, group, env, conflict string
	var newGroup, dryRun, publish bool
	var output string
	cmd := &cobra.Command{
		Use:   "import -f FILE [--group NAME] [--env ENV] [--publish]",
		Short: "Import a Swagger 2.0 or OpenAPI 3.0/3.1 file with x-apigateway-* extensions",
		Long: `Import creates the group, APIs, backends, policy backends, throttling and
access-control policies, custom authorizers and gateway responses that an
OpenAPI document with Huawei APIG extensions describes, and binds the
policies to the APIs in --env, all in one atomic change.

The group is --group, or else the document's info.title. An existing group is
merged into: APIs with the same method, path and match mode (or the same
name) and policies with the same name are conflicts when their definitions
differ; --conflict says what to do: fail (default: change nothing), skip
(keep the stored ones) or overwrite. Unknown x-apigateway-* extensions are
warned about; invalid ones are refused with the JSON pointer of the node.
Imported APIs are not published unless --publish is given; then all of
them are published in one atomic change after the import.`,
		Example: `  apigctl import -f shop.yaml
  apigctl import -f export.json --group shop --conflict overwrite --env TEST --publish
  apigctl import -f shop.yaml --dry-run
  apigctl import -f shop.yaml -o yaml > shop-defs.yaml   # convert to apply documents`,
		Args: cobra.NoArgs,
		RunE: run(g, func(cmd *cobra.Command, _ []string) error {
			switch conflict {
			case openapi.ConflictFail, openapi.ConflictSkip, openapi.ConflictOverwrite:
			default:
				return usageError(fmt.Errorf("--conflict must be fail, skip or overwrite"))
			}
			if file == "" {
				return usageError(fmt.Errorf("-f is required"))
			}
			data, err := readInput(file, g.streams.In)
			if err != nil {
				return &exitError{code: ExitInvalid, err: err}
			}
			plan, ps, err := openapi.Convert(data)
			if err != nil {
				return &exitError{code: ExitInvalid, err: fmt.Errorf("%s: %w; nothing was imported", file, err)}
			}
			for _, w := range ps.Warnings {
				fmt.Fprintf(g.streams.Err, "warning: %s\n", w)
			}
			if len(ps.Errors) > 0 {
				return &exitError{code: ExitInvalid, err: &openapi.InvalidError{File: file, Problems: ps.Errors}}
			}
			if output != "" { // convert only
				if err := checkOutput(output, outYAML, outJSON); err != nil {
					return usageError(err)
				}
				return printResources(g.streams.Out, "", output, plan.Resources(group, env), true)
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			ctx, cancel := g.ctx(cmd.Context())
			defer cancel()
			res, err := openapi.Import(ctx, c, plan, openapi.ImportOptions{Instance: g.instance, Group: group, NewGroup: newGroup,
				Env: env, Conflict: conflict, DryRun: dryRun})
			var ae *openapi.ApplyError
			var ce *openapi.ConflictError
			switch {
			case errors.As(err, &ae):
				return &exitError{code: classifyCode(ae.Err), err: ae.Err, fields: ae.Field}
			case errors.As(err, &ce):
				return &exitError{code: ExitConflict, err: fmt.Errorf("%w; nothing was imported", ce)}
			case err != nil:
				return err
			}
			for _, w := range res.Warnings {
				fmt.Fprintf(g.streams.Err, "warning: %s\n", w)
			}
			w := g.streams.Out
			if dryRun {
				if err := printDiffs(ctx, g, c, res.Results, w); err != nil {
					return err
				}
			}
			suffix := ""
			if dryRun {
				suffix = " (dry run)"
			}
			for _, r := range res.Results {
				fmt.Fprintf(w, "%s/%s %s%s\n", r.GetKind(), refName(r), r.GetAction(), suffix)
			}
			for _, s := range res.Skipped {
				fmt.Fprintf(w, "%s skipped (kept as stored)%s\n", s, suffix)
			}
			if !publish || dryRun {
				return nil
			}
			if len(res.APIIDs) == 0 {
				return nil
			}
			names := map[string]string{}
			for _, r := range res.Results {
				names[r.GetId()] = r.GetName()
			}
			req := &adminv1.PublishBatchRequest{Instance: g.instance}
			var labels []string
			for _, id := range res.APIIDs {
				req.Items = append(req.Items, &adminv1.PublishBatchItem{Action: adminv1.PublishAction_PUBLISH_ACTION_PUBLISH, ApiId: id, EnvId: env})
				labels = append(labels, cmp.Or(names[id], id))
			}
			pub, err := c.PublishBatch(ctx, req)
			if err != nil {
				return &exitError{code: classifyCode(err), err: fmt.Errorf("imported, but publishing to %s failed; none of the APIs was published:\n%s", env, batchDetails(err, labels))}
			}
			for _, r := range pub.GetResults() {
				fmt.Fprintf(w, "api/%s published to %s\n", r.GetApiName(), env)
			}
			return nil
		}),
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", "OpenAPI file (YAML or JSON), or - for standard input.")
	cmd.Flags().StringVar(&group, "group", "", "Group to import into (default: info.title).")
	cmd.Flags().BoolVar(&newGroup, "new-group", false, "Fail if the group exists (do not merge).")
	cmd.Flags().StringVarP(&env, "env", "e", "RELEASE", "Environment of the policy bindings (and of --publish).")
	cmd.Flags().StringVar(&conflict, "conflict", openapi.ConflictFail, "What to do with stored objects defined differently: fail, skip or overwrite.")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "Print the diff against what is stored; change nothing.")
	cmd.Flags().BoolVar(&publish, "publish", false, "Publish the imported APIs to --env.")
	cmd.Flags().StringVarP(&output, "output", "o", "", "Do not import: print the definitions as apply documents (yaml or json).")
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml", "json")
	return cmd
}

func readInput(file string, in io.Reader) ([]byte, error) {
	if file == "-" {
		return io.ReadAll(in)
	}
	return os.ReadFile(file)
}
