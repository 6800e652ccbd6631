package translate

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

type validator interface{ ValidateAll() error }

// validate runs the PGV rules of m (ValidateAll does not descend into
// Any, so every typed config is validated before it is packed).
func validate(m proto.Message) error {
	if v, ok := m.(validator); ok {
		if err := v.ValidateAll(); err != nil {
			return fmt.Errorf("%s: %w", m.ProtoReflect().Descriptor().FullName(), err)
		}
	}
	return nil
}

// toAny validates m and packs it deterministically, so that equal configs
// give equal bytes (delta xDS hashes them).
func toAny(m proto.Message) (*anypb.Any, error) {
	if err := validate(m); err != nil {
		return nil, err
	}
	a := &anypb.Any{}
	if err := anypb.MarshalFrom(a, m, proto.MarshalOptions{Deterministic: true}); err != nil {
		return nil, fmt.Errorf("pack %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	return a, nil
}

// anyPacker packs typed configs and keeps the first error, so that builders
// can pack several configs and check once.
type anyPacker struct{ err error }

func (p *anyPacker) pack(m proto.Message) *anypb.Any {
	a, err := toAny(m)
	if err != nil && p.err == nil {
		p.err = err
	}
	return a
}
