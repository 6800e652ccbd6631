package console

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// dist is the app as built by `make console` (console/web/build.mjs).
//
//go:embed dist
var dist embed.FS

// asset is one embedded file with its validator, and its gzip
// compression (nil when that saves nothing) with the validator of that.
type asset struct {
	body   []byte
	ctype  string
	etag   string
	gz     []byte
	gzEtag string
}

type assets struct{ files map[string]asset }

func newAssets() *assets {
	a := &assets{files: map[string]asset{}}
	_ = fs.WalkDir(dist, "dist", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := dist.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = http.DetectContentType(b)
		}
		f := asset{body: b, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		if gz := compress(b); len(gz) < len(b) {
			f.gz, f.gzEtag = gz, `"`+hex.EncodeToString(sum[:12])+`-gz"`
		}
		a.files["/"+strings.TrimPrefix(p, "dist/")] = f
		return nil
	})
	return a
}

// Size returns the total size of the embedded assets in bytes.
func Size() int {
	n := 0
	for _, f := range newAssets().files {
		n += len(f.body)
	}
	return n
}

// ServeHTTP serves GET and HEAD of the assets; "/" and unknown paths
// without an extension are the app's page (it routes by the URL hash).
// Every response is revalidated (ETag), so a new binary never leaves an
// old app in a browser's cache.
func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	f, ok := a.files[p]
	if !ok && path.Ext(p) == "" {
		f, ok = a.files["/index.html"]
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	body, etag := f.body, f.etag
	if f.gz != nil {
		w.Header().Set("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			body, etag = f.gz, f.gzEtag
			w.Header().Set("Content-Encoding", "gzip")
		}
	}
	w.Header().Set("Content-Type", f.ctype)
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// compress gzips b once, when the handler is made (the same bytes every
// time: no name or time in the header).
func compress(b []byte) []byte {
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	if _, err := zw.Write(b); err != nil {
		return nil
	}
	if err := zw.Close(); err != nil {
		return nil
	}
	return out.Bytes()
}

// acceptsGzip reports whether an Accept-Encoding header accepts gzip (not
// with q=0).
func acceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return !(strings.HasPrefix(q, "q=0") && strings.Trim(strings.TrimPrefix(q, "q="), "0.") == "")
	}
	return false
}
