// Package store keeps apigw definitions in etcd: one key per object, stored
// as protojson with secrets encrypted, written in guarded transactions and
// read back through a list-then-watch loop into model snapshots. The key
// layout is documented in docs/etcd.md.
package store

import (
	"strings"

	"github.com/apigw/apigw/model"
)

// Prefix is the root of every apigw key.
const Prefix = "/apigw/v1/"

// InstanceKey is the key of an instance object.
func InstanceKey(name string) string { return Prefix + "instances/" + name }

// InstancePrefix is the prefix of every object of an instance.
func InstancePrefix(instance string) string { return Prefix + "i/" + instance + "/" }

// ObjectKey is the key of an object of a kind in an instance.
func ObjectKey(instance string, k *model.Kind, id string) string {
	if k.Name == model.KindInstance {
		return InstanceKey(id)
	}
	return InstancePrefix(instance) + k.Segment + "/" + id
}

// GenerationKey is bumped by every admin write to an instance; writes
// compare it to detect concurrent changes (deletions included).
func GenerationKey(instance string) string { return Prefix + "generations/" + instance }

// ParsedKey is a decoded object key.
type ParsedKey struct {
	Instance string
	Kind     *model.Kind
	ID       string
}

// ParseKey decodes an object key; ok is false for keys that hold no object.
func ParseKey(key string) (ParsedKey, bool) {
	rest, ok := strings.CutPrefix(key, Prefix)
	if !ok {
		return ParsedKey{}, false
	}
	if name, ok := strings.CutPrefix(rest, "instances/"); ok && name != "" && !strings.Contains(name, "/") {
		return ParsedKey{Instance: name, Kind: model.KindByName(model.KindInstance), ID: name}, true
	}
	rest, ok = strings.CutPrefix(rest, "i/")
	if !ok {
		return ParsedKey{}, false
	}
	parts := strings.SplitN(rest, "/", 3)
	if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
		return ParsedKey{}, false
	}
	k := model.KindBySegment(parts[1])
	if k == nil || k.Name == model.KindInstance {
		return ParsedKey{}, false
	}
	return ParsedKey{Instance: parts[0], Kind: k, ID: parts[2]}, true
}

// AuditPrefix is where the audit events of an instance are kept, outside
// Prefix: the object watch never sees them.
func AuditPrefix(instance string) string { return "/apigw/audit/v1/" + instance + "/" }
