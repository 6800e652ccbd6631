package cli

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/apigw/apigw/cmd/apigctl/openapi"
)

func newExportCmd(g *globals) *cobra.Command {
	var opt openapi.ExportOptions
	var output, file string
	cmd := &cobra.Command{
		Use:   "export --group GROUP [--env ENV] [--api API...] [--oas 2.0|3.0] [-o yaml|json]",
		Short: "Export a group's APIs as Swagger 2.0 or OpenAPI 3.0 with x-apigateway-* extensions",
		Long: `Export writes the APIs of a group as published in an environment (or their
current definitions with --draft), with their backends, policy backends,
bound throttling and access-control policies, custom authorizers and the
group's gateway responses, as Huawei APIG extensions. Importing the result
and exporting again gives the same document.`,
		Example: `  apigctl export --group shop > shop.yaml
  apigctl export --group shop --env TEST --oas 3.0 -o json --api getOrder`,
		Args: cobra.NoArgs,
		RunE: run(g, func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, outYAML, outJSON); err != nil {
				return usageError(err)
			}
			if opt.Format != openapi.Swagger2 && opt.Format != openapi.OpenAPI3 {
				return usageError(errorf("--oas must be 2.0 or 3.0"))
			}
			if opt.Group == "" {
				return usageError(errorf("--group is required"))
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			ctx, cancel := g.ctx(cmd.Context())
			defer cancel()
			opt.Instance, opt.JSON = g.instance, output == outJSON
			out, err := openapi.Export(ctx, c, opt)
			if err != nil {
				return err
			}
			if file != "" {
				return os.WriteFile(file, out, 0o644)
			}
			_, err = g.streams.Out.Write(out)
			return err
		}),
	}
	cmd.Flags().StringVar(&opt.Group, "group", "", "Group to export (id or name).")
	cmd.Flags().StringVarP(&opt.Env, "env", "e", "RELEASE", "Environment whose published APIs and bindings are exported.")
	cmd.Flags().BoolVar(&opt.Draft, "draft", false, "Export the current definitions, published or not.")
	cmd.Flags().StringSliceVar(&opt.APIs, "api", nil, "Only these APIs (ids or names; repeatable).")
	cmd.Flags().StringVar(&opt.Format, "oas", openapi.Swagger2, "Output version: 2.0 (Swagger) or 3.0 (OpenAPI).")
	cmd.Flags().StringVar(&opt.Version, "version", "", "info.version of the document (default 1.0).")
	cmd.Flags().StringVarP(&output, "output", "o", outYAML, "yaml or json.")
	cmd.Flags().StringVar(&file, "file", "", "Write to this file instead of standard output.")
	return cmd
}
