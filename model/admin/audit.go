package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/store"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

// The audit trail: every admin write that commits stores an AuditEvent in
// the same etcd transaction (store.Change.Audit); writes made straight
// into etcd are recorded with caller "etcd" when the watch sees them.
// Failed and dry-run writes record nothing. Events are kept for
// AuditRetention.MaxAge and at most MaxEvents per instance.

// AuditRetention bounds the audit trail of each instance.
type AuditRetention struct {
	MaxAge    time.Duration
	MaxEvents int
}

// DefaultAuditRetention keeps 90 days and 10000 events per instance.
func DefaultAuditRetention() AuditRetention {
	return AuditRetention{MaxAge: 90 * 24 * time.Hour, MaxEvents: 10000}
}

// WithAuditRetention sets the retention of the audit trail.
func WithAuditRetention(r AuditRetention) Option { return func(s *Server) { s.retention = r } }

// Audit outcomes and the caller and operation of direct writes.
const (
	OutcomeCommitted = "committed"
	OutcomeObserved  = "observed"
	CallerEtcd       = "etcd"
)

// auditRecord is the event of a write about to be committed, encoded for
// its transaction; nil when it writes nothing worth recording.
func (s *Server) auditRecord(ctx context.Context, t *tx) *store.AuditRecord {
	ev := &adminv1.AuditEvent{
		Time: timestamppb.New(s.now()), Caller: callerOf(ctx), Operation: operationOf(ctx),
		Instance: t.in().Name, Outcome: OutcomeCommitted,
	}
	for _, m := range t.change.Puts {
		k := model.KindOf(m)
		o := &adminv1.AuditObject{Kind: k.Name, Id: model.IDOf(m), Name: model.NameOf(m), Action: "created"}
		if old := t.stored(k.Name, o.Id); old != nil {
			o.Action, o.ChangedFields = "updated", model.ChangedFields(old, m)
			if len(o.ChangedFields) == 0 {
				continue
			}
		}
		ev.Objects = append(ev.Objects, o)
	}
	for _, d := range t.change.Deletes {
		o := &adminv1.AuditObject{Kind: d.Kind.Name, Id: d.ID, Action: "deleted"}
		if old := t.stored(d.Kind.Name, d.ID); old != nil {
			o.Name = model.NameOf(old)
		}
		ev.Objects = append(ev.Objects, o)
	}
	key := fmt.Sprintf("%020d-%s", ev.Time.AsTime().UnixNano(), randomHex(4))
	b, err := protojson.Marshal(ev)
	if err != nil {
		s.log.ErrorContext(ctx, "audit event not encoded", "err", err)
		return nil
	}
	return &store.AuditRecord{Key: key, Value: b}
}

