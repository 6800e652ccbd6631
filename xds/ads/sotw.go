package ads

import (
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/apigw/apigw/xds/xdscache"
)

// handleSotw applies a SotW request: the first of a type opens the
// subscription; later ones count only when they carry the nonce of the
// last response (older ones are stale), update the subscribed names and
// answer that response (ACK, or NACK with error_detail).
func (st *stream) handleSotw(req *discoveryv3.DiscoveryRequest, typeURL string) {
	sb := st.subs[typeURL]
	if sb == nil {
		sb = &sub{typeURL: typeURL, feed: st.feedOf(typeURL), legacy: len(req.ResourceNames) == 0, seqs: map[string]uint64{}, reply: true}
		sb.wildcard = sb.legacy
		sb.setSotwNames(req.ResourceNames)
		st.subs[typeURL] = sb
		st.holdRejected(sb, req.VersionInfo != "")
		return
	}
	if sb.nonce != "" && req.ResponseNonce != sb.nonce {
		return
	}
	if sb.setSotwNames(req.ResourceNames) && xdscache.FullState(typeURL) {
		sb.sent = "" // the response must reflect the new set
	}
	if sb.pending && req.ResponseNonce != "" {
		sb.pending = false
		st.record(sb, req.VersionInfo, req.GetErrorDetail().GetMessage(), req.ErrorDetail != nil)
	}
}

// setSotwNames sets the subscribed names of a SotW request and reports
// whether the subscription changed. Content sent for names no longer
// subscribed is forgotten, so that subscribing again gets it again.
func (sb *sub) setSotwNames(names []string) bool {
	if sb.legacy {
		if len(names) == 0 {
			return false
		}
		sb.legacy = false
	}
	set := make(map[string]struct{}, len(names))
	wildcard := false
	for _, n := range names {
		if n == "*" {
			wildcard = true
		} else {
			set[n] = struct{}{}
		}
	}
	changed := wildcard != sb.wildcard || len(set) != len(sb.names)
	for n := range set {
		if _, ok := sb.names[n]; !ok {
			changed = true
		}
	}
	if !wildcard {
		for n := range sb.seqs {
			if _, ok := set[n]; !ok {
				delete(sb.seqs, n)
			}
		}
	}
	sb.wildcard, sb.names = wildcard, set
	return changed
}

// sotwResponse returns what a SotW subscription is due at version cur
// (nil: nothing) and the state change to commit once it is sent. Full-
// state types (listeners, clusters, scopes) get every resource whenever
// any changed; the others get the resources whose content changed since
// they were last sent, so a rejected content is not sent again.
func (st *stream) sotwResponse(sb *sub, cur *xdscache.Version) (*wire, func(), error) {
	full := xdscache.FullState(sb.typeURL)
	if sb.wildcard && full {
		if !sb.reply && sb.sent == cur.ID {
			return nil, nil, nil
		}
		w, err := st.respond(sb, cur, "s*", func(nonce string) (*wire, error) { return sotwWire(sb.typeURL, cur, cur.Names(), nonce) })
		return w, func() { sb.sent = cur.ID }, err
	}
	candidates := cur.Names()
	if !sb.wildcard {
		candidates = sortedNames(sb.names)
	}
	changed := false
	var send []string
	for _, n := range candidates {
		r := cur.Resources[n]
		if r == nil {
			continue
		}
		if seq, ok := sb.seqs[n]; !ok || seq != r.Seq {
			changed = true
			send = append(send, n)
		} else if full {
			send = append(send, n)
		}
	}
	var gone []string
	for n := range sb.seqs {
		if cur.Resources[n] == nil {
			gone = append(gone, n)
		}
	}
	if full && len(gone) > 0 {
		changed = true // the response removes them
	}
	forget := func() {
		for _, n := range gone {
			delete(sb.seqs, n)
		}
	}
	if !changed && !sb.reply {
		forget()
		return nil, nil, nil
	}
	w, err := st.respond(sb, cur, memoKey("s", send), func(nonce string) (*wire, error) { return sotwWire(sb.typeURL, cur, send, nonce) })
	return w, func() {
		forget()
		for _, n := range send {
			sb.seqs[n] = cur.Resources[n].Seq
		}
	}, err
}

func sotwWire(typeURL string, cur *xdscache.Version, names []string, nonce string) (*wire, error) {
	resp := &discoveryv3.DiscoveryResponse{VersionInfo: cur.ID, TypeUrl: typeURL, Nonce: nonce, Resources: make([]*anypb.Any, 0, len(names))}
	for _, n := range names {
		body, err := cur.Resources[n].Body()
		if err != nil {
			return nil, err
		}
		resp.Resources = append(resp.Resources, &anypb.Any{TypeUrl: typeURL, Value: body})
	}
	return newWire(resp, nonce, cur.ID)
}
