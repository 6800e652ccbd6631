// Package inputs is the only way the translator reads an instance. A
// Snapshot holds one model.Instance with the indexes translation needs,
// and a View reads it, recording every lookup together with its result.
//
// A translate.Builder keys each result it keeps (a publication's routes, a
// group's virtual hosts, the listeners) on its arguments (the publication
// record; the group's publication results) and the Record of the View that
// produced it, and reuses the result while the arguments are the same and
// the Record still holds for the next Snapshot: replaying the lookups in
// order gives the same results.
// Translation is a pure function of what it reads, so the reads of a new
// translation would be the same ones, in the same order, with the same
// results, and so would its output. Nothing has to list by hand what a
// translation depends on: a lookup added to the translator is recorded
// because there is no other way to read the instance.
//
// Results are compared by identity: the model keeps unchanged objects
// pointer-identical across snapshots and never modifies them, so the same
// pointer means the same value. The instance configuration and the
// environments, which the model rebuilds on every snapshot, are mapped
// back to the previous Snapshot's pointers when their values are equal.
package inputs

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Snapshot is one version of an instance as the translator sees it. It is
// not safe for concurrent use (indexes are built on first use).
type Snapshot struct {
	in   *model.Instance
	def  *apigwv1.Instance
	cfg  *apigwv1.InstanceConfig
	envs map[string]*apigwv1.Environment

	// Indexes built on first use.
	groups       []*apigwv1.ApiGroup
	sets         map[string][]*apigwv1.GatewayResponse // group id → sets, by id
	allSets      []*apigwv1.GatewayResponse
	hosts        map[string][]string // group id → hosts it answers
	hostProblems []model.APIProblem
	indexed      uint8

	// chunk holds the first reads of the next Views (see Track).
	chunk []read

	// seq numbers the Snapshots of one chain (Open's prev); changed are
	// the lookups whose results may differ from the previous one's
	// (changes.go).
	seq     uint64
	changed uint32

	// served are the ReleaseIDs of the served releases, sorted, and
	// their records (model.Instance.ServedAllKeyed).
	servedKeys []string
	served     []*apigwv1.Publication
}

const (
	indexedGroups = 1 << iota
	indexedSets
	indexedHosts
)

// Open returns the Snapshot of an instance. prev, when not nil, is the
// previous Snapshot of the same instance: values equal to its instance
// configuration and environments keep its pointers.
func Open(in *model.Instance, prev *Snapshot) *Snapshot {
	s := &Snapshot{in: in, def: in.Def, cfg: in.Config, envs: map[string]*apigwv1.Environment{}, seq: 1}
	if prev != nil && proto.Equal(prev.def, in.Def) {
		s.def, s.cfg = prev.def, prev.cfg
	}
	for _, e := range model.List[*apigwv1.Environment](in, model.KindEnvironment) {
		if p := prev.env(e.Id); p != nil && proto.Equal(p, e) {
			e = p
		}
		s.envs[e.Id] = e
	}
	if prev != nil {
		s.seq = prev.seq + 1
	}
	s.changed = changedOps(prev, s)
	s.servedAll(prev)
	return s
}

// servedAll lists the served records: sorting ten thousand ReleaseIDs
// costs more than the rest of a one-API change, so while the same
// releases are served the previous Snapshot's order is kept.
func (s *Snapshot) servedAll(prev *Snapshot) {
	switch {
	case prev == nil || !s.in.SameServedReleases(prev.in):
		s.servedKeys, s.served = s.in.ServedAllKeyed()
	case s.changed&(1<<opServedAll) == 0:
		s.servedKeys, s.served = prev.servedKeys, prev.served
	default:
		s.servedKeys, s.served = prev.servedKeys, s.in.ServedAt(prev.servedKeys)
	}
}

