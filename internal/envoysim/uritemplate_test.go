package envoysim

import "testing"

func TestURITemplate(t *testing.T) {
	for _, c := range []struct {
		tpl, path string
		vars      map[string]string
	}{
		{"/users/{id}", "/users/42", map[string]string{"id": "42"}},
		{"/users/{id}", "/users/42/x", nil},
		{"/users/{id}", "/users/", nil},
		{"/a/{b=**}", "/a", nil}, // envoyproxy/envoy#33571
		{"/a/{b=**}", "/a/", map[string]string{"b": ""}},
		{"/a/{b=**}", "/a/x/y", map[string]string{"b": "x/y"}},
		{"/shops/{shop}/orders/{rest=**}", "/shops/s1/orders/9/items", map[string]string{"shop": "s1", "rest": "9/items"}},
		{"/v1/{x}.json", "/v1/a.json", map[string]string{"x": "a"}},
		{"/files/*", "/files/a", map[string]string{}},
	} {
		tpl, err := compileURITemplate(c.tpl)
		if err != nil {
			t.Fatal(err)
		}
		got := tpl.match(c.path)
		if (got == nil) != (c.vars == nil) || len(got) != len(c.vars) {
			t.Errorf("%s on %s: %v, want %v", c.tpl, c.path, got, c.vars)
			continue
		}
		for k, v := range c.vars {
			if got[k] != v {
				t.Errorf("%s on %s: %s=%q, want %q", c.tpl, c.path, k, got[k], v)
			}
		}
	}
	out, err := rewriteURITemplate("/orders/{shop}/{rest}", map[string]string{"shop": "s1", "rest": "9/items"})
	if err != nil || out != "/orders/s1/9/items" {
		t.Errorf("rewrite: %q, %v", out, err)
	}
	if _, err := rewriteURITemplate("/x/{nope}", map[string]string{}); err == nil {
		t.Error("a rewrite variable the match did not capture should fail")
	}
}
