package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Store reads and writes definitions in etcd.
type Store struct {
	cli   *clientv3.Client
	codec *Codec
	log   *slog.Logger
	m     *metrics
	// cache is what Watch has decoded, so that admin writes need not read
	// and decode the whole instance again (see cache.go).
	cache cache
	// health and timeout: see health.go.
	health  health
	timeout time.Duration
	// commitTimes are when this store's recent commits returned, for the
	// watch delay metric.
	commitTimes commitTimes
	// direct receives the writes made around the admin API (audit.go).
	direct atomic.Pointer[directWriteHandler]
}

// New returns a store over an etcd client. Metrics are registered on reg
// when it is not nil.
func New(cli *clientv3.Client, codec *Codec, log *slog.Logger, reg prometheus.Registerer) *Store {
	return &Store{cli: cli, codec: codec, log: log.With("component", "store"), m: newMetrics(reg)}
}

// Client returns the etcd client.
func (s *Store) Client() *clientv3.Client { return s.cli }

// Loaded is the state of one instance read at one revision.
type Loaded struct {
	Instance *model.Instance
	// Revision is the etcd revision of the read.
	Revision int64
	// ModRevisions of the objects, by key.
	ModRevisions map[string]int64
	// Invalid objects that were left out.
	Invalid []live.InvalidObject
	genRev  int64
	gen     int64
}

// Load returns every object of an instance at one revision: from the
// watched view when Watch runs and has caught up with every revision this
// store has written or seen in a conflict, else straight from etcd.
// Writes based on it are guarded, so a view that is behind another
// replica's write only costs a retry.
func (s *Store) Load(ctx context.Context, instance string) (*Loaded, error) {
	if err := model.CheckInstanceName("instance", instance).Err(); err != nil {
		return nil, err
	}
	if l := s.cache.load(ctx, instance); l != nil {
		return l, nil
	}
	return s.loadEtcd(ctx, instance)
}

// loadEtcd reads every object of an instance from etcd at one revision.
func (s *Store) loadEtcd(ctx context.Context, instance string) (*Loaded, error) {
	cctx, cancel := s.callContext(ctx)
	defer cancel()
	started := time.Now()
	resp, err := s.cli.Txn(cctx).Then(
		clientv3.OpGet(InstanceKey(instance)),
		clientv3.OpGet(InstancePrefix(instance), clientv3.WithPrefix()),
		clientv3.OpGet(GenerationKey(instance)),
	).Commit()
	if err := s.unavailable(ctx, err, false, started); err != nil {
		return nil, fmt.Errorf("read instance %q from etcd: %w", instance, err)
	}
	l := &Loaded{Revision: resp.Header.Revision, ModRevisions: map[string]int64{}}
	var objs []proto.Message
	var holds []model.Placeholder
	for _, r := range resp.Responses[:2] {
		for _, kv := range r.GetResponseRange().Kvs {
			pk, ok := ParseKey(string(kv.Key))
			if !ok {
				continue
			}
			m, err := s.codec.Decode(pk, kv.Value, kv.ModRevision)
			if err != nil {
				l.Invalid = append(l.Invalid, live.InvalidObject{Key: string(kv.Key), ModRevision: kv.ModRevision, Reason: err.Error()})
				holds = append(holds, placeholderOf(pk, kv.Value, err.Error()))
				continue
			}
			l.ModRevisions[string(kv.Key)] = kv.ModRevision
			objs = append(objs, m)
		}
	}
	if kvs := resp.Responses[2].GetResponseRange().Kvs; len(kvs) == 1 {
		l.genRev = kvs[0].ModRevision
		l.gen, _ = strconv.ParseInt(string(kvs[0].Value), 10, 64)
	}
	var problems []model.StoredProblem
	l.Instance, problems = model.BuildStored(instance, objs, holds, nil)
	for _, p := range problems {
		key := ObjectKey(instance, model.KindByName(p.Kind), p.ID)
		l.Invalid = append(l.Invalid, live.InvalidObject{Key: key, ModRevision: l.ModRevisions[key], Reason: p.Reason, InForce: !p.Dropped})
	}
	return l, nil
}

