package server

import (
	"context"
	"fmt"
	"log/slog"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/stats"

	"github.com/apigw/apigw/internal/tlsfiles"
	"github.com/apigw/apigw/xds/xdsauth"
)

// envoyServiceOptions returns the transport options of a gRPC service that
// Envoy calls (xDS, ext_authz, rate limit): mTLS with reloading files when
// configured; otherwise plaintext, with a warning at startup and on every
// new connection (xDS: every new stream) when it listens beyond loopback
// (--<service>-insecure). xDS streams are authorized by xdsauth in any
// case: with mTLS by the Envoy's identity, without it by withholding
// private keys.
func envoyServiceOptions(cfg *Config, comp string, log *slog.Logger) ([]grpc.ServerOption, error) {
	var svc tlsService
	for _, s := range cfg.tlsServices() {
		if s.comp == comp {
			svc = s
		}
	}
	t := *svc.tls
	log = log.With("component", comp)
	var opts []grpc.ServerOption
	insecure := !t.Enabled() && !loopback(*svc.addr)
	switch {
	case t.Enabled():
		files, err := tlsfiles.NewServer(tlsfiles.Files{Cert: t.CertFile, Key: t.KeyFile, ClientCA: t.ClientCAFile}, log)
		if err != nil {
			return nil, fmt.Errorf("%s TLS: %w", comp, err)
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(files.Config())))
	case insecure:
		log.Warn("listening beyond loopback without mTLS (--"+svc.flag+"-insecure): anyone who reaches the port is served", "addr", *svc.addr)
		if comp != CompXDS {
			opts = append(opts, grpc.StatsHandler(insecureConnLog{log: log, flag: svc.flag}))
		}
	default:
		log.Info("serving without mTLS on loopback", "addr", *svc.addr)
	}
	if comp == CompXDS {
		var policy xdsauth.Policy = xdsauth.Convention{}
		if cfg.XDSIdentitiesFile != "" {
			f, err := xdsauth.NewFile(cfg.XDSIdentitiesFile, log, tlsfiles.DefaultInterval)
			if err != nil {
				return nil, fmt.Errorf("--xds-identities-file: %w", err)
			}
			policy = f
		}
		if !t.Enabled() {
			log.Info("xDS without mTLS: secrets holding private keys are withheld from every Envoy (see docs/xds.md)")
		}
		opts = append(opts, xdsauth.New(xdsauth.Options{Policy: policy, RequireClientCert: t.Enabled(), Insecure: insecure, Log: log}).ServerOptions()...)
	}
	return opts, nil
}

// insecureConnLog warns of every new connection to a service that listens
// beyond loopback without mTLS.
type insecureConnLog struct {
	log  *slog.Logger
	flag string
}

func (h insecureConnLog) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }
func (h insecureConnLog) HandleRPC(context.Context, stats.RPCStats)                       {}
func (h insecureConnLog) HandleConn(context.Context, stats.ConnStats)                     {}
func (h insecureConnLog) TagConn(ctx context.Context, info *stats.ConnTagInfo) context.Context {
	h.log.Warn("connection without mTLS (--"+h.flag+"-insecure)", "peer", info.RemoteAddr.String())
	return ctx
}
