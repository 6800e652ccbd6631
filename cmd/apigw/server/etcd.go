package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/apigw/apigw/model/store"
)

// connectEtcd starts the embedded etcd or connects to the external cluster
// and checks that it answers. The returned func closes both.
func connectEtcd(ctx context.Context, cfg *Config, log *slog.Logger) (*clientv3.Client, func(), error) {
	endpoints := cfg.EtcdEndpoints
	closeEmbedded := func() {}
	if cfg.Embedded() {
		e, err := store.StartEmbedded(ctx, store.EmbeddedConfig{Dir: cfg.DataDir + "/etcd", ClientURL: cfg.EmbeddedClientURL, PeerURL: cfg.EmbeddedPeerURL, LogLevel: "error", Logger: log})
		if err != nil {
			if strings.Contains(err.Error(), "address already in use") {
				err = fmt.Errorf("%w (is another etcd or apigw running? change --embedded-etcd-client-url / --embedded-etcd-peer-url)", err)
			}
			return nil, nil, err
		}
		closeEmbedded = e.Close
		endpoints = []string{e.Endpoint()}
		log.Info("embedded etcd started", "data_dir", cfg.DataDir, "client_url", cfg.EmbeddedClientURL)
	}
	var tlsCfg *tls.Config
	if cfg.EtcdCAFile != "" || cfg.EtcdCertFile != "" {
		info := transport.TLSInfo{TrustedCAFile: cfg.EtcdCAFile, CertFile: cfg.EtcdCertFile, KeyFile: cfg.EtcdKeyFile}
		c, err := info.ClientConfig()
		if err != nil {
			closeEmbedded()
			return nil, nil, fmt.Errorf("etcd TLS: %w", err)
		}
		tlsCfg = c
	}
	zl := store.ZapToSlog(log.With("component", "etcd-client"), zap.ErrorLevel)
	cli, err := clientv3.New(clientv3.Config{
		Endpoints: endpoints, DialTimeout: cfg.EtcdDialTimeout, TLS: tlsCfg,
		Username: cfg.EtcdUsername, Password: cfg.EtcdPassword, Logger: zl,
		DialKeepAliveTime: 30 * time.Second, DialKeepAliveTimeout: 10 * time.Second,
		MaxCallSendMsgSize: 64 << 20,
	})
	if err != nil {
		closeEmbedded()
		return nil, nil, fmt.Errorf("etcd client for %v: %w", endpoints, err)
	}
	pctx, cancel := context.WithTimeout(ctx, cfg.EtcdDialTimeout)
	defer cancel()
	if _, err := cli.Get(pctx, store.Prefix+"probe"); err != nil {
		_ = cli.Close()
		closeEmbedded()
		return nil, nil, fmt.Errorf("etcd at %s is unreachable: %w", strings.Join(endpoints, ","), err)
	}
	return cli, func() { _ = cli.Close(); closeEmbedded() }, nil
}

// secretKey loads the key that seals secrets at rest.
func secretKey(cfg *Config) ([]byte, error) {
	if cfg.SecretKey != "" {
		return store.ParseSecretKey([]byte(cfg.SecretKey))
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil && cfg.Embedded() {
		return nil, err
	}
	return store.LoadOrCreateKeyFile(cfg.SecretKeyFile, cfg.Embedded())
}
