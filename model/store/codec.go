package store

import (
	"fmt"
	"strconv"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Codec turns objects into stored values and back.
type Codec struct {
	sealer *Sealer
}

// NewCodec returns a codec sealing secrets with s.
func NewCodec(s *Sealer) *Codec { return &Codec{sealer: s} }

var (
	marshal   = protojson.MarshalOptions{UseProtoNames: true}
	unmarshal = protojson.UnmarshalOptions{}
)

// Encode returns the stored form of m: protojson with snake_case names,
// secrets sealed, and no resource_version (that is etcd's ModRevision).
func (c *Codec) Encode(m proto.Message) ([]byte, error) {
	m = proto.Clone(m)
	model.MetaOf(m).ResourceVersion = ""
	for _, s := range model.Secrets(m) {
		sealed, err := c.sealer.Seal(s.Get())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Path, err)
		}
		s.Set(sealed)
	}
	return marshal.Marshal(m)
}

// Decode reads a stored object of the key's kind: it unseals secrets,
// fills defaults, stamps resource_version and validates the object against
// the absolute limits. A non-nil Violations means the object is unusable.
func (c *Codec) Decode(pk ParsedKey, value []byte, modRev int64) (proto.Message, error) {
	if err := model.CheckInstanceName("instance", pk.Instance).Err(); err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	if err := model.CheckUTF8(value); err != nil {
		return nil, err
	}
	m := pk.Kind.New()
	if err := unmarshal.Unmarshal(value, m); err != nil {
		return nil, fmt.Errorf("not a valid %s: %w", pk.Kind.Name, err)
	}
	for _, s := range model.Secrets(m) {
		plain, err := c.sealer.Open(s.Get())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Path, err)
		}
		s.Set(plain)
	}
	switch id := model.IDOf(m); {
	case id == "" && pk.Kind.Name != model.KindInstance && pk.Kind.Name != model.KindRelease:
		model.SetID(m, pk.ID)
	case pk.Kind.Name == model.KindInstance && id == "":
		setInstanceName(m, pk.ID)
	case id != pk.ID:
		return nil, fmt.Errorf("id %q does not match its key (%q)", id, pk.ID)
	}
	model.Normalize(m)
	model.MetaOf(m).ResourceVersion = strconv.FormatInt(modRev, 10)
	if err := model.Validate(m, model.AbsoluteLimits()).Err(); err != nil {
		return nil, err
	}
	return m, nil
}

func setInstanceName(m proto.Message, name string) {
	if in, ok := m.(*apigwv1.Instance); ok {
		in.Name = name
	}
}
