package adminv1_test

import (
	"net/http"
	"testing"

	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

func TestHeadersOfSortsNamesAndKeepsValueOrder(t *testing.T) {
	h := http.Header{"X-B": {"2", "1"}, "A": {"x"}}
	got := adminv1.HeadersOf(h)
	want := [][2]string{{"A", "x"}, {"X-B", "2"}, {"X-B", "1"}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i, w := range want {
		if got[i].GetName() != w[0] || got[i].GetValue() != w[1] {
			t.Errorf("header %d: %s=%s, want %s=%s", i, got[i].GetName(), got[i].GetValue(), w[0], w[1])
		}
	}
}
