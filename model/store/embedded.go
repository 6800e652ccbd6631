package store

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap/zapcore"
)

// EmbeddedConfig configures the embedded single-member etcd.
type EmbeddedConfig struct {
	// Dir holds etcd's data (member/ under it).
	Dir string
	// ClientURL is where etcd serves clients (etcdctl too), e.g.
	// http://127.0.0.1:2379. Port 0 picks a free port.
	ClientURL string
	// PeerURL is the peer listener, e.g. http://127.0.0.1:2380.
	PeerURL string
	// LogLevel of etcd's own logger (default "error").
	LogLevel string
	// Logger receives etcd's logs (default: etcd's own JSON logger).
	Logger *slog.Logger
	// Name and InitialCluster ("name=peerURL,...") make the member part
	// of a cluster of several (tests); by default it is alone, "apigw".
	Name, InitialCluster string
}

// Embedded is a running embedded etcd.
type Embedded struct {
	e    *embed.Etcd
	once sync.Once
}

// StartEmbedded starts etcd in-process and waits until it serves.
func StartEmbedded(ctx context.Context, c EmbeddedConfig) (*Embedded, error) {
	cu, err := url.Parse(c.ClientURL)
	if err != nil {
		return nil, fmt.Errorf("embedded etcd client URL %q: %w", c.ClientURL, err)
	}
	pu, err := url.Parse(c.PeerURL)
	if err != nil {
		return nil, fmt.Errorf("embedded etcd peer URL %q: %w", c.PeerURL, err)
	}
	cfg := embed.NewConfig()
	cfg.Name = "apigw"
	if c.Name != "" {
		cfg.Name = c.Name
	}
	cfg.Dir = c.Dir
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	if c.InitialCluster != "" {
		cfg.InitialCluster = c.InitialCluster
	}
	cfg.LogLevel = c.LogLevel
	if cfg.LogLevel == "" {
		cfg.LogLevel = "error"
	}
	if c.Logger != nil {
		var lvl zapcore.Level
		if err := lvl.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
			lvl = zapcore.ErrorLevel
		}
		cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(ZapToSlog(c.Logger.With("component", "etcd"), lvl))
	}
	// Imports and publications are single transactions.
	cfg.MaxTxnOps = 100_000
	cfg.MaxRequestBytes = 64 << 20
	cfg.AutoCompactionMode = "periodic"
	cfg.AutoCompactionRetention = "1h"
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("start embedded etcd in %s: %w", c.Dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd: %w", err)
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	case <-time.After(30 * time.Second):
		e.Close()
		return nil, fmt.Errorf("embedded etcd in %s did not become ready within 30s", c.Dir)
	}
	return &Embedded{e: e}, nil
}

// Endpoint returns the address clients dial (host:port).
func (e *Embedded) Endpoint() string { return e.e.Clients[0].Addr().String() }

// Err reports fatal errors of the running etcd.
func (e *Embedded) Err() <-chan error { return e.e.Err() }

// Close stops etcd.
func (e *Embedded) Close() { e.once.Do(e.e.Close) }
