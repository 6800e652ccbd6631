package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/apigw/apigw/cmd/apigctl/manifest"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Output formats.
const (
	outTable = "table"
	outWide  = "wide"
	outYAML  = "yaml"
	outJSON  = "json"
	outName  = "name"
)

func checkOutput(o string, allowed ...string) error {
	for _, a := range allowed {
		if o == a {
			return nil
		}
	}
	return fmt.Errorf("invalid output format %q; one of %v", o, allowed)
}

// printResources writes resources of one kind in the chosen format.
func printResources(w io.Writer, kind, format string, rs []*apigwv1.Resource, list bool) error {
	switch format {
	case outYAML:
		out, err := manifest.YAMLStream(rs)
		if err != nil {
			return err
		}
		_, err = w.Write(out)
		return err
	case outJSON:
		out, err := manifest.JSON(rs, list)
		if err != nil {
			return err
		}
		_, err = w.Write(out)
		return err
	case outName:
		for _, r := range rs {
			m, k := model.Unwrap(r)
			n := model.NameOf(m)
			if n == "" {
				n = model.IDOf(m)
			}
			fmt.Fprintf(w, "%s/%s\n", k.Name, n)
		}
		return nil
	}
	if len(rs) == 0 {
		_, err := fmt.Fprintf(w, "No %s found.\n", kind)
		return err
	}
	header, render := row(kind)
	var rows [][]string
	for _, r := range rs {
		m, _ := model.Unwrap(r)
		rows = append(rows, render(m))
	}
	return printTable(w, header, rows)
}

// printMessage writes any proto message as YAML or JSON (status,
// publications).
func printMessage(w io.Writer, format string, m proto.Message) error {
	js, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return err
	}
	if format == outJSON {
		var b bytes.Buffer
		if err := json.Indent(&b, js, "", "  "); err != nil {
			return err
		}
		b.WriteByte('\n')
		_, err = w.Write(b.Bytes())
		return err
	}
	y, err := yaml.JSONToYAML(js)
	if err != nil {
		return err
	}
	_, err = w.Write(y)
	return err
}
