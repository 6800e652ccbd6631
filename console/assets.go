package console

import (
	"bytes"
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

// asset is one embedded file with its validator.
type asset struct {
	body  []byte
	ctype string
	etag  string
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
		a.files["/"+strings.TrimPrefix(p, "dist/")] = asset{body: b, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
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
	w.Header().Set("Content-Type", f.ctype)
	w.Header().Set("ETag", f.etag)
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}
