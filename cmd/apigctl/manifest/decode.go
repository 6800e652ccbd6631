package manifest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/apigw/apigw/model"
)

// Decode reads every document of a YAML (multi-document, "---"
// separated) or JSON (an object, an array of objects or a stream of
// objects) input. It returns the documents that decoded and an error
// joining one *Error per document that did not.
func Decode(data []byte, source string) ([]Doc, error) {
	var raws [][]byte
	if isJSON(data) {
		var err error
		raws, err = splitJSON(data)
		if err != nil {
			return nil, &Error{Source: source, Err: err}
		}
	} else {
		raws = splitYAML(data)
	}
	var docs []Doc
	var errs []error
	for i, raw := range raws {
		src := fmt.Sprintf("%s#%d", source, i+1)
		if len(bytes.TrimSpace(stripComments(raw))) == 0 {
			continue
		}
		d, err := decodeOne(raw, src)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		docs = append(docs, d)
	}
	return docs, errors.Join(errs...)
}

func decodeOne(raw []byte, src string) (Doc, error) {
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return Doc{}, &Error{Source: src, Err: err}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(js, &fields); err != nil {
		return Doc{}, &Error{Source: src, Err: errors.New("a document must be a mapping with a kind")}
	}
	var kind string
	if k, ok := fields["kind"]; !ok || json.Unmarshal(k, &kind) != nil || kind == "" {
		return Doc{}, &Error{Source: src, Err: fmt.Errorf("kind is missing; one of %s", strings.Join(model.KindNames(), ", "))}
	}
	delete(fields, "kind")
	k := model.KindByName(kind)
	if k == nil || k.Internal {
		return Doc{}, &Error{Source: src, Err: fmt.Errorf("unknown kind %q; one of %s", kind, strings.Join(model.KindNames(), ", "))}
	}
	body, _ := json.Marshal(fields)
	m := k.New()
	if err := (protojson.UnmarshalOptions{}).Unmarshal(body, m); err != nil {
		return Doc{}, &Error{Source: src, Err: fmt.Errorf("%s: %s", kind, cleanProtoErr(err))}
	}
	return Doc{Source: src, Resource: model.Wrap(m)}, nil
}

// FromMessage wraps a resource message as a document.
func FromMessage(m proto.Message, source string) Doc {
	return Doc{Source: source, Resource: model.Wrap(m)}
}

func cleanProtoErr(err error) string {
	s := strings.ReplaceAll(err.Error(), "\u00a0", " ")
	s = strings.TrimPrefix(s, "proto: ")
	return reLineCol.ReplaceAllString(s, "")
}

var reLineCol = regexp.MustCompile(`^\(line \d+:\d+\): `)

func isJSON(data []byte) bool {
	t := bytes.TrimLeft(stripComments(data), " \t\r\n")
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
}

func splitJSON(data []byte) ([][]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var out [][]byte
	for {
		var v json.RawMessage
		err := dec.Decode(&v)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("invalid JSON: %w", err)
		}
		t := bytes.TrimSpace(v)
		if len(t) > 0 && t[0] == '[' {
			var items []json.RawMessage
			if err := json.Unmarshal(t, &items); err != nil {
				return nil, fmt.Errorf("invalid JSON: %w", err)
			}
			out = append(out, toBytes(items)...)
			continue
		}
		out = append(out, t)
	}
}

func toBytes(items []json.RawMessage) [][]byte {
	out := make([][]byte, len(items))
	for i, it := range items {
		out[i] = it
	}
	return out
}

// splitYAML splits a YAML stream at "---" document separators.
func splitYAML(data []byte) [][]byte {
	var out [][]byte
	var cur bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1024*1024), 64*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if line == "---" || strings.HasPrefix(line, "--- ") || strings.HasPrefix(line, "---\t") {
			out = append(out, append([]byte(nil), cur.Bytes()...))
			cur.Reset()
			continue
		}
		if line == "..." {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	return append(out, cur.Bytes())
}

func stripComments(data []byte) []byte {
	var b bytes.Buffer
	for _, l := range bytes.Split(data, []byte("\n")) {
		if t := bytes.TrimSpace(l); len(t) > 0 && t[0] == '#' {
			continue
		}
		b.Write(l)
		b.WriteByte('\n')
	}
	return b.Bytes()
}
