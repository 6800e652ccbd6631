package admin_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/model/store"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

// Stored values and keys that are not UTF-8 are reported with their key
// and an escaped excerpt; the status itself always renders.
func TestStatusRendersObjectsThatAreNotUTF8(t *testing.T) {
	e := setup(t)
	prefix := store.InstancePrefix("default")
	puts := map[string]string{
		prefix + "groups/g1":     "{\"id\":\"g1\",\"name\":\"pe\xfft\"}",
		prefix + "groups/g\xfe2": "{\"name\":\"pets\"}",
		prefix + "apis/a\xff":    "{\"id\":\"a\",\"name\":\"x\xc3\"}",
	}
	for k, v := range puts {
		if _, err := e.etcd.Put(e.ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	waitRevision(t, e, 0, func(s *live.Snapshot) bool { return len(s.Invalid) == len(puts) })
	st, err := e.c.GetStatus(e.ctx, &adminv1.GetStatusRequest{})
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	if len(st.InvalidObjects) != len(puts) {
		t.Fatalf("invalid objects: %v", st.InvalidObjects)
	}
	for _, o := range st.InvalidObjects {
		if !utf8.ValidString(o.Key) || !utf8.ValidString(o.Reason) {
			t.Fatalf("not UTF-8: %q %q", o.Key, o.Reason)
		}
		switch {
		case strings.HasSuffix(o.Key, "groups/g1"):
			if !strings.Contains(o.Reason, `\xff`) || !strings.Contains(o.Reason, "UTF-8") {
				t.Errorf("reason lacks an escaped excerpt: %s", o.Reason)
			}
		case strings.Contains(o.Key, "groups/g"):
			if !strings.Contains(o.Key, `\xfe`) {
				t.Errorf("key not escaped: %q", o.Key)
			}
		}
	}
}
