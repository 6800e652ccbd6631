package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// module is the module path of the repository.
const module = "github.com/apigw/apigw"

// goFile is one parsed Go file of the module.
type goFile struct {
	path string // relative to the module root, slash-separated
	pkg  string // import path of its package
	test bool
	ast  *ast.File
}

// moduleFiles parses every Go file of the main module (not of nested
// modules), with comments, and skips generated files when skipGenerated.
func moduleFiles(t *testing.T, skipGenerated bool) []goFile {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "go.mod")); err != nil || !strings.Contains(string(b), "module "+module+"\n") {
		t.Fatalf("%s is not the root of %s: %v", root, module, err)
	}
	fset := token.NewFileSet()
	var out []goFile
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "." {
				return nil
			}
			base := d.Name()
			if strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_") || base == "testdata" || base == "bin" || base == "data" {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				return filepath.SkipDir // a nested module has its own rules
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		if skipGenerated && ast.IsGenerated(f) {
			return nil
		}
		dir := filepath.ToSlash(filepath.Dir(rel))
		pkg := module
		if dir != "." {
			pkg += "/" + dir
		}
		out = append(out, goFile{path: rel, pkg: pkg, test: strings.HasSuffix(rel, "_test.go"), ast: f})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// importGraph returns, for every package of the module, the module
// packages its non-test files import.
func importGraph(files []goFile) map[string][]string {
	g := map[string][]string{}
	for _, f := range files {
		if f.test {
			continue
		}
		if _, ok := g[f.pkg]; !ok {
			g[f.pkg] = nil
		}
		for _, is := range f.ast.Imports {
			p, _ := strconv.Unquote(is.Path.Value)
			if p == module || strings.HasPrefix(p, module+"/") {
				g[f.pkg] = append(g[f.pkg], p)
			}
		}
	}
	return g
}

// deps returns the module packages pkg depends on, directly or not, sorted
// (as go list -deps, restricted to the module and without pkg itself).
func deps(g map[string][]string, pkg string) []string {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(p string) {
		for _, d := range g[p] {
			if !seen[d] {
				seen[d] = true
				walk(d)
			}
		}
	}
	walk(pkg)
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// under reports whether pkg is dir (a module-relative directory) or below.
func under(pkg, dir string) bool {
	p := module + "/" + dir
	return pkg == p || strings.HasPrefix(pkg, p+"/")
}
