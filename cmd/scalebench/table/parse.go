package table

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// Row is one figure against its target.
type Row struct {
	Suite, Work, Measured, Target string
	// Status is "met", "NOT met", "info" (no target) or "failed".
	Status string
}

var (
	// targetLine is what internal/loadtest.AtLeast and AtMost log:
	// "what: figure (target ≥ x): met".
	targetLine = regexp.MustCompile(`^\s*(?:\S+\.go:\d+: )?(.+): (.+?) \(target ([≥≤][^)]*)\): (met|NOT met)\s*$`)
	benchName  = regexp.MustCompile(`^--- BENCH: (\S+?)(?:-\d+)?$`)
	resultLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)
	columns    = regexp.MustCompile(`\s{2,}`)
)

// Parse reads a suite's output: the target lines logged by the
// benchmarks, the metrics reported as a ratio to their target (units
// ending in "/target"), and the fleet benchmark's table.
func Parse(suite string, r io.Reader) ([]Row, error) {
	var rows []Row
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	bench, inTable := "", false
	for sc.Scan() {
		line := sc.Text()
		if inTable {
			if strings.TrimSpace(line) == "" {
				inTable = false
				continue
			}
			if row, ok := tableRow(suite, line); ok {
				rows = append(rows, row)
			}
			continue
		}
		if strings.HasPrefix(line, "Work") && strings.Contains(line, "Measured/target") {
			inTable = true
			continue
		}
		if m := benchName.FindStringSubmatch(line); m != nil {
			bench = m[1]
			continue
		}
		if m := targetLine.FindStringSubmatch(line); m != nil {
			work := m[1]
			if bench != "" {
				work = bench + ": " + work
			}
			rows = append(rows, Row{Suite: suite, Work: work, Measured: m[2], Target: m[3], Status: m[4]})
			continue
		}
		if m := resultLine.FindStringSubmatch(line); m != nil {
			rows = append(rows, ratioRows(suite, m[1], m[2])...)
		}
	}
	return rows, sc.Err()
}

// ratioRows are the "/target" metrics of a benchmark result line.
func ratioRows(suite, name, metrics string) []Row {
	var rows []Row
	f := strings.Fields(metrics)
	for i := 0; i+1 < len(f); i += 2 {
		unit := f[i+1]
		if !strings.HasSuffix(unit, "/target") {
			continue
		}
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			continue
		}
		rows = append(rows, Row{Suite: suite, Work: name + " " + strings.TrimSuffix(unit, "/target"),
			Measured: fmt.Sprintf("%.3g of the target", v), Target: "≤ 1 × target", Status: met(v <= 1)})
	}
	return rows
}

// tableRow reads a row of the fleet benchmark's table: work, measured,
// target and the ratio measured/target ("—" without a target).
func tableRow(suite, line string) (Row, bool) {
	c := columns.Split(strings.TrimSpace(line), -1)
	if len(c) != 4 {
		return Row{}, false
	}
	row := Row{Suite: suite, Work: c[0], Measured: c[1], Target: c[2], Status: "info"}
	if v, err := strconv.ParseFloat(c[3], 64); err == nil {
		row.Measured += fmt.Sprintf(" (%.2g× the target)", v)
		row.Status = met(v <= 1)
	}
	return row, true
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}
