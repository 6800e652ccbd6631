package envoysim

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net"
	"strconv"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

func randUint64() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])
}

// serviceTimeout is a configured timeout (def when unset), widened to
// Options.MinServiceTimeout.
func (e *Envoy) serviceTimeout(configured, def time.Duration) time.Duration {
	if configured <= 0 {
		configured = def
	}
	return max(configured, e.opts.MinServiceTimeout)
}

// grpcConn returns a connection to the first endpoint of a cluster (the
// ext_authz and rate-limit clusters apigw emits have one).
func (e *Envoy) grpcConn(cfg *Config, cluster string) (grpc.ClientConnInterface, error) {
	if e.opts.Services != nil {
		if c := e.opts.Services(cluster); c != nil {
			return c, nil
		}
	}
	cl := cfg.Clusters[cluster]
	if cl == nil {
		return nil, fmt.Errorf("cluster %s not received", cluster)
	}
	if cl.GetType() == clusterv3.Cluster_EDS {
		return nil, fmt.Errorf("cluster %s: gRPC services on EDS clusters are not emulated", cluster)
	}
	eps := cl.GetLoadAssignment().GetEndpoints()
	if len(eps) == 0 || len(eps[0].GetLbEndpoints()) == 0 {
		return nil, fmt.Errorf("cluster %s has no endpoint", cluster)
	}
	sa := eps[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
	addr := net.JoinHostPort(sa.GetAddress(), strconv.Itoa(int(sa.GetPortValue())))
	creds, key := insecure.NewCredentials(), addr
	if ts := cl.GetTransportSocket(); ts != nil {
		cfg, err := UpstreamTLS(ts)
		if err != nil {
			return nil, fmt.Errorf("cluster %s: %w", cluster, err)
		}
		creds, key = credentials.NewTLS(cfg), addr+" tls"
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if c := e.conns[key]; c != nil {
		return c, nil
	}
	c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, err
	}
	e.conns[key] = c
	return c, nil
}
