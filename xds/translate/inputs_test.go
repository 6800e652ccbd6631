package translate

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// The translator reads an instance only through inputs.View, which records
// every lookup (the keys of the Builder's memos). This test keeps it so:
// model.Instance appears in the package only as the parameter of the two
// entry points, Build and Builder.Build, which hand it to inputs.Open and
// use it for nothing else.
func TestInstanceReadOnlyThroughView(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	entry := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok {
				ast.Inspect(decl, func(n ast.Node) bool {
					if isModelInstance(n) {
						t.Errorf("%s: model.Instance outside the entry points", fset.Position(n.Pos()))
					}
					return true
				})
				continue
			}
			param := ""
			for _, p := range fn.Type.Params.List {
				if star, ok := p.Type.(*ast.StarExpr); ok && isModelInstance(star.X) && len(p.Names) == 1 {
					param = p.Names[0].Name
				}
			}
			ast.Inspect(fn.Type, func(n ast.Node) bool {
				if isModelInstance(n) && param == "" {
					t.Errorf("%s: model.Instance outside the entry points", fset.Position(n.Pos()))
				}
				return true
			})
			if param == "" {
				ast.Inspect(fn.Body, func(n ast.Node) bool {
					if isModelInstance(n) {
						t.Errorf("%s: model.Instance outside the entry points", fset.Position(n.Pos()))
					}
					return true
				})
				continue
			}
			entry[funcName(fn)] = true
			uses, opened := 0, 0
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if id, ok := n.(*ast.Ident); ok && id.Name == param {
					uses++
				}
				if call, ok := n.(*ast.CallExpr); ok && len(call.Args) > 0 {
					if id, ok := call.Args[0].(*ast.Ident); ok && id.Name == param && isSelector(call.Fun, "inputs", "Open") {
						opened++
					}
					if id, ok := call.Args[0].(*ast.Ident); ok && id.Name == param && isSelector(call.Fun, "", "Build") {
						opened++ // Build hands it to Builder.Build
					}
				}
				return true
			})
			if uses != 1 || opened != 1 {
				t.Errorf("%s: %s uses its model.Instance %d times; it must only hand it to inputs.Open", fset.Position(fn.Pos()), funcName(fn), uses)
			}
		}
	}
	if len(entry) != 2 || !entry["Build"] || !entry["Builder.Build"] {
		t.Errorf("functions taking a model.Instance: %v, want Build and Builder.Build", entry)
	}
}

func isModelInstance(n ast.Node) bool {
	return isSelector(n, "model", "Instance")
}

// isSelector reports whether n is pkg.name (pkg "": any x.name).
func isSelector(n ast.Node, pkg, name string) bool {
	sel, ok := n.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != name {
		return false
	}
	if pkg == "" {
		return true
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == pkg
}

func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	t := fn.Recv.List[0].Type
	if star, ok := t.(*ast.StarExpr); ok {
		t = star.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + fn.Name.Name
	}
	return fn.Name.Name
}
