package snapshot

import (
	"log/slog"

	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// makeReady releases the watches held while the instance had no
// resources. Callers hold ic.mu.
func (ic *instance) makeReady(log *slog.Logger) {
	if ic.ready {
		return
	}
	ic.ready = true
	for p := range ic.parked {
		delete(ic.parked, p)
		if err := ic.open(p); err != nil {
			log.Error("cannot open a held xDS watch", "instance", ic.name, "err", err)
		}
	}
}

// watch opens a watch, or holds it until the instance is ready.
func (ic *instance) watch(p *parkedWatch) (func(), error) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if !ic.ready {
		ic.parked[p] = struct{}{}
	} else if err := ic.open(p); err != nil {
		return nil, err
	}
	return func() {
		ic.mu.Lock()
		delete(ic.parked, p)
		cancel := p.cancel
		ic.mu.Unlock()
		if cancel != nil {
			cancel()
		}
	}, nil
}

// open creates the watch on the type's LinearCache. Callers hold ic.mu.
func (ic *instance) open(p *parkedWatch) error {
	var cancel func()
	var err error
	if p.sotw != nil {
		cancel, err = ic.caches[p.sotw.req.GetTypeUrl()].CreateWatch(p.sotw.req, p.sotw.sub, p.sotw.ch)
	} else {
		cancel, err = ic.caches[p.delta.req.GetTypeUrl()].CreateDeltaWatch(p.delta.req, p.delta.sub, p.delta.ch)
	}
	p.cancel = cancel
	return err
}

// parkedWatch is a watch of a SotW or delta stream.
type parkedWatch struct {
	sotw   *sotwWatch
	delta  *deltaWatch
	cancel func()
}

type sotwWatch struct {
	req *cachev3.Request
	sub cachev3.Subscription
	ch  chan cachev3.Response
}

type deltaWatch struct {
	req *cachev3.DeltaRequest
	sub cachev3.Subscription
	ch  chan cachev3.DeltaResponse
}
