package model

import apigwv1 "github.com/apigw/apigw/proto/apigw/v1"

// ChannelTarget is a member of a load balance channel that takes traffic.
type ChannelTarget struct {
	Host   string
	Port   int32
	Weight int32
}

// ChannelTargets lists the members of a channel that take traffic: enabled
// members with a positive weight (a member without a weight takes its
// member group's), with the channel's port when they have none. Backup
// members are listed apart: they take traffic only when no primary member
// can.
func ChannelTargets(ch *apigwv1.VpcChannel, group string) (primary, backup []ChannelTarget) {
	groupWeight := map[string]int32{}
	for _, g := range ch.GetMemberGroups() {
		groupWeight[g.MemberGroupName] = g.MemberGroupWeight
	}
	for _, m := range ch.GetMembers() {
		if group != "" && m.MemberGroupName != group {
			continue
		}
		w := m.Weight
		if w == 0 {
			w = groupWeight[m.MemberGroupName]
		}
		if m.Status == 2 || w <= 0 {
			continue
		}
		port := m.Port
		if port == 0 {
			port = ch.Port
		}
		t := ChannelTarget{Host: m.Host, Port: port, Weight: w}
		if m.IsBackup {
			backup = append(backup, t)
		} else {
			primary = append(primary, t)
		}
	}
	return primary, backup
}
