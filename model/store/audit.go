package store

import (
	"context"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// AuditRecord is an audit event written with a Change, in the same
// transaction, under AuditPrefix(instance)+Key.
type AuditRecord struct {
	Key   string
	Value []byte
}

// AuditKV is a stored audit event.
type AuditKV struct {
	Key         string // without the prefix
	Value       []byte
	ModRevision int64
}

// AuditList reads the audit events of an instance.
func (s *Store) AuditList(ctx context.Context, instance string) ([]AuditKV, error) {
	cctx, cancel := s.callContext(ctx)
	defer cancel()
	started := time.Now()
	resp, err := s.cli.Get(cctx, AuditPrefix(instance), clientv3.WithPrefix())
	if err := s.unavailable(ctx, err, false, started); err != nil {
		return nil, err
	}
	out := make([]AuditKV, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		out = append(out, AuditKV{Key: string(kv.Key[len(AuditPrefix(instance)):]), Value: kv.Value, ModRevision: kv.ModRevision})
	}
	return out, nil
}

// AuditPutOnce writes an audit event unless its key exists (replicas that
// observe the same direct write record it once).
func (s *Store) AuditPutOnce(ctx context.Context, instance, key string, value []byte) error {
	cctx, cancel := s.callContext(ctx)
	defer cancel()
	k := AuditPrefix(instance) + key
	_, err := s.cli.Txn(cctx).If(clientv3.Compare(clientv3.CreateRevision(k), "=", 0)).Then(clientv3.OpPut(k, string(value))).Commit()
	return err
}

// AuditDelete removes audit events (retention).
func (s *Store) AuditDelete(ctx context.Context, instance string, keys []string) error {
	for len(keys) > 0 {
		n := min(len(keys), 100)
		ops := make([]clientv3.Op, 0, n)
		for _, k := range keys[:n] {
			ops = append(ops, clientv3.OpDelete(AuditPrefix(instance)+k))
		}
		cctx, cancel := s.callContext(ctx)
		_, err := s.cli.Txn(cctx).Then(ops...).Commit()
		cancel()
		if err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

// DirectWrite is a change of an instance's objects made without the admin
// API (no generation bump in the same revision), as the watch saw it.
type DirectWrite struct {
	Instance string
	Revision int64
	Puts     []ParsedKey
	Deletes  []ParsedKey
}

// directWriteHandler receives the direct writes the watch sees.
type directWriteHandler = func(DirectWrite)

// OnDirectWrite sets the function called (on the watch goroutine, so it
// must not block) for every write made straight into etcd.
func (s *Store) OnDirectWrite(f func(DirectWrite)) { s.direct.Store(&f) }

// directWrites groups a watch response's object events by revision and
// instance and reports those without an admin generation bump.
type directWrites struct {
	h       *atomic.Pointer[directWriteHandler]
	writes  map[[2]any]*DirectWrite
	bumped  map[[2]any]bool
	ordered []*DirectWrite
}

func newDirectWrites(h *atomic.Pointer[directWriteHandler]) *directWrites {
	return &directWrites{h: h, writes: map[[2]any]*DirectWrite{}, bumped: map[[2]any]bool{}}
}

func (d *directWrites) generation(inst string, rev int64) { d.bumped[[2]any{inst, rev}] = true }

func (d *directWrites) object(pk ParsedKey, rev int64, deleted bool) {
	if d.h.Load() == nil {
		return
	}
	k := [2]any{pk.Instance, rev}
	w := d.writes[k]
	if w == nil {
		w = &DirectWrite{Instance: pk.Instance, Revision: rev}
		d.writes[k] = w
		d.ordered = append(d.ordered, w)
	}
	if deleted {
		w.Deletes = append(w.Deletes, pk)
	} else {
		w.Puts = append(w.Puts, pk)
	}
}

func (d *directWrites) report() {
	h := d.h.Load()
	if h == nil {
		return
	}
	for _, w := range d.ordered {
		if !d.bumped[[2]any{w.Instance, w.Revision}] {
			(*h)(*w)
		}
	}
}
