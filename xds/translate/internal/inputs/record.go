package inputs

import (
	"fmt"
	"slices"
	"strings"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Record is the sequence of lookups a View made, each with its result.
type Record struct {
	reads []read
	// mask has bit 1<<op set for each op among reads.
	mask uint32
}

// read is one lookup: which one, its arguments and its result (v for
// objects and lists, s for strings).
type read struct {
	op   op
	a, b string
	v    any
	s    string
}

// op names a lookup of View.
type op uint8

const (
	opName op = iota
	opConfig
	opServedAll
	opEnv
	opHasGroup
	opGroups
	opAuthorizer
	opChannel
	opCertificate
	opThrottleFor
	opACLsFor
	opBlocked
	opBlockedApps
	opAppBlocked
	opResponseSet
	opResponseSets
	opHosts
	opHostProblems
	opPluginsFor
	opProxyCachePlugins
	opGroup
	opSigned
	opKafkaLogHeaders
	opOIDCPlugins
)

// eval performs a lookup on the Snapshot. Views and Record.Holds both
// go through it, so a replay asks exactly what the View asked.
func (s *Snapshot) eval(o op, a, b string) (any, string) {
	in := s.in
	switch o {
	case opName:
		return nil, in.Name
	case opConfig:
		return s.cfg, ""
	case opServedAll:
		return s.served, ""
	case opEnv:
		return s.envs[a], ""
	case opHasGroup:
		return in.Group(a) != nil, ""
	case opGroups:
		return s.groupList(), ""
	case opAuthorizer:
		return in.Authorizer(a), ""
	case opChannel:
		return in.Channel(a), ""
	case opCertificate:
		return in.Certificate(a), ""
	case opThrottleFor:
		return in.ThrottleFor(a, b), ""
	case opACLsFor:
		return in.ACLsFor(a, b), ""
	case opBlocked:
		return nil, in.Blocked(a, b)
	case opBlockedApps:
		return in.BlockedApps(), ""
	case opAppBlocked:
		return nil, in.AppBlocked(a)
	case opResponseSet:
		return s.responseSet(a, b), ""
	case opResponseSets:
		s.responseSets()
		return s.allSets, ""
	case opGroup:
		return in.Group(a), ""
	case opHosts:
		s.claimHosts()
		return s.hosts[a], ""
	case opHostProblems:
		s.claimHosts()
		return s.hostProblems, ""
	case opSigned:
		if in.SignatureFor(a, b) != nil {
			return nil, "signed"
		}
		return nil, ""
	case opPluginsFor:
		return in.PluginsFor(a, b), ""
	case opKafkaLogHeaders:
		req, resp := in.KafkaLogHeaders()
		return nil, strings.Join(req, ",") + "|" + strings.Join(resp, ",")
	case opOIDCPlugins:
		return in.OIDCPlugins(), ""
	case opProxyCachePlugins:
		return in.ProxyCachePlugins(), ""
	}
	panic(fmt.Sprintf("inputs: unknown lookup %d", o))
}

// Holds reports whether every lookup of the Record gives the same result
// on s. Lookups are replayed in order and the first difference stops the
// replay: up to it the translation that made the Record would have asked
// the same questions, after it not necessarily.
func (r Record) Holds(s *Snapshot) bool {
	for i := range r.reads {
		rd := &r.reads[i]
		v, str := s.eval(rd.op, rd.a, rd.b)
		if str != rd.s || !same(rd.v, v) {
			return false
		}
	}
	return true
}

// Len returns the number of lookups recorded.
func (r Record) Len() int { return len(r.reads) }

// same compares two results of one lookup: objects by identity, lists
// element by element.
func same(x, y any) bool {
	switch x := x.(type) {
	case []*apigwv1.Publication:
		return eqList(x, y)
	case []*apigwv1.ApiGroup:
		return eqList(x, y)
	case []*apigwv1.Acl:
		return eqList(x, y)
	case []*apigwv1.Plugin:
		return eqList(x, y)
	case []*apigwv1.GatewayResponse:
		return eqList(x, y)
	case []string:
		return eqList(x, y)
	case []model.APIProblem:
		return eqList(x, y)
	}
	return x == y
}

func eqList[T comparable](x []T, y any) bool {
	l, ok := y.([]T)
	return ok && slices.Equal(x, l)
}