// Change is a set of writes to one instance.
type Change struct {
	Puts    []proto.Message
	Deletes []ObjectID
	// Reads are loaded objects the change was computed from (the objects
	// the written ones reference, the draft a publication copies); the
	// commit fails if any of them changed since the load.
	Reads []ObjectID
	// Audit, when set, is written in the same transaction (audit.go).
	Audit *AuditRecord
}

// ObjectID names a stored object.
type ObjectID struct {
	Kind *model.Kind
	ID   string
}

// Empty reports whether the change writes nothing.
func (c *Change) Empty() bool { return len(c.Puts) == 0 && len(c.Deletes) == 0 }

// ErrTooLarge is returned when etcd refuses a transaction for its size.
var ErrTooLarge = errors.New("the change is too large for one etcd transaction; raise etcd's --max-txn-ops and --max-request-bytes")

// Commit writes a change atomically, provided that since base was loaded
// no other admin write reached the instance (its generation key) and none
// of the keys the change writes or reads changed, whoever wrote them;
// otherwise it returns model.ErrConflict. The guard names each of those
// keys: its cost grows with the change, not with the instance.
func (s *Store) Commit(ctx context.Context, base *Loaded, ch *Change) (int64, error) {
	inst := base.Instance.Name
	if err := checkKeys(inst, ch); err != nil {
		return 0, err
	}
	ops := make([]clientv3.Op, 0, len(ch.Puts)+len(ch.Deletes)+2)
	g := base.guard()
	g.key(InstanceKey(inst), base.stored(model.KindByName(model.KindInstance), inst))
	for _, m := range ch.Puts {
		k := model.KindOf(m)
		v, err := s.codec.Encode(m)
		if err != nil {
			return 0, fmt.Errorf("encode %s %s: %w", k.Name, model.IDOf(m), err)
		}
		key := ObjectKey(inst, k, model.IDOf(m))
		g.key(key, base.stored(k, model.IDOf(m)))
		ops = append(ops, clientv3.OpPut(key, string(v)))
	}
	for _, d := range ch.Deletes {
		key := ObjectKey(inst, d.Kind, d.ID)
		g.key(key, base.stored(d.Kind, d.ID))
		ops = append(ops, clientv3.OpDelete(key))
	}
	for _, r := range ch.Reads {
		g.key(ObjectKey(inst, r.Kind, r.ID), base.stored(r.Kind, r.ID))
	}
	ops = append(ops, clientv3.OpPut(GenerationKey(inst), strconv.FormatInt(base.gen+1, 10)))
	if a := ch.Audit; a != nil {
		ops = append(ops, clientv3.OpPut(AuditPrefix(inst)+a.Key, string(a.Value)))
	}
	cmps := append([]clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(GenerationKey(inst)), "=", base.genRev)}, g.cmps...)
	cctx, cancel := s.callContext(ctx)
	defer cancel()
	started := time.Now()
	resp, err := s.cli.Txn(cctx).If(cmps...).Then(ops...).Commit()
	if err := s.unavailable(ctx, err, true, started); err != nil {
		if errors.Is(err, model.ErrUnavailable) {
			s.m.commits.WithLabelValues("error").Inc()
			return 0, err
		}
		if errors.Is(err, rpctypes.ErrTooManyOps) || errors.Is(err, rpctypes.ErrRequestTooLarge) || strings.Contains(err.Error(), "too many operations") {
			return 0, fmt.Errorf("%w (%d operations, %d comparisons): %v", ErrTooLarge, len(ops), len(cmps), err)
		}
		s.m.commits.WithLabelValues("error").Inc()
		return 0, fmt.Errorf("write to etcd: %w", err)
	}
	s.cache.saw(resp.Header.Revision)
	if !resp.Succeeded {
		s.m.commits.WithLabelValues("conflict").Inc()
		return 0, model.ErrConflict
	}
	s.m.commits.WithLabelValues("ok").Inc()
	s.commitTimes.commit(resp.Header.Revision, time.Now(), s.m.watchDelay)
	s.log.Debug("committed", "instance", inst, "puts", len(ch.Puts), "deletes", len(ch.Deletes), "guarded_keys", len(cmps), "revision", resp.Header.Revision)
	return resp.Header.Revision, nil
}

