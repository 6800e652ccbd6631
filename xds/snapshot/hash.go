package snapshot

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// NodeHash groups Envoys by node.cluster, the apigw instance they serve:
// every Envoy of an instance shares its resources.
type NodeHash struct{}

var _ cachev3.NodeHash = NodeHash{}

// ID returns the node's cluster.
func (NodeHash) ID(n *corev3.Node) string { return n.GetCluster() }
