package inputs

import (
	"github.com/apigw/apigw/model"
)

// A Record that held on the previous Snapshot holds on the next one when
// none of the lookups it made can give a different result: a lookup's
// result is a function of a few parts of the instance (the objects of some
// kinds, an index derived from them), and the model keeps each part
// pointer-identical while it does not change. Checking a Record is then a
// mask test instead of a replay, so a one-API change costs O(change) and
// not one replay per publication.

// opDeps are the parts of an instance each lookup's result depends on.
// A lookup missing here is always replayed.
var opDeps = [...]struct {
	kinds []string
	parts []model.Part
	// name, config and envs say that the lookup also depends on the
	// instance's name, its configuration or its environments.
	name, config, envs bool
}{
	opName:              {name: true},
	opConfig:            {config: true},
	opServedAll:         {parts: []model.Part{model.PartServed}},
	opEnv:               {envs: true},
	opHasGroup:          {kinds: []string{model.KindGroup}},
	opGroup:             {kinds: []string{model.KindGroup}},
	opGroups:            {kinds: []string{model.KindGroup, model.KindAPI}},
	opAuthorizer:        {kinds: []string{model.KindAuthorizer}},
	opChannel:           {kinds: []string{model.KindVpcChannel}},
	opCertificate:       {kinds: []string{model.KindCertificate}},
	opThrottleFor:       {parts: []model.Part{model.PartThrottles}},
	opACLsFor:           {parts: []model.Part{model.PartACLs}},
	opBlocked:           {parts: []model.Part{model.PartHolds}},
	opBlockedApps:       {parts: []model.Part{model.PartHolds}},
	opAppBlocked:        {parts: []model.Part{model.PartHolds}},
	opResponseSet:       {kinds: []string{model.KindResponse}},
	opResponseSets:      {kinds: []string{model.KindResponse}},
	opHosts:             {config: true, kinds: []string{model.KindGroup, model.KindAPI}},
	opHostProblems:      {name: true, config: true, kinds: []string{model.KindGroup, model.KindAPI}},
	opPluginsFor:        {kinds: []string{model.KindPluginBinding, model.KindPlugin}},
	opProxyCachePlugins: {kinds: []string{model.KindPlugin}},
	opOIDCPlugins:       {kinds: []string{model.KindPlugin, model.KindPluginBinding}},
	opKafkaLogHeaders:   {kinds: []string{model.KindPlugin}},
	opSigned:            {kinds: []string{model.KindSignBinding, model.KindSignature}},
}

// changedOps returns the lookups whose results may differ between prev
// and s, as a mask of 1<<op; every lookup when prev is nil.
func changedOps(prev, s *Snapshot) uint32 {
	if prev == nil {
		return ^uint32(0)
	}
	envs := len(prev.envs) != len(s.envs)
	for id, e := range s.envs {
		if prev.envs[id] != e {
			envs = true
			break
		}
	}
	var mask uint32
	for o, d := range opDeps {
		changed := (d.name && prev.in.Name != s.in.Name) || (d.config && prev.cfg != s.cfg) || (d.envs && envs) ||
			(d.kinds == nil && d.parts == nil && !d.name && !d.config && !d.envs)
		for _, k := range d.kinds {
			changed = changed || !s.in.SameObjects(prev.in, k)
		}
		for _, p := range d.parts {
			changed = changed || !s.in.SamePart(prev.in, p)
		}
		if changed {
			mask |= 1 << o
		}
	}
	// Lookups added after opDeps was written are always replayed.
	for o := len(opDeps); o < 32; o++ {
		mask |= 1 << o
	}
	return mask
}
