package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

func newStatusCmd(g *globals) *cobra.Command {
	var output string
	var check bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show which Envoy nodes run which revision, what they rejected and invalid objects",
		Long: `Status shows the etcd revision apigw serves, the Envoy nodes of the
instance with the configuration version each acknowledged and its last
rejection (NACK), the APIs the data plane had to leave out, and objects in
etcd that are invalid (written around the admin API). With --check the exit
code is 1 when there is any problem.`,
		Args: cobra.NoArgs,
		RunE: run(g, func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, outTable, outYAML, outJSON); err != nil {
				return usageError(err)
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
			if output != outTable {
				if err := printMessage(g.streams.Out, output, st); err != nil {
					return err
				}
			} else if err := printStatus(g, st); err != nil {
				return err
			}
			if check && problems(st) > 0 {
				return &exitError{code: ExitError, err: fmt.Errorf("%d problem(s)", problems(st))}
			}
			return nil
		}),
	}
	cmd.Flags().StringVarP(&output, "output", "o", outTable, "Output format: table, yaml or json.")
	cmd.Flags().BoolVar(&check, "check", false, "Exit with 1 when there are invalid objects, API problems or NACKs.")
	return cmd
}

func problems(st *adminv1.GetStatusResponse) int {
	n := len(st.GetInvalidObjects()) + len(st.GetApiProblems())
	for _, nd := range st.GetNodes() {
		if nd.GetLastNack() != "" {
			n++
		}
	}
	return n
}

func printStatus(g *globals, st *adminv1.GetStatusResponse) error {
	w := g.streams.Out
	fmt.Fprintf(w, "Instance:  %s\nServer:    %s\nRevision:  %d\n", g.instance, g.server, st.GetRevision())
	fmt.Fprintf(w, "\nEnvoy nodes (%d):\n", len(st.GetNodes()))
	if len(st.GetNodes()) > 0 {
		var rows [][]string
		for _, n := range st.GetNodes() {
			seen := ""
			if n.GetLastSeen() != nil {
				seen = n.GetLastSeen().AsTime().UTC().Format(time.RFC3339)
			}
			rows = append(rows, []string{n.GetNodeId(), n.GetCluster(), shortType(n.GetTypeUrl()), n.GetAckedVersion(), n.GetLastNack(), seen})
		}
		if err := printTable(w, []string{"NODE", "CLUSTER", "TYPE", "ACKED VERSION", "LAST NACK", "LAST SEEN"}, rows); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\nAPI problems (%d):\n", len(st.GetApiProblems()))
	if len(st.GetApiProblems()) > 0 {
		var rows [][]string
		for _, p := range st.GetApiProblems() {
			rows = append(rows, []string{p.GetApiId(), p.GetEnvId(), p.GetReason()})
		}
		if err := printTable(w, []string{"API", "ENV", "REASON"}, rows); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\nInvalid objects in etcd (%d):\n", len(st.GetInvalidObjects()))
	if len(st.GetInvalidObjects()) > 0 {
		var rows [][]string
		for _, o := range st.GetInvalidObjects() {
			inForce := "no"
			if o.GetInForce() {
				inForce = "yes (earlier version served)"
			}
			rows = append(rows, []string{o.GetKey(), fmt.Sprint(o.GetModRevision()), o.GetReason(), inForce})
		}
		return printTable(w, []string{"KEY", "MOD REVISION", "REASON", "IN FORCE"}, rows)
	}
	return nil
}

func shortType(url string) string {
	for i := len(url) - 1; i >= 0; i-- {
		if url[i] == '.' {
			return url[i+1:]
		}
	}
	return url
}