// checkKeys refuses a change whose instance name or object ids cannot be
// (part of) an etcd key: every key must stay under its own instance.
func checkKeys(inst string, ch *Change) error {
	vs := model.CheckInstanceName("instance", inst)
	for _, m := range ch.Puts {
		vs.Merge(model.KindOf(m).Name, model.CheckKeyOf(m))
	}
	for _, d := range ch.Deletes {
		vs.Merge(d.Kind.Name, model.CheckKeyID(d.Kind, d.ID))
	}
	return vs.Err()
}

// Current reports whether no admin write reached the instance since base
// was loaded (one read of its generation key). A write that fails against
// a watched view asks before reporting the failure: the view may lag
// behind another replica's write, which a retry then sees.
func (s *Store) Current(ctx context.Context, base *Loaded) (bool, error) {
	cctx, cancel := s.callContext(ctx)
	defer cancel()
	started := time.Now()
	resp, err := s.cli.Get(cctx, GenerationKey(base.Instance.Name))
	if err := s.unavailable(ctx, err, false, started); err != nil {
		return false, fmt.Errorf("read generation of instance %q: %w", base.Instance.Name, err)
	}
	var modRev int64
	if len(resp.Kvs) == 1 {
		modRev = resp.Kvs[0].ModRevision
	}
	if modRev == base.genRev {
		return true, nil
	}
	s.cache.saw(resp.Header.Revision)
	return false, nil
}

// stored returns the loaded object of a kind and id (the instance object
// only when it is stored), or nil.
func (l *Loaded) stored(k *model.Kind, id string) proto.Message {
	if k.Name == model.KindInstance {
		if id == l.Instance.Name && l.Instance.Def.GetMeta().GetResourceVersion() != "" {
			return l.Instance.Def
		}
		return nil
	}
	return l.Instance.Get(k.Name, id)
}

// guard collects one ModRevision comparison per key: the key's revision
// as loaded, 0 for a key that did not exist.
type guard struct {
	l       *Loaded
	invalid map[string]int64
	seen    map[string]bool
	cmps    []clientv3.Cmp
}

func (l *Loaded) guard() *guard {
	g := &guard{l: l, invalid: map[string]int64{}, seen: map[string]bool{}}
	for _, o := range l.Invalid {
		// A key can be listed twice: its unusable current value, and
		// the older good version in force breaking a rule between
		// objects. The current value has the higher revision.
		g.invalid[o.Key] = max(g.invalid[o.Key], o.ModRevision)
	}
	return g
}

func (g *guard) key(key string, loaded proto.Message) {
	if g.seen[key] {
		return
	}
	g.seen[key] = true
	g.cmps = append(g.cmps, clientv3.Compare(clientv3.ModRevision(key), "=", g.modRevision(key, loaded)))
}

// modRevision is the ModRevision of key at the load: that of its unusable
// current value when it has one (the object in the view is then an older
// good version), else the loaded object's resource_version, else 0.
func (g *guard) modRevision(key string, loaded proto.Message) int64 {
	if r, ok := g.invalid[key]; ok {
		return r
	}
	if r, ok := g.l.ModRevisions[key]; ok {
		return r
	}
	if loaded == nil {
		return 0
	}
	r := loaded.ProtoReflect()
	fd := r.Descriptor().Fields().ByName("meta")
	if fd == nil || !r.Has(fd) {
		return 0
	}
	rv, _ := strconv.ParseInt(r.Get(fd).Message().Interface().(*apigwv1.Meta).GetResourceVersion(), 10, 64)
	return rv
}

// Instances returns every stored instance plus the built-in default.
func (s *Store) Instances(ctx context.Context) ([]*apigwv1.Instance, error) {
	cctx, cancel := s.callContext(ctx)
	defer cancel()
	started := time.Now()
	resp, err := s.cli.Get(cctx, Prefix+"instances/", clientv3.WithPrefix())
	if err := s.unavailable(ctx, err, false, started); err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	var out []*apigwv1.Instance
	seenDefault := false
	for _, kv := range resp.Kvs {
		pk, ok := ParseKey(string(kv.Key))
		if !ok {
			continue
		}
		m, err := s.codec.Decode(pk, kv.Value, kv.ModRevision)
		if err != nil {
			continue
		}
		in := m.(*apigwv1.Instance)
		seenDefault = seenDefault || in.Name == model.DefaultInstance
		out = append(out, in)
	}
	if !seenDefault {
		out = append(out, &apigwv1.Instance{Name: model.DefaultInstance})
	}
	return out, nil
}
