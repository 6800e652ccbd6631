package admin

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// APIMetricsSource answers per-API figures: the access-log component of
// the same process.
type APIMetricsSource interface {
	// APIMetrics returns the figures of an instance's tracked APIs,
	// filtered by API and environment id when not empty, for the named
	// windows (all when none), sorted by calls in the first window.
	APIMetrics(instance, apiID, envID string, windows []string) ([]*adminv1.ApiMetrics, error)
	// MaxAPIs is the per-instance tracking limit.
	MaxAPIs() int
	// Streams is the number of access-log streams received.
	Streams() int
}

// WithAPIMetrics answers GetAPIMetrics from src.
func WithAPIMetrics(src APIMetricsSource) Option { return func(s *Server) { s.metrics = src } }

// GetAPIMetrics reports the rolling-window figures of an instance's APIs.
func (s *Server) GetAPIMetrics(ctx context.Context, req *adminv1.GetAPIMetricsRequest) (*adminv1.GetAPIMetricsResponse, error) {
	if s.metrics == nil {
		return nil, status.Error(codes.FailedPrecondition, "the accesslog component does not run in this apigw process: run it with the admin component (--components) to get API metrics")
	}
	inst := instanceOf(req.GetInstance())
	if err := model.CheckInstanceName("instance", inst).Err(); err != nil {
		return nil, s.toStatus(ctx, "metrics", err)
	}
	var in *model.Instance
	if snap := s.feed.Current(); snap != nil {
		in = snap.Instance(inst)
	}
	apiID, err := resolveRef(in, model.KindAPI, "api", req.GetApi())
	if err != nil {
		return nil, s.toStatus(ctx, "metrics", err)
	}
	envID := req.GetEnv()
	if envID != "" && in != nil {
		if e := in.EnvByName(envID); e != nil {
			envID = e.Id
		} else if in.Env(envID) == nil {
			return nil, s.toStatus(ctx, "metrics", fmt.Errorf("env: environment %q: %w", envID, model.ErrNotFound))
		}
	}
	apis, err := s.metrics.APIMetrics(inst, apiID, envID, req.GetWindows())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, "windows: "+err.Error())
	}
	if n := int(req.GetLimit()); n > 0 && len(apis) > n {
		apis = apis[:n]
	}
	for _, a := range apis {
		if in == nil {
			continue
		}
		if e := in.Env(a.EnvId); e != nil {
			a.EnvName = e.Name
		}
		if api := in.API(a.ApiId); api != nil {
			a.ApiName = api.Name
		}
	}
	resp := &adminv1.GetAPIMetricsResponse{Apis: apis, Streams: int32(s.metrics.Streams()), MaxApis: int32(s.metrics.MaxAPIs())}
	escapeInvalidUTF8(resp.ProtoReflect())
	return resp, nil
}

// resolveRef turns an id or unique name into an id. A ref that names no
// current object is kept as an id (figures outlive a deleted API).
func resolveRef(in *model.Instance, kind, field, ref string) (string, error) {
	if ref == "" || in == nil {
		return ref, nil
	}
	o, err := in.Find(kind, ref)
	if errors.Is(err, model.ErrNotFound) {
		if model.CheckID(field, ref).Err() != nil {
			return "", fmt.Errorf("%s: %w", field, err)
		}
		return ref, nil
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", field, err)
	}
	if a, ok := o.(*apigwv1.Api); ok {
		return a.Id, nil
	}
	return ref, nil
}
