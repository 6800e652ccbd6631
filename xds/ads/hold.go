package ads

// holdRejected keeps a new subscription from being sent again the version
// of its type that this Envoy rejected on an earlier stream, when the
// Envoy still runs a configuration (its request names a version): the
// subscription counts that version as sent and waits for the next one.
// An Envoy that starts empty gets it (it may accept it now; it needs
// something to start).
func (st *stream) holdRejected(sb *sub, running bool) {
	if !running {
		return
	}
	cur := st.inst.Current(sb.feed)
	if cur == nil || st.s.track.rejected(st.node.GetId(), sb.feed) != cur.ID {
		return
	}
	sb.reply = false
	sb.sent = cur.ID
	for n, r := range cur.Resources {
		if _, ok := sb.names[n]; !ok && !sb.wildcard {
			continue
		}
		if st.delta {
			sb.hashes[n], _ = r.Hash()
		} else {
			sb.seqs[n] = r.Seq
		}
	}
}
