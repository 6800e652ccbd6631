package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Exit codes of apigctl.
const (
	ExitOK          = 0 // success
	ExitError       = 1 // any other failure (server error, I/O)
	ExitUsage       = 2 // bad command line
	ExitInvalid     = 3 // definitions refused: unreadable documents, invalid OpenAPI, INVALID_ARGUMENT
	ExitNotFound    = 4 // an object does not exist
	ExitConflict    = 5 // already exists, changed concurrently, still referenced, import conflicts
	ExitDenied      = 6 // admin token missing or wrong
	ExitUnavailable = 7 // admin API unreachable or timed out
)

// exitError carries the exit code of a failed command.
type exitError struct {
	code int
	err  error
	// fields rewrites field paths of violations (apply maps resources[i]
	// to documents).
	fields func(string) string
}

func (e *exitError) Error() string { return e.err.Error() }

func (e *exitError) Unwrap() error { return e.err }

func usageError(err error) error { return &exitError{code: ExitUsage, err: err} }

func invalid(format string, args ...any) error {
	return &exitError{code: ExitInvalid, err: fmt.Errorf(format, args...)}
}

// classify gives an error from a command its exit code.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	st, ok := status.FromError(err)
	if !ok {
		return &exitError{code: ExitError, err: err}
	}
	code := ExitError
	switch st.Code() {
	case codes.InvalidArgument, codes.OutOfRange:
		code = ExitInvalid
	case codes.NotFound:
		code = ExitNotFound
	case codes.AlreadyExists, codes.Aborted, codes.FailedPrecondition:
		code = ExitConflict
	case codes.Unauthenticated, codes.PermissionDenied:
		code = ExitDenied
	case codes.Unavailable, codes.DeadlineExceeded:
		code = ExitUnavailable
	}
	return &exitError{code: code, err: err}
}

// run wraps a command body so that its errors carry exit codes (errors
// returned by cobra itself are usage errors).
func run(g *globals, f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		defer g.close()
		return classify(f(cmd, args))
	}
}

// describeError renders an error with the details of a gRPC status: one
// line per field violation or precondition failure.
func describeError(err error) string {
	var ee *exitError
	var rewrite func(string) string
	if errors.As(err, &ee) {
		rewrite = ee.fields
		err = ee.err
	}
	st, ok := status.FromError(err)
	if !ok {
		return err.Error()
	}
	var b strings.Builder
	switch {
	case st.Code() == codes.Unavailable && strings.Contains(st.Message(), "etcd"):
		b.WriteString("unavailable") // apigw answered: its etcd cannot take the call
	default:
		b.WriteString(codeText(st.Code()))
	}
	b.WriteString(": ")
	var lines []string
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				f := v.GetField()
				if rewrite != nil {
					f = rewrite(f)
				}
				lines = append(lines, fmt.Sprintf("  %s: %s", f, v.GetDescription()))
			}
		case *errdetails.PreconditionFailure:
			for _, v := range d.GetViolations() {
				lines = append(lines, fmt.Sprintf("  %s: %s", v.GetSubject(), v.GetDescription()))
			}
		}
	}
	if len(lines) == 0 {
		b.WriteString(st.Message())
		return b.String()
	}
	switch st.Code() {
	case codes.InvalidArgument:
		b.WriteString(fmt.Sprintf("%d violation(s), nothing was changed", len(lines)))
	default:
		b.WriteString(firstSentence(st.Message()))
	}
	return b.String() + "\n" + strings.Join(lines, "\n")
}

func firstSentence(s string) string {
	if i := strings.Index(s, ": invalid definition"); i > 0 {
		return s[:i]
	}
	return s
}

func codeText(c codes.Code) string {
	switch c {
	case codes.InvalidArgument:
		return "invalid"
	case codes.NotFound:
		return "not found"
	case codes.AlreadyExists:
		return "already exists"
	case codes.Aborted:
		return "conflict (changed concurrently; get it again)"
	case codes.FailedPrecondition:
		return "refused"
	case codes.Unauthenticated:
		return "unauthenticated (check --token / APIGW_ADMIN_TOKEN)"
	case codes.PermissionDenied:
		return "permission denied"
	case codes.Unavailable:
		return "admin API unavailable (check --server / APIGW_SERVER)"
	case codes.DeadlineExceeded:
		return "timed out"
	case codes.ResourceExhausted:
		return "too large (apigw's --admin-max-request-bytes bounds one request: apply fewer documents at a time)"
	}
	return strings.ToLower(c.String())
}
