package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/apigw/apigw/cmd/apigctl/diff"
	"github.com/apigw/apigw/cmd/apigctl/manifest"
	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

type fileFlags struct {
	files     []string
	recursive bool
}

func (f *fileFlags) add(cmd *cobra.Command, what string) {
	cmd.Flags().StringSliceVarP(&f.files, "filename", "f", nil, what+": files, directories, or - for standard input (repeatable).")
	cmd.Flags().BoolVarP(&f.recursive, "recursive", "R", false, "Read directories given with -f recursively.")
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml", "json")
}

// read decodes the documents of -f; any bad document fails the command
// before anything is sent.
func (f *fileFlags) read(in io.Reader) ([]manifest.Doc, error) {
	if len(f.files) == 0 {
		return nil, usageError(fmt.Errorf("-f is required"))
	}
	docs, err := manifest.Read(f.files, f.recursive, in)
	if err != nil {
		return nil, &exitError{code: ExitInvalid, err: fmt.Errorf("nothing was changed:\n%w", err)}
	}
	if len(docs) == 0 {
		return nil, invalid("no documents in %v", f.files)
	}
	inDependencyOrder(docs)
	return docs, nil
}

// inDependencyOrder sorts documents so that every kind comes after the
// kinds it may reference (certificates before groups, groups and
// authorizers before APIs, apps before throttles and bindings), keeping the
// files' order within a kind. The admin API resolves a reference by name
// against what precedes it in the request, so a directory applies in one
// change whatever its file order; deletes run in the reverse order.
func inDependencyOrder(docs []manifest.Doc) {
	rank := map[string]int{}
	for i, k := range model.Kinds() {
		rank[k.Name] = i
	}
	kindRank := func(d manifest.Doc) int {
		if _, k := model.Unwrap(d.Resource); k != nil {
			return rank[k.Name]
		}
		return len(rank)
	}
	slices.SortStableFunc(docs, func(a, b manifest.Doc) int { return cmp.Compare(kindRank(a), kindRank(b)) })
}

func newApplyCmd(g *globals) *cobra.Command {
	var ff fileFlags
	var dryRun bool
	var output string
	cmd := &cobra.Command{
		Use:   "apply -f FILE|DIR|- [-f ...]",
		Short: "Create or update definitions from YAML or JSON documents, atomically",
		Long: `Apply creates or updates every resource of the given documents in one atomic
change: if any document is invalid, nothing is changed. Objects without an id
are matched by their natural key (name; group and name for APIs), so applying
the same files again reports "unchanged". References may use names
(group_id: pets). With --dry-run, apply prints a diff against what is stored
and changes nothing.`,
		Example: `  apigctl apply -f pets.yaml
  apigctl apply -f defs/ -R --dry-run
  cat pets.yaml | apigctl apply -f -`,
		Args: cobra.NoArgs,
		RunE: run(g, func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "", outYAML, outJSON, outName); err != nil {
				return usageError(err)
			}
			docs, err := ff.read(g.streams.In)
			if err != nil {
				return err
			}
			return applyDocs(cmd.Context(), g, docs, dryRun, output)
		}),
	}
	ff.add(cmd, "Definitions to apply")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "Validate on the server and print the diff against what is stored; change nothing.")
	cmd.Flags().StringVarP(&output, "output", "o", "", "Print the applied objects: yaml, json or name.")
	return cmd
}

func applyDocs(parent context.Context, g *globals, docs []manifest.Doc, dryRun bool, output string) error {
	c, err := g.client()
	if err != nil {
		return err
	}
	ctx, cancel := g.ctx(parent)
	defer cancel()
	req := &adminv1.ApplyRequest{Instance: g.instance, DryRun: dryRun}
	for _, d := range docs {
		req.Resources = append(req.Resources, d.Resource)
	}
	resp, err := c.Apply(ctx, req)
	if err != nil {
		return &exitError{code: classifyCode(err), err: err, fields: docFields(docs)}
	}
	w := g.streams.Out
	if dryRun {
		if err := printDiffs(ctx, g, c, resp.GetResults(), w); err != nil {
			return err
		}
	}
	switch output {
	case outYAML, outJSON:
		var rs []*apigwv1.Resource
		for _, r := range resp.GetResults() {
			rs = append(rs, r.GetResource())
		}
		return printResources(w, "", output, rs, true)
	}
	suffix := ""
	if dryRun {
		suffix = " (dry run)"
	}
	for _, r := range resp.GetResults() {
		if output == outName {
			fmt.Fprintf(w, "%s/%s\n", r.GetKind(), refName(r))
			continue
		}
		fmt.Fprintf(w, "%s/%s %s%s\n", r.GetKind(), refName(r), r.GetAction(), suffix)
	}
	return nil
}

func refName(r *adminv1.ApplyResult) string {
	if r.GetName() != "" {
		return r.GetName()
	}
	return r.GetId()
}

var reResourceIndex = regexp.MustCompile(`^resources\[(\d+)\]`)

// docFields rewrites "resources[i].field" to "SOURCE (kind name): field".
func docFields(docs []manifest.Doc) func(string) string {
	return func(f string) string {
		m := reResourceIndex.FindStringSubmatch(f)
		if m == nil {
			return f
		}
		i, _ := strconv.Atoi(m[1])
		if i >= len(docs) {
			return f
		}
		msg, k := model.Unwrap(docs[i].Resource)
		label := docs[i].Source
		if k != nil {
			n := model.NameOf(msg)
			if n == "" {
				n = model.IDOf(msg)
			}
			label = fmt.Sprintf("%s (%s %s)", docs[i].Source, k.Name, n)
		}
		rest := f[len(m[0]):]
		if len(rest) > 0 && rest[0] == '.' {
			rest = rest[1:]
		}
		if rest == "" {
			return label
		}
		return label + ": " + rest
	}
}

func classifyCode(err error) int {
	var ee *exitError
	if e, ok := classify(err).(*exitError); ok {
		ee = e
		return ee.code
	}
	return ExitError
}

// printDiffs prints, for each created or updated object, the diff between
// the stored definition and the one apply would store.
func printDiffs(ctx context.Context, g *globals, c adminv1.AdminServiceClient, results []*adminv1.ApplyResult, w io.Writer) error {
	for _, r := range results {
		label := r.GetKind() + "/" + refName(r)
		var before, after string
		switch r.GetAction() {
		case "created", "updated":
			y, err := cleanYAML(r.GetResource())
			if err != nil {
				return err
			}
			after = y
		case "deleted":
		default:
			continue
		}
		if r.GetAction() != "created" {
			cur, err := c.Get(ctx, &adminv1.GetRequest{Instance: g.instance, Kind: r.GetKind(), Id: r.GetId()})
			if err != nil {
				return err
			}
			if before, err = cleanYAML(cur.GetResource()); err != nil {
				return err
			}
		}
		fmt.Fprint(w, diff.Unified(before, after, label+" (stored)", label+" (after apply)", 3))
	}
	return nil
}

// cleanYAML renders a resource without meta, output-only fields and
// secrets, for diffs.
func cleanYAML(r *apigwv1.Resource) (string, error) {
	r = manifest.Clean(r)
	if m, _ := model.Unwrap(r); m != nil {
		model.Redact(m)
	}
	y, err := manifest.YAML(r)
	return string(y), err
}
