package manifest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Read decodes every document of the given paths: files, directories
// (their .yaml, .yml and .json files, recursively when recursive is set)
// and "-" for stdin. Errors of every bad document are joined.
func Read(paths []string, recursive bool, stdin io.Reader) ([]Doc, error) {
	var docs []Doc
	var errs []error
	for _, p := range paths {
		files, err := expand(p, recursive)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range files {
			data, err := readFile(f, stdin)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			d, err := Decode(data, f)
			docs = append(docs, d...)
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	return docs, errors.Join(errs...)
}

func readFile(f string, stdin io.Reader) ([]byte, error) {
	if f == "-" {
		if stdin == nil {
			return nil, errors.New("-: no standard input")
		}
		return io.ReadAll(stdin)
	}
	return os.ReadFile(f)
}

func expand(p string, recursive bool) ([]string, error) {
	if p == "-" {
		return []string{"-"}, nil
	}
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != p && !recursive {
				return fs.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no .yaml, .yml or .json files", p)
	}
	sort.Strings(files)
	return files, nil
}
