package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

// buildVersion reports the module version and VCS revision apigctl was
// built from.
func buildVersion() (version, revision string) {
	version, revision = "(devel)", ""
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	if bi.Main.Version != "" {
		version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			revision = s.Value
		}
	}
	return
}

func newVersionCmd(g *globals) *cobra.Command {
	var clientOnly bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the apigctl version and the admin API it reaches",
		Args:  cobra.NoArgs,
		RunE: run(g, func(cmd *cobra.Command, _ []string) error {
			v, rev := buildVersion()
			w := g.streams.Out
			fmt.Fprintf(w, "Client: apigctl %s", v)
			if rev != "" {
				fmt.Fprintf(w, " (%s)", rev)
			}
			fmt.Fprintf(w, " %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
			if clientOnly {
				return nil
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			ctx, cancel := g.ctx(cmd.Context())
			defer cancel()
			st, err := c.GetStatus(ctx, &adminv1.GetStatusRequest{Instance: g.instance})
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "Server: %s (instance %s, etcd revision %d)\n", g.server, g.instance, st.GetRevision())
			return nil
		}),
	}
	cmd.Flags().BoolVar(&clientOnly, "client", false, "Only the client version; do not contact the server.")
	return cmd
}
