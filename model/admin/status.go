package admin

import (
	"context"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/store"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

// GetStatus reports the revision being served, invalid objects in etcd,
// APIs the data plane leaves out and the Envoy nodes of the instance.
func (s *Server) GetStatus(ctx context.Context, req *adminv1.GetStatusRequest) (*adminv1.GetStatusResponse, error) {
	inst := instanceOf(req.GetInstance())
	if err := model.CheckInstanceName("instance", inst).Err(); err != nil {
		return nil, s.toStatus(ctx, "status", err)
	}
	resp := &adminv1.GetStatusResponse{}
	if snap := s.feed.Current(); snap != nil {
		resp.Revision = snap.Revision
		s.storeHeader(ctx, snap.Revision)
		for _, o := range snap.Invalid {
			if strings.HasPrefix(o.Key, store.InstancePrefix(inst)) || o.Key == store.InstanceKey(inst) {
				resp.InvalidObjects = append(resp.InvalidObjects, &adminv1.InvalidObject{Key: o.Key, ModRevision: o.ModRevision, Reason: o.Reason, InForce: o.InForce})
			}
		}
	}
	for _, p := range s.status.APIProblems(inst) {
		resp.ApiProblems = append(resp.ApiProblems, &adminv1.ApiProblem{ApiId: p.APIID, EnvId: p.EnvID, Reason: p.Reason})
	}
	for _, n := range s.status.Nodes(inst) {
		resp.Nodes = append(resp.Nodes, &adminv1.NodeStatus{NodeId: n.NodeID, Cluster: n.Cluster, TypeUrl: n.TypeURL, AckedVersion: n.AckedVersion, LastNack: n.LastNack, LastSeen: timestamppb.New(n.LastSeen)})
	}
	escapeInvalidUTF8(resp.ProtoReflect())
	return resp, nil
}

// escapeInvalidUTF8 rewrites every string of m that is not UTF-8 (keys
// written around apigw may hold any bytes), so that the status always
// renders instead of failing to marshal.
func escapeInvalidUTF8(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
			for i, l := 0, v.List(); i < l.Len(); i++ {
				escapeInvalidUTF8(l.Get(i).Message())
			}
		case fd.IsList() && fd.Kind() == protoreflect.StringKind:
			for i, l := 0, v.List(); i < l.Len(); i++ {
				l.Set(i, protoreflect.ValueOfString(model.EscapeInvalidUTF8(l.Get(i).String())))
			}
		case fd.IsMap():
		case fd.Kind() == protoreflect.MessageKind:
			escapeInvalidUTF8(v.Message())
		case fd.Kind() == protoreflect.StringKind:
			m.Set(fd, protoreflect.ValueOfString(model.EscapeInvalidUTF8(v.String())))
		}
		return true
	})
}