// Holds reports whether a Record still holds on s; checked is the seq of
// the last Snapshot the Record was found to hold on (or was made on), and
// is advanced to s's when it holds. A Record checked on the previous
// Snapshot whose lookups all depend on parts that did not change holds
// without a replay.
func (s *Snapshot) Holds(r Record, checked *uint64) bool {
	if *checked == s.seq {
		return true
	}
	if *checked+1 == s.seq && r.mask&s.changed == 0 || r.Holds(s) {
		*checked = s.seq
		return true
	}
	return false
}

// Seq identifies s in its chain, for Holds' checked.
func (s *Snapshot) Seq() uint64 { return s.seq }

func (s *Snapshot) env(id string) *apigwv1.Environment {
	if s == nil {
		return nil
	}
	return s.envs[id]
}

func (s *Snapshot) groupList() []*apigwv1.ApiGroup {
	if s.indexed&indexedGroups == 0 {
		s.groups = s.groups[:0]
		for _, g := range model.List[*apigwv1.ApiGroup](s.in, model.KindGroup) {
			// The built-in DEFAULT group is served once it holds an API
			// or is written: an instance without either translates as
			// if it had no such group.
			if s.in.BuiltinDefaultGroup(g.Id) && s.in.ReferrerCount(model.KindGroup, g.Id, model.KindAPI) == 0 {
				continue
			}
			s.groups = append(s.groups, g)
		}
		s.indexed |= indexedGroups
	}
	return s.groups
}

func (s *Snapshot) responseSets() {
	if s.indexed&indexedSets != 0 {
		return
	}
	s.indexed |= indexedSets
	s.allSets = model.List[*apigwv1.GatewayResponse](s.in, model.KindResponse)
	s.sets = map[string][]*apigwv1.GatewayResponse{}
	for _, r := range s.allSets {
		s.sets[r.GroupId] = append(s.sets[r.GroupId], r)
	}
}

// responseSet is model.Instance.ResponseSet over the index.
func (s *Snapshot) responseSet(groupID, ref string) *apigwv1.GatewayResponse {
	s.responseSets()
	if ref == "" {
		ref = model.DefaultResponse
	}
	for _, r := range s.sets[groupID] {
		if r.Id == ref || r.Name == ref {
			return r
		}
	}
	return nil
}

// claimHosts gives each host to one group (the first by id): Envoy rejects
// a whole route configuration or listener in which two virtual hosts,
// scopes or filter chains share a host, so a duplicate binding that got
// into the store is left out and reported instead.
func (s *Snapshot) claimHosts() {
	if s.indexed&indexedHosts != 0 {
		return
	}
	s.indexed |= indexedHosts
	owner := map[string]string{}
	s.hosts = map[string][]string{}
	for _, g := range s.groupList() {
		for _, d := range groupDomains(s.cfg, g) {
			if o, taken := owner[d]; taken {
				s.hostProblems = append(s.hostProblems, model.APIProblem{Instance: s.in.Name, Reason: fmt.Sprintf("group %s domain %s: already bound to group %s; left out", g.Id, d, o)})
				continue
			}
			owner[d] = g.Id
			s.hosts[g.Id] = append(s.hosts[g.Id], d)
		}
	}
}

// groupDomains are the hosts a group answers: its debug sub-domain (unless
// disabled) and its bound domains, including wildcards; the DEFAULT group
// also answers the gateway's own addresses, unless app_route gives them
// their own virtual host.
func groupDomains(cfg *apigwv1.InstanceConfig, g *apigwv1.ApiGroup) []string {
	var out []string
	if g.SlDomainAccessEnabled == nil || g.GetSlDomainAccessEnabled() {
		out = append(out, strings.ToLower(model.DebugDomain(g.Id, cfg)))
	}
	for _, d := range g.UrlDomains {
		out = append(out, strings.ToLower(d.Domain))
	}
	if model.IsDefaultGroup(g) && !cfg.GetAppRoute() {
		// With app_route the addresses have a virtual host of their own
		// (translate's appRouteVirtualHost).
		out = append(out, cfg.GetDefaultGroupHosts()...)
	}
	sort.Strings(out)
	return slices.Compact(out)
}
