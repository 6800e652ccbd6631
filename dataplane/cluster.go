package dataplane

import (
	"encoding/hex"
	"strings"
)

// ChannelCluster is the name of the Envoy cluster (and EDS service) of a
// load-balance channel: "channel.<channel id>.<http|https>".
func ChannelCluster(channelID, scheme string) string {
	return "channel." + channelID + "." + scheme
}

// MemberGroupCluster is the name of the cluster of one member group of a
// channel: "channel.<channel id>.group.<hex of the group name>.<scheme>"
// (the name may hold CJK characters and dots).
func MemberGroupCluster(channelID, group, scheme string) string {
	return "channel." + channelID + ".group." + hex.EncodeToString([]byte(group)) + "." + scheme
}

// ChannelOfCluster returns the channel id of a cluster named by
// ChannelCluster or MemberGroupCluster (the access log's upstream
// cluster), or false for any other cluster.
func ChannelOfCluster(cluster string) (string, bool) {
	rest, ok := strings.CutPrefix(cluster, "channel.")
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, ".")
	if !ok || id == "" {
		return "", false
	}
	return id, true
}
