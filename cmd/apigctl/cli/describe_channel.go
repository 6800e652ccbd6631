package cli

import (
	"fmt"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// channelHealth prints how the channel's members answered the Envoys
// (GetChannelHealth); an apigw without the accesslog component says so.
func (d describer) channelHealth(ch *apigwv1.VpcChannel) error {
	resp, err := d.c.GetChannelHealth(d.ctx, &adminv1.GetChannelHealthRequest{Instance: d.g.instance, Channel: ch.Id})
	if status.Code(err) == codes.FailedPrecondition {
		fmt.Fprintf(d.w, "\nMember health: %s\n", status.Convert(err).Message())
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(d.w, "\nMember health (last %s, from the access logs of %d Envoy streams):\n", resp.GetWindow(), resp.GetStreams())
	var rows [][]string
	for _, m := range resp.GetMembers() {
		member := "member"
		switch {
		case !m.GetConfigured():
			member = "not in the definition"
		case m.GetIsBackup():
			member = "backup"
		}
		last := "-"
		if m.GetLastFailure() != nil {
			last = m.GetLastFailure().AsTime().UTC().Format(time.RFC3339) + " " + m.GetLastFailureReason()
		}
		rows = append(rows, []string{m.GetAddress(), member, m.GetState(), strconv.FormatInt(m.GetCalls(), 10), strconv.FormatInt(m.GetFailures(), 10), last})
	}
	return printTable(d.w, []string{"ADDRESS", "ROLE", "STATE", "CALLS", "FAILURES", "LAST FAILURE"}, rows)
}
