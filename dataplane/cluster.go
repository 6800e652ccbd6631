package dataplane

import "strings"

// ChannelCluster is the name of the Envoy cluster (and EDS service) of a
// load-balance channel: "channel.<channel id>.<http|https>".
func ChannelCluster(channelID, scheme string) string {
	return "channel." + channelID + "." + scheme
}

// ChannelOfCluster returns the channel id of a cluster named by
// ChannelCluster (the access log's upstream cluster), or false for any
// other cluster.
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
