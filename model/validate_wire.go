package model

// HasControl reports whether s holds a control character (C0 or DEL):
// CR and LF would split a header, NUL truncates values in many servers.
func HasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}

// checkWire refuses control characters in a value that becomes a header,
// a query parameter or a path on the wire.
func checkWire(c checker, field, v string) {
	if HasControl(v) {
		c.add(field, "must not contain control characters (CR, LF, NUL, ...): it becomes a header, query or path value")
	}
}
