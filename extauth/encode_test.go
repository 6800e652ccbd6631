package extauth

import "testing"

func TestAPIGEncoding(t *testing.T) {
	cases := []struct{ in, path, query string }{
		{"[api]", "%5Bapi%5D", "%5Bapi%5D"},
		{"a b\tc", "a%20b%09c", "a%20b%09c"},
		{"x/y?z", "x%2Fy%3Fz", "x/y?z"},
		{"k=v&w+1", "k=v&w+1", "k%3Dv%26w%2B1"},
		{`%#"\^` + "`{|}<>", "%25%23%22%5C%5E%60%7B%7C%7D%3C%3E", "%25%23%22%5C%5E%60%7B%7C%7D%3C%3E"},
		{"caf\u00e9\x7f", "caf%C3%A9%7F", "caf%C3%A9%7F"},
		{"plain-._~!$'()*,;:@", "plain-._~!$'()*,;:@", "plain-._~!$'()*,;:@"},
	}
	for _, c := range cases {
		if got := encodePathValue(c.in); got != c.path {
			t.Errorf("path %q: %q, want %q", c.in, got, c.path)
		}
		if got := encodeQueryValue(c.in); got != c.query {
			t.Errorf("query %q: %q, want %q", c.in, got, c.query)
		}
	}
}
