package admin

// WithBeforeCommit runs f between each write attempt's load and its
// commit, so that tests can interleave another writer exactly there.
func WithBeforeCommit(f func(attempt int)) Option { return func(s *Server) { s.beforeCommit = f } }
