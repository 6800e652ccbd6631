// Package xdsauth authorizes xDS streams by the Envoy's client
// certificate, as gRPC interceptors in front of any xDS server.
//
// An Envoy is identified by the certificate it presented over mTLS: each
// URI SAN (e.g. a SPIFFE id) and each DNS SAN of the verified leaf
// certificate is one of its identities. The identities decide which apigw
// instances (node.cluster) the Envoy may subscribe to (a Policy). The
// interceptors read the node of the first DiscoveryRequest or
// DeltaDiscoveryRequest of a stream (Envoy sends it only there with
// set_node_on_first_message_only) and refuse the stream with
// PERMISSION_DENIED before the server sees a request for an instance the
// identity may not have, or a later request naming another instance.
//
// A stream without a verified client certificate (apigw listening without
// mTLS) may subscribe to any instance, but Secret resources that carry key
// material — TLS certificates with their private keys, session ticket keys,
// generic secrets — are removed from every response it receives; only
// validation contexts (CA bundles) pass. Private keys therefore reach only
// authenticated Envoys, whatever the server sends.
package xdsauth

import (
	"context"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// Identities returns the identities of the peer of ctx: the URI SANs and
// DNS SANs of its verified client certificate. ok is false when the peer
// presented no certificate that was verified against the client CA.
func Identities(ctx context.Context) (ids []string, ok bool) {
	p, found := peer.FromContext(ctx)
	if !found {
		return nil, false
	}
	info, isTLS := p.AuthInfo.(credentials.TLSInfo)
	if !isTLS || len(info.State.VerifiedChains) == 0 || len(info.State.VerifiedChains[0]) == 0 {
		return nil, false
	}
	leaf := info.State.VerifiedChains[0][0]
	for _, u := range leaf.URIs {
		ids = append(ids, u.String())
	}
	ids = append(ids, leaf.DNSNames...)
	return ids, true
}

func peerAddr(ctx context.Context) string {
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		return p.Addr.String()
	}
	return ""
}
