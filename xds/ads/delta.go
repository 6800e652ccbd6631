package ads

import (
	"maps"
	"slices"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/apigw/apigw/xds/xdscache"
)

// handleDelta applies a delta request: subscription changes always; the
// answer to the last response (ACK, or NACK with error_detail) when it
// carries that response's nonce.
func (st *stream) handleDelta(req *discoveryv3.DeltaDiscoveryRequest, typeURL string) {
	sb := st.subs[typeURL]
	if sb == nil {
		sb = &sub{typeURL: typeURL, feed: st.feedOf(typeURL), legacy: len(req.ResourceNamesSubscribe) == 0,
			names: map[string]struct{}{}, hashes: maps.Clone(req.InitialResourceVersions)}
		if sb.hashes == nil {
			sb.hashes = map[string]string{}
		}
		sb.wildcard = sb.legacy
		// Envoy finishes initializing a wildcard subscription on the first
		// response, even an empty one.
		sb.reply = sb.wildcard
		st.subs[typeURL] = sb
		sb.updateDelta(req.ResourceNamesSubscribe, req.ResourceNamesUnsubscribe)
		st.holdRejected(sb, len(req.InitialResourceVersions) > 0)
	} else {
		sb.updateDelta(req.ResourceNamesSubscribe, req.ResourceNamesUnsubscribe)
	}
	if req.ResponseNonce != "" && req.ResponseNonce == sb.nonce {
		st.record(sb, "", req.GetErrorDetail().GetMessage(), req.ErrorDetail != nil)
	}
	// Any request of the type may be answered (as with go-control-plane).
	sb.pending = false
}

// updateDelta applies resource_names_subscribe and _unsubscribe.
func (sb *sub) updateDelta(subscribe, unsubscribe []string) {
	if sb.legacy {
		if len(subscribe) == 0 {
			return
		}
		sb.legacy = false
	}
	for _, n := range subscribe {
		if n == "*" {
			sb.wildcard = true
		} else {
			sb.names[n] = struct{}{}
		}
	}
	for _, n := range unsubscribe {
		if n == "*" {
			sb.wildcard = false
			continue
		}
		if _, ok := sb.names[n]; ok && sb.wildcard {
			// Still covered by the wildcard: the protocol wants it sent
			// again (or reported removed).
			sb.hashes[n] = ""
		} else {
			delete(sb.hashes, n)
		}
		delete(sb.names, n)
	}
}

// deltaResponse returns what a delta subscription is due at version cur:
// the resources whose version the client does not have (so a rejected
// one is not sent again) and the removals of what it has.
func (st *stream) deltaResponse(sb *sub, cur *xdscache.Version) (*wire, func(), error) {
	candidates := sortedNames(sb.names)
	if sb.wildcard {
		candidates = cur.Names()
	}
	var send []string
	for _, n := range candidates {
		r := cur.Resources[n]
		if r == nil {
			continue
		}
		h, err := r.Hash()
		if err != nil {
			return nil, nil, err
		}
		if have, ok := sb.hashes[n]; !ok || have != h {
			send = append(send, n)
		}
	}
	var removed []string
	for n := range sb.hashes {
		if _, sub := sb.names[n]; cur.Resources[n] == nil && (sb.wildcard || sub) {
			removed = append(removed, n)
		}
	}
	slices.Sort(removed)
	if len(send) == 0 && len(removed) == 0 && !sb.reply {
		return nil, nil, nil
	}
	w, err := st.respond(sb, cur, memoKey("d", send, removed), func(nonce string) (*wire, error) {
		return deltaWire(sb.typeURL, cur, send, removed, nonce)
	})
	return w, func() {
		for _, n := range send {
			sb.hashes[n], _ = cur.Resources[n].Hash()
		}
		for _, n := range removed {
			delete(sb.hashes, n)
		}
	}, err
}

func deltaWire(typeURL string, cur *xdscache.Version, names, removed []string, nonce string) (*wire, error) {
	resp := &discoveryv3.DeltaDiscoveryResponse{SystemVersionInfo: cur.ID, TypeUrl: typeURL, Nonce: nonce, RemovedResources: removed,
		Resources: make([]*discoveryv3.Resource, 0, len(names))}
	for _, n := range names {
		r := cur.Resources[n]
		body, err := r.Body()
		if err != nil {
			return nil, err
		}
		h, _ := r.Hash()
		resp.Resources = append(resp.Resources, &discoveryv3.Resource{Name: n, Version: h, Resource: &anypb.Any{TypeUrl: typeURL, Value: body}})
	}
	return newWire(resp, nonce, cur.ID)
}
