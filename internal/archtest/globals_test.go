package archtest

import (
	"go/ast"
	"go/token"
	"testing"
)

// TestNoExportedMutableGlobals checks that no package exports a
// package-level variable holding a slice, a map or an array: any importer
// could change it for every other one. Tables are unexported and read
// through functions that return copies or values (or are constants).
// Generated code and test files are not checked.
//
// The type is judged from the declaration: an explicit slice, array or map
// type (or a pointer to one), a composite literal of one, make, append or
// a conversion to one.
func TestNoExportedMutableGlobals(t *testing.T) {
	for _, f := range moduleFiles(t, true) {
		if f.test {
			continue
		}
		for _, d := range f.ast.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, sp := range gd.Specs {
				vs := sp.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if !n.IsExported() {
						continue
					}
					var v ast.Expr
					if i < len(vs.Values) {
						v = vs.Values[i]
					}
					if kind := collection(vs.Type, v); kind != "" {
						t.Errorf("%s: exported package-level %s %s.%s can be changed by any importer; unexport it and give an accessor that returns a copy or a value", f.path, kind, f.ast.Name.Name, n.Name)
					}
				}
			}
		}
	}
}

// collection returns "slice", "array" or "map" when a variable declared
// with type typ and value v holds one, else "".
func collection(typ, v ast.Expr) string {
	if k := collectionType(typ); k != "" {
		return k
	}
	switch v := v.(type) {
	case *ast.CompositeLit:
		return collectionType(v.Type)
	case *ast.UnaryExpr: // &[]T{...}
		if cl, ok := v.X.(*ast.CompositeLit); ok && v.Op == token.AND {
			return collectionType(cl.Type)
		}
	case *ast.CallExpr:
		if id, ok := v.Fun.(*ast.Ident); ok && (id.Name == "make" || id.Name == "append") && len(v.Args) > 0 {
			if id.Name == "make" {
				return collectionType(v.Args[0])
			}
			return "slice"
		}
		return collectionType(v.Fun) // a conversion such as []byte("...")
	}
	return ""
}

func collectionType(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.ArrayType:
		if e.Len == nil {
			return "slice"
		}
		return "array"
	case *ast.MapType:
		return "map"
	case *ast.StarExpr:
		return collectionType(e.X)
	case *ast.ParenExpr:
		return collectionType(e.X)
	}
	return ""
}
