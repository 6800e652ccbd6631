package model

import (
	"errors"
	"fmt"
)

// Sentinel errors of the model; the admin API maps them onto gRPC codes.
var (
	ErrNotFound  = errors.New("not found")
	ErrConflict  = errors.New("conflict: the object was changed concurrently; read it again and retry")
	ErrExists    = errors.New("already exists")
	ErrInUse     = errors.New("still referenced")
	ErrImmutable = errors.New("cannot be changed")
	ErrAmbiguous = errors.New("ambiguous name")
	// ErrUnavailable marks a call that etcd could not serve (no quorum,
	// unreachable); the admin API answers UNAVAILABLE.
	ErrUnavailable = errors.New("etcd unavailable")
)

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
