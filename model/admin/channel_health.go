package admin

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// ChannelHealthSource answers how a channel's member addresses answered
// the Envoys: the access-log component of the same process.
type ChannelHealthSource interface {
	// ChannelHealth returns the figures of the called addresses of a
	// channel and the span they cover.
	ChannelHealth(instance, channelID string) ([]*adminv1.MemberHealth, string)
}

// WithChannelHealth answers GetChannelHealth from src.
func WithChannelHealth(src ChannelHealthSource) Option {
	return func(s *Server) { s.health = src }
}

// GetChannelHealth reports the passive health of a channel's members:
// each configured member (by host:port) with its figures, or no_traffic,
// then the called addresses the definition does not list.
func (s *Server) GetChannelHealth(ctx context.Context, req *adminv1.GetChannelHealthRequest) (*adminv1.GetChannelHealthResponse, error) {
	if s.health == nil {
		return nil, status.Error(codes.FailedPrecondition, "the accesslog component does not run in this apigw process: run it with the admin component (--components) to get channel health")
	}
	inst := instanceOf(req.GetInstance())
	if err := model.CheckInstanceName("instance", inst).Err(); err != nil {
		return nil, s.toStatus(ctx, "channel health", err)
	}
	if req.GetChannel() == "" {
		return nil, s.toStatus(ctx, "channel health", badRequest("channel: the channel's id or name is required"))
	}
	var in *model.Instance
	if snap := s.feed.Current(); snap != nil {
		in = snap.Instance(inst)
	}
	if in == nil {
		return nil, s.toStatus(ctx, "channel health", fmt.Errorf("instance %q: %w", inst, model.ErrNotFound))
	}
	o, err := in.Find(model.KindVpcChannel, req.GetChannel())
	if err != nil {
		return nil, s.toStatus(ctx, "channel health", fmt.Errorf("channel: %w", err))
	}
	ch := o.(*apigwv1.VpcChannel)
	observed, window := s.health.ChannelHealth(inst, ch.Id)
	byAddr := make(map[string]*adminv1.MemberHealth, len(observed))
	for _, h := range observed {
		byAddr[h.Address] = h
	}
	resp := &adminv1.GetChannelHealthResponse{ChannelId: ch.Id, ChannelName: ch.Name, Window: window}
	if src, ok := s.health.(interface{ Streams() int }); ok {
		resp.Streams = int32(src.Streams())
	}
	for _, m := range ch.Members {
		port := m.Port
		if port == 0 {
			port = ch.Port
		}
		addr := net.JoinHostPort(m.Host, strconv.Itoa(int(port)))
		h := byAddr[addr]
		if h == nil {
			h = &adminv1.MemberHealth{Address: addr, State: "no_traffic"}
		}
		delete(byAddr, addr)
		h.Configured, h.IsBackup = true, m.IsBackup
		resp.Members = append(resp.Members, h)
	}
	for _, h := range observed {
		if byAddr[h.Address] != nil {
			resp.Members = append(resp.Members, h)
		}
	}
	return resp, nil
}
