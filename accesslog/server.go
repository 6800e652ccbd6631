// Package accesslog serves Envoy's gRPC Access Log Service
// (envoy.service.accesslog.v3) and turns the HTTP access-log entries of the
// HCMs apigw configures into per-API figures: Prometheus series and rolling
// windows answered through the admin API.
//
// Envoy's http_grpc access logger batches entries per worker thread and
// sends them on a long-lived stream, off the request path: the first
// message of a stream carries the identifier (node and log_name), later
// ones only entries. Each entry names its API with the custom tags the
// translator copies from the route metadata (model/dataplane), and its app,
// user and APIG error with the dynamic metadata of ext_authz and the
// rate-limit service.
package accesslog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	datav3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	alsv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/apigw/apigw/dataplane"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

// Sink receives the records of the access-log stream.
type Sink interface{ Add(r *Record) }

// Server implements AccessLogServiceServer.
type Server struct {
	alsv3.UnimplementedAccessLogServiceServer
	log     *slog.Logger
	sinks   []Sink
	stats   *Stats
	members *Members
	streams atomic.Int32

	recorded, ignored prometheus.Counter
	streamGauge       prometheus.Gauge
}

// New returns a server feeding stats (and any further sinks).
func New(stats *Stats, log *slog.Logger, reg prometheus.Registerer, sinks ...Sink) (*Server, error) {
	entries := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "apigw", Subsystem: "accesslog", Name: "entries_total",
		Help: "HTTP access-log entries received, by result: recorded, or ignored (another log_name, entries other than the request's final one)."}, []string{"result"})
	streams := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "apigw", Subsystem: "accesslog", Name: "streams",
		Help: "Open access-log streams (one per Envoy worker thread)."})
	if reg != nil {
		for _, c := range []prometheus.Collector{entries, streams} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("accesslog: registering metrics: %w", err)
			}
		}
	}
	s := &Server{log: log.With("component", "accesslog"), stats: stats, recorded: entries.WithLabelValues("recorded"),
		ignored: entries.WithLabelValues("ignored"), streamGauge: streams}
	if stats != nil {
		s.members = NewMembers(MembersOptions{})
		s.sinks = append(s.sinks, stats, s.members)
	}
	s.sinks = append(s.sinks, sinks...)
	return s, nil
}

// Register registers the service on a gRPC server.
func (s *Server) Register(g *grpc.Server) { alsv3.RegisterAccessLogServiceServer(g, s) }

// Streams is the number of open access-log streams.
func (s *Server) Streams() int { return int(s.streams.Load()) }

// APIMetrics answers the admin API from the stats (see Stats.APIMetrics).
func (s *Server) APIMetrics(instance, apiID, envID string, windows []string) ([]*adminv1.ApiMetrics, error) {
	return s.stats.APIMetrics(instance, apiID, envID, windows)
}

// ChannelHealth returns the figures of a channel's called member
// addresses and the span they cover.
func (s *Server) ChannelHealth(instance, channelID string) ([]*adminv1.MemberHealth, string) {
	if s.members == nil {
		return nil, memberWindow
	}
	return s.members.Channel(instance, channelID), memberWindow
}

// MaxAPIs is the per-instance tracking limit of the stats.
func (s *Server) MaxAPIs() int { return s.stats.MaxAPIs() }

// Run expires idle APIs (and whatever else a sink lets expire, such as
// member health) every minute until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			for _, k := range s.sinks {
				if e, ok := k.(interface{ Expire() }); ok {
					e.Expire()
				}
			}
		}
	}
}

// StreamAccessLogs receives one Envoy logger's stream.
func (s *Server) StreamAccessLogs(stream alsv3.AccessLogService_StreamAccessLogsServer) error {
	s.streamGauge.Set(float64(s.streams.Add(1)))
	defer func() { s.streamGauge.Set(float64(s.streams.Add(-1))) }()
	var node *corev3.Node
	logName := ""
	msg := &alsv3.StreamAccessLogsMessage{}
	for {
		if err := stream.RecvMsg(msg); err != nil {
			if errors.Is(err, io.EOF) {
				return stream.SendAndClose(&alsv3.StreamAccessLogsResponse{})
			}
			return err
		}
		if id := msg.GetIdentifier(); id != nil {
			node, logName = id.GetNode(), id.GetLogName()
		}
		entries := msg.GetHttpLogs().GetLogEntry()
		if logName != dataplane.AccessLogName {
			s.ignored.Add(float64(len(entries)))
			continue
		}
		n := 0
		for _, e := range entries {
			// One entry per request: the one written when the
			// downstream stream ends (NotSet from Envoys that do not say).
			if t := e.GetCommonProperties().GetAccessLogType(); t != datav3.AccessLogType_NotSet && t != datav3.AccessLogType_DownstreamEnd {
				continue
			}
			r := Decode(node, e)
			for _, k := range s.sinks {
				k.Add(&r)
			}
			n++
		}
		s.recorded.Add(float64(n))
		if n < len(entries) {
			s.ignored.Add(float64(len(entries) - n))
		}
	}
}
