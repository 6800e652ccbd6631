package xdscache

import (
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/proto"
)

// seq numbers Resource values: two Resources with the same seq have the
// same content.
var seq atomic.Uint64

// Resource is one xDS resource as served: immutable, encoded once (on
// first use) and shared by every stream that sends it.
type Resource struct {
	Name string
	Msg  proto.Message
	// Seq identifies this content in this process: it changes whenever
	// the resource is updated (or, for endpoints, resent).
	Seq uint64
	enc *encoding
}

type encoding struct {
	once sync.Once
	done atomic.Bool
	body []byte
	hash string
	err  error
}

func newResource(name string, m proto.Message) *Resource {
	return &Resource{Name: name, Msg: m, Seq: seq.Add(1), enc: &encoding{}}
}

// Body returns the deterministic encoding of the resource.
func (r *Resource) Body() ([]byte, error) {
	r.encode()
	return r.enc.body, r.enc.err
}

// Hash returns a digest of the encoding: the resource version of delta
// xDS, stable across apigw restarts.
func (r *Resource) Hash() (string, error) {
	r.encode()
	return r.enc.hash, r.enc.err
}

func (r *Resource) encode() {
	r.enc.once.Do(func() {
		r.enc.body, r.enc.err = proto.MarshalOptions{Deterministic: true}.Marshal(r.Msg)
		if r.enc.err == nil {
			sum := sha256.Sum256(r.enc.body)
			r.enc.hash = base64.RawURLEncoding.EncodeToString(sum[:12])
		}
		r.enc.done.Store(true)
	})
}

// encoded reports whether the resource has been encoded.
func (r *Resource) encoded() bool { return r.enc.done.Load() }

// withMsg returns the same resource (content, Seq and encoding) carrying
// an equal message, so that the next comparison is by pointer.
func (r *Resource) withMsg(m proto.Message) *Resource {
	return &Resource{Name: r.Name, Msg: m, Seq: r.Seq, enc: r.enc}
}
