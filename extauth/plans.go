package extauth

import (
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// plans holds what Check compiles from one snapshot — path templates,
// parameter rules, policy conditions, IP sets, authorizer specs — keyed by
// the (immutable) objects of that snapshot. A new snapshot gets a new,
// empty set, so nothing outlives the definitions it was built from.
type plans struct {
	snap    *live.Snapshot
	mu      sync.RWMutex
	served  map[relKey]*apiPlan // (instance, API, environment) → plan
	acls    sync.Map            // *apigwv1.Acl → *aclPlan
	apps    sync.Map            // *apigwv1.App → *appACL
	appVals sync.Map            // *apigwv1.App → *structpb.Value of its id
	authz   sync.Map            // *apigwv1.Authorizer → *authorizer.Spec
}

type relKey struct {
	inst     *model.Instance
	api, env string
}

// plan returns the plan of the publication served for (API, environment),
// nil when the API is not published there.
func (p *plans) plan(in *model.Instance, apiID, envID string) (*apiPlan, error) {
	k := relKey{in, apiID, envID}
	p.mu.RLock()
	pl := p.served[k]
	p.mu.RUnlock()
	if pl != nil {
		return pl, nil
	}
	pub := in.Served(apiID, envID)
	if pub == nil || pub.GetApi() == nil {
		return nil, nil
	}
	pl, err := compileAPI(in, pub)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if cur := p.served[k]; cur != nil {
		return cur, nil
	}
	if p.served == nil {
		p.served = map[relKey]*apiPlan{}
	}
	p.served[k] = pl
	return pl, nil
}

// appValue is the metadata value of an app's id, shared by responses.
func (p *plans) appValue(a *apigwv1.App) *structpb.Value {
	if v, ok := p.appVals.Load(a); ok {
		return v.(*structpb.Value)
	}
	v, _ := p.appVals.LoadOrStore(a, structpb.NewStringValue(a.Id))
	return v.(*structpb.Value)
}

func currentPlans(p *atomic.Pointer[plans], snap *live.Snapshot) *plans {
	for {
		cur := p.Load()
		if cur != nil && cur.snap == snap {
			return cur
		}
		next := &plans{snap: snap}
		if p.CompareAndSwap(cur, next) {
			return next
		}
	}
}

func loadOrCompile[K comparable, V any](m *sync.Map, k K, compile func() (V, error)) (V, error) {
	if v, ok := m.Load(k); ok {
		return v.(V), nil
	}
	v, err := compile()
	if err != nil {
		return v, err
	}
	actual, _ := m.LoadOrStore(k, v)
	return actual.(V), nil
}
