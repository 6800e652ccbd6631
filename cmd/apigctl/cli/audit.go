package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

func newAuditCmd(g *globals) *cobra.Command {
	var output, caller, op, kind, object string
	var since time.Duration
	var limit int32
	cmd := &cobra.Command{
		Use:   "audit [OBJECT]",
		Short: "Show who changed what, when, at which etcd revision",
		Long: `Audit lists the recorded changes of the instance, newest first: every
admin write that committed (create, update, delete, apply, publish,
unpublish, rollback, publish_batch — what apigctl publish, unpublish and
import send —, bind, unbind, reset_app_secret) with its caller, the
etcd revision of the change and the fields each object's update changed
(never their values), and writes made straight into etcd (caller "etcd").
OBJECT (an id or a name) keeps the changes of that object.`,
		Args: cobra.MaximumNArgs(1),
		RunE: run(g, func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, outTable, outYAML, outJSON); err != nil {
				return usageError(err)
			}
			if len(args) == 1 {
				object = args[0]
			}
			req := &adminv1.ListAuditEventsRequest{Instance: g.instance, Caller: caller, Operation: op, Kind: kind, Object: object, Limit: limit}
			if since > 0 {
				req.Since = timestamppb.New(time.Now().Add(-since))
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			ctx, cancel := g.ctx(cmd.Context())
			defer cancel()
			resp, err := c.ListAuditEvents(ctx, req)
			if err != nil {
				return err
			}
			if output != outTable {
				return printMessage(g.streams.Out, output, resp)
			}
			var rows [][]string
			for _, ev := range resp.GetEvents() {
				var objs []string
				for _, o := range ev.GetObjects() {
					s := o.GetAction() + " " + o.GetKind() + " " + label(o)
					if len(o.GetChangedFields()) > 0 {
						s += " (" + strings.Join(o.GetChangedFields(), ", ") + ")"
					}
					objs = append(objs, s)
				}
				rows = append(rows, []string{ev.GetTime().AsTime().UTC().Format(time.RFC3339), strconv.FormatInt(ev.GetRevision(), 10),
					ev.GetCaller(), ev.GetOperation(), strings.Join(objs, "; ")})
			}
			if len(rows) == 0 {
				fmt.Fprintln(g.streams.Out, "No audit events.")
				return nil
			}
			return printTable(g.streams.Out, []string{"TIME", "REVISION", "CALLER", "OPERATION", "CHANGES"}, rows)
		}),
	}
	cmd.Flags().StringVarP(&output, "output", "o", outTable, "Output format: table, yaml or json.")
	cmd.Flags().DurationVar(&since, "since", 0, "Only events of the last duration (e.g. 24h).")
	cmd.Flags().StringVar(&caller, "caller", "", "Only events of this caller (token, cert:<identity>, etcd, ...).")
	cmd.Flags().StringVar(&op, "operation", "", "Only this operation (create, update, publish, ..., etcd).")
	cmd.Flags().StringVar(&kind, "kind", "", "Only events that wrote an object of this kind.")
	cmd.Flags().Int32VarP(&limit, "limit", "n", 50, "Number of events (newest first, at most 10000).")
	return cmd
}

func label(o *adminv1.AuditObject) string {
	if o.GetName() != "" && o.GetName() != o.GetId() {
		return o.GetName() + " [" + o.GetId() + "]"
	}
	return o.GetId()
}