// stored is the object as loaded (before this write).
func (t *tx) stored(kind, id string) proto.Message {
	if kind == model.KindInstance && id == t.in().Name {
		if d := t.in().Def; d != nil && model.MetaOf(d).GetResourceVersion() != "" {
			return d
		}
		return nil
	}
	return t.in().Get(kind, id)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// operationOf names the admin call from its gRPC method
// ("/apigw.admin.v1.AdminService/ResetAppSecret" → "reset_app_secret").
func operationOf(ctx context.Context) string {
	m, ok := grpc.Method(ctx)
	if !ok {
		return "unknown"
	}
	m = m[strings.LastIndexByte(m, '/')+1:]
	var b strings.Builder
	for i, r := range m {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// callerOf identifies the caller: its verified client certificate, the
// admin token, or (without authentication) its address. The token itself
// is never recorded.
func callerOf(ctx context.Context) string {
	p, _ := peer.FromContext(ctx)
	if p != nil {
		if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(ti.State.VerifiedChains) > 0 && len(ti.State.VerifiedChains[0]) > 0 {
			c := ti.State.VerifiedChains[0][0]
			switch {
			case len(c.URIs) > 0:
				return "cert:" + c.URIs[0].String()
			case len(c.DNSNames) > 0:
				return "cert:" + c.DNSNames[0]
			default:
				return "cert:" + c.Subject.CommonName
			}
		}
	}
	if md, _ := metadata.FromIncomingContext(ctx); len(md.Get("authorization")) > 0 {
		return "token"
	}
	if p != nil && p.Addr != nil {
		return "anonymous " + p.Addr.String()
	}
	return "anonymous"
}

// RecordDirectWrite records a write made straight into etcd (store
// OnDirectWrite); replicas that see the same write store it once.
func (s *Server) RecordDirectWrite(w store.DirectWrite) {
	go func() {
		ev := &adminv1.AuditEvent{Time: timestamppb.New(s.now()), Caller: CallerEtcd, Operation: CallerEtcd, Instance: w.Instance,
			Revision: w.Revision, Outcome: OutcomeObserved}
		var in *model.Instance
		if snap := s.feed.Current(); snap != nil {
			in = snap.Instance(w.Instance)
		}
		name := func(pk store.ParsedKey) string {
			if in == nil {
				return ""
			}
			if o := in.Get(pk.Kind.Name, pk.ID); o != nil {
				return model.NameOf(o)
			}
			return ""
		}
		for _, pk := range w.Puts {
			ev.Objects = append(ev.Objects, &adminv1.AuditObject{Kind: pk.Kind.Name, Id: pk.ID, Name: name(pk), Action: "written"})
		}
		for _, pk := range w.Deletes {
			ev.Objects = append(ev.Objects, &adminv1.AuditObject{Kind: pk.Kind.Name, Id: pk.ID, Name: name(pk), Action: "deleted"})
		}
		b, err := protojson.Marshal(ev)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = s.store.AuditPutOnce(ctx, w.Instance, fmt.Sprintf("etcd-%020d", w.Revision), b)
		}
		if err != nil {
			s.log.Warn("direct etcd write not recorded in the audit trail", "instance", w.Instance, "revision", w.Revision, "err", err)
		}
	}()
}

// auditEvents decodes the stored events of an instance, newest first.
func (s *Server) auditEvents(ctx context.Context, instance string) ([]*adminv1.AuditEvent, error) {
	kvs, err := s.store.AuditList(ctx, instance)
	if err != nil {
		return nil, err
	}
	out := make([]*adminv1.AuditEvent, 0, len(kvs))
	for _, kv := range kvs {
		ev := &adminv1.AuditEvent{}
		if err := protojson.Unmarshal(kv.Value, ev); err != nil {
			s.log.Warn("unreadable audit event skipped", "instance", instance, "key", kv.Key, "err", err)
			continue
		}
		ev.Id = kv.Key
		if ev.Revision == 0 {
			ev.Revision = kv.ModRevision
		}
		out = append(out, ev)
	}
	slices.SortFunc(out, func(a, b *adminv1.AuditEvent) int {
		if a.Revision != b.Revision {
			if a.Revision > b.Revision {
				return -1
			}
			return 1
		}
		return strings.Compare(b.Id, a.Id)
	})
	return out, nil
}

// ListAuditEvents lists an instance's recorded changes, newest first.
func (s *Server) ListAuditEvents(ctx context.Context, req *adminv1.ListAuditEventsRequest) (*adminv1.ListAuditEventsResponse, error) {
	inst := instanceOf(req.GetInstance())
	if err := model.CheckInstanceName("instance", inst).Err(); err != nil {
		return nil, s.toStatus(ctx, "audit", err)
	}
	limit := int(req.GetLimit())
	if limit <= 0 {
		limit = 100
	}
	if limit > 10000 {
		return nil, s.toStatus(ctx, "audit", badRequest("limit: at most 10000 (got %d)", limit))
	}
	if k := req.GetKind(); k != "" && model.KindByName(k) == nil {
		return nil, s.toStatus(ctx, "audit", badRequest("kind: unknown kind %q", k))
	}
	events, err := s.auditEvents(ctx, inst)
	if err != nil {
		return nil, s.toStatus(ctx, "audit", err)
	}
	resp := &adminv1.ListAuditEventsResponse{}
	for _, ev := range events {
		if !auditMatches(ev, req) {
			continue
		}
		resp.Events = append(resp.Events, ev)
		if len(resp.Events) == limit {
			break
		}
	}
	escapeInvalidUTF8(resp.ProtoReflect())
	return resp, nil
}

func auditMatches(ev *adminv1.AuditEvent, req *adminv1.ListAuditEventsRequest) bool {
	t := ev.GetTime().AsTime()
	if req.GetSince() != nil && t.Before(req.GetSince().AsTime()) || req.GetUntil() != nil && t.After(req.GetUntil().AsTime()) {
		return false
	}
	if req.GetCaller() != "" && ev.Caller != req.GetCaller() || req.GetOperation() != "" && ev.Operation != req.GetOperation() {
		return false
	}
	if req.GetKind() == "" && req.GetObject() == "" {
		return true
	}
	return slices.ContainsFunc(ev.Objects, func(o *adminv1.AuditObject) bool {
		return (req.GetKind() == "" || o.Kind == req.GetKind()) && (req.GetObject() == "" || o.Id == req.GetObject() || o.Name == req.GetObject())
	})
}

// RunAuditRetention drops the events beyond the retention of every
// instance, every interval, until ctx ends.
func (s *Server) RunAuditRetention(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := s.ApplyAuditRetention(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("audit retention", "err", err)
			}
		}
	}
}

// ApplyAuditRetention deletes, in every instance, the events older than
// MaxAge and the oldest beyond MaxEvents.
func (s *Server) ApplyAuditRetention(ctx context.Context) error {
	insts, err := s.store.Instances(ctx)
	if err != nil {
		return err
	}
	cutoff := s.now().Add(-s.retention.MaxAge)
	for _, in := range insts {
		events, err := s.auditEvents(ctx, in.Name)
		if err != nil {
			return err
		}
		var drop []string
		for i, ev := range events { // newest first
			if s.retention.MaxEvents > 0 && i >= s.retention.MaxEvents || s.retention.MaxAge > 0 && ev.GetTime().AsTime().Before(cutoff) {
				drop = append(drop, ev.Id)
			}
		}
		if len(drop) > 0 {
			if err := s.store.AuditDelete(ctx, in.Name, drop); err != nil {
				return err
			}
			s.log.Debug("audit events dropped by retention", "instance", in.Name, "count", len(drop))
		}
	}
	return nil
}
