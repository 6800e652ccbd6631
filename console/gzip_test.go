package console

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"testing"
)

// A browser that accepts gzip gets the assets compressed, with their own
// validator and Vary; another client gets them as built.
func TestAssetsGzip(t *testing.T) {
	h := Handler(&rpcStub{}, Options{})
	plain := do(h, "GET", "http://127.0.0.1:18006/app.js", nil)
	if plain.Code != 200 || plain.Header().Get("Content-Encoding") != "" {
		t.Fatalf("without Accept-Encoding: %d %v", plain.Code, plain.Header())
	}
	gz := do(h, "GET", "http://127.0.0.1:18006/app.js", map[string]string{"Accept-Encoding": "gzip, deflate, br"})
	if gz.Code != 200 || gz.Header().Get("Content-Encoding") != "gzip" || gz.Header().Get("Vary") != "Accept-Encoding" {
		t.Fatalf("with gzip: %d %v", gz.Code, gz.Header())
	}
	if gz.Header().Get("ETag") == plain.Header().Get("ETag") {
		t.Errorf("the compressed and plain bodies share the ETag %s", gz.Header().Get("ETag"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(body, plain.Body.Bytes()) {
		t.Fatalf("gunzipped body differs from the plain one (%v)", err)
	}
	t.Logf("app.js: %d bytes, %d gzipped", plain.Body.Len(), gz.Body.Len())
	if gz.Body.Len()*2 > plain.Body.Len() {
		t.Errorf("gzip saves little: %d of %d bytes", gz.Body.Len(), plain.Body.Len())
	}
	if w := do(h, "GET", "http://127.0.0.1:18006/app.js", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": gz.Header().Get("ETag")}); w.Code != http.StatusNotModified {
		t.Errorf("revalidation of the compressed body: %d", w.Code)
	}
	if w := do(h, "GET", "http://127.0.0.1:18006/app.js", map[string]string{"Accept-Encoding": "gzip;q=0"}); w.Header().Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0 refused gzip, got %v", w.Header())
	}
}
