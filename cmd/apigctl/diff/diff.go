// Package diff renders line-based unified diffs of small texts (resource
// documents), as `apigctl apply --dry-run` shows them.
package diff

import (
	"fmt"
	"strings"
)

type op struct {
	kind byte // ' ', '-', '+'
	line string
}

// Unified returns a unified diff of a and b with the given labels and
// context lines, or "" when they are equal.
func Unified(a, b, labelA, labelB string, context int) string {
	if a == b {
		return ""
	}
	ops := lines(split(a), split(b))
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", labelA, labelB)
	for _, h := range hunks(ops, context) {
		out.WriteString(h)
	}
	return out.String()
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// lines computes an edit script by longest common subsequence.
func lines(a, b []string) []op {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []op
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			ops = append(ops, op{' ', a[i]})
			i++
			j++
		case lcs[i+1][j] >= lcs[i][j+1]:
			ops = append(ops, op{'-', a[i]})
			i++
		default:
			ops = append(ops, op{'+', b[j]})
			j++
		}
	}
	for ; i < n; i++ {
		ops = append(ops, op{'-', a[i]})
	}
	for ; j < m; j++ {
		ops = append(ops, op{'+', b[j]})
	}
	return ops
}

// hunks groups changes with their context into "@@" hunks.
func hunks(ops []op, context int) []string {
	var out []string
	i := 0
	lineA, lineB := 1, 1
	for i < len(ops) {
		if ops[i].kind == ' ' {
			i++
			lineA++
			lineB++
			continue
		}
		start := max(i-context, 0)
		for k := start; k < i; k++ {
			lineA--
			lineB--
		}
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := 0
			for end+run < len(ops) && ops[end+run].kind == ' ' {
				run++
			}
			if end+run == len(ops) || run > 2*context {
				end += min(run, context)
				break
			}
			end += run
		}
		var body strings.Builder
		ca, cb := 0, 0
		for _, o := range ops[start:end] {
			body.WriteByte(o.kind)
			body.WriteString(o.line)
			body.WriteByte('\n')
			if o.kind != '+' {
				ca++
			}
			if o.kind != '-' {
				cb++
			}
		}
		out = append(out, fmt.Sprintf("@@ -%s +%s @@\n%s", rng(lineA, ca), rng(lineB, cb), body.String()))
		lineA += ca
		lineB += cb
		i = end
	}
	return out
}

func rng(start, count int) string {
	if count == 0 {
		return fmt.Sprintf("%d,0", start-1)
	}
	if count == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, count)
}
