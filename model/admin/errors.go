package admin

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/store"
)

// inUseError is a deletion refused because other objects reference the
// target.
type inUseError struct {
	subject   string
	referrers []model.Referrer
}

func (e *inUseError) Error() string {
	return fmt.Sprintf("%s is still referenced by %d object(s), e.g. %s", e.subject, len(e.referrers), e.referrers[0])
}

func (e *inUseError) Unwrap() error { return model.ErrInUse }

// toStatus maps errors onto gRPC statuses with rich details.
func (s *Server) toStatus(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok && !errors.Is(err, model.ErrNotFound) {
		if st, _ := status.FromError(err); st.Code() != codes.Unknown {
			return err
		}
	}
	if vs, ok := model.AsValidation(err); ok {
		br := &errdetails.BadRequest{}
		shown, more := vs.Capped()
		for _, v := range shown {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description})
		}
		if more > 0 {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Description: model.MoreViolations(more, len(vs))})
		}
		st, _ := status.New(codes.InvalidArgument, err.Error()).WithDetails(br)
		return st.Err()
	}
	var iu *inUseError
	if errors.As(err, &iu) {
		pf := &errdetails.PreconditionFailure{}
		for _, r := range iu.referrers {
			pf.Violations = append(pf.Violations, &errdetails.PreconditionFailure_Violation{Type: "REFERENCED", Subject: r.Kind + "/" + r.ID, Description: iu.subject + " is referenced by " + r.String()})
		}
		st, _ := status.New(codes.FailedPrecondition, err.Error()).WithDetails(pf)
		return st.Err()
	}
	switch {
	case errors.Is(err, model.ErrUnavailable):
		s.log.WarnContext(ctx, "admin operation failed: etcd unavailable", "op", op, "err", err)
		return status.Error(codes.Unavailable, op+": "+err.Error())
	case errors.Is(err, model.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, model.ErrExists):
		return status.Error(codes.AlreadyExists, err.Error())
	case errors.Is(err, model.ErrConflict):
		return status.Error(codes.Aborted, err.Error())
	case errors.Is(err, model.ErrAmbiguous), errors.Is(err, model.ErrImmutable), errors.Is(err, errBadRequest):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, model.ErrInUse), errors.Is(err, store.ErrTooLarge), errors.Is(err, errPrecondition):
		return status.Error(codes.FailedPrecondition, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	s.log.ErrorContext(ctx, "admin operation failed", "op", op, "err", err)
	return status.Error(codes.Internal, op+": "+err.Error())
}

// errBadRequest marks malformed requests (missing kind, ...).
var errBadRequest = errors.New("bad request")

// errPrecondition marks requests the current state does not allow.
var errPrecondition = errors.New("failed precondition")

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadRequest, fmt.Sprintf(format, args...))
}
