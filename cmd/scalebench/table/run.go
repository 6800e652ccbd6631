package table

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"text/tabwriter"
)

// Run runs a suite, copying its output to w, and returns its rows; a
// suite missing one of its Needs gets a "skipped" row naming it.
func Run(ctx context.Context, s Suite, w io.Writer) ([]Row, error) {
	var skipped []Row
	for _, n := range s.Needs {
		if os.Getenv(n) == "" {
			skipped = append(skipped, Row{Suite: s.Name, Work: "rows against the reference", Status: "skipped: " + n + " is not set"})
		}
	}
	args := s.Command()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(), s.Env...)
	var buf bytes.Buffer
	cmd.Stdout = io.MultiWriter(w, &buf)
	cmd.Stderr = w
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w", strings.Join(args, " "), err)
	}
	rows, err := Parse(s.Name, &buf)
	return append(rows, skipped...), err
}

// Print writes the rows as one table and a count of those met.
func Print(w io.Writer, rows []Row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Suite\tWork\tMeasured\tTarget\tStatus")
	metN, notN := 0, 0
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Suite, r.Work, r.Measured, r.Target, r.Status)
		switch r.Status {
		case "met":
			metN++
		case "NOT met":
			notN++
		}
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\n%d met, %d not met\n", metN, notN)
}
