package sign

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// MaxSkew is the largest accepted difference between X-Sdk-Date and the
// verifier's clock (docs/apig-semantics.md#clock-skew).
const MaxSkew = 15 * time.Minute

// Verification failures. Verify returns them, or an *ExpiredError or a
// *MissingHeaderError.
var (
	ErrMissingDate      = errors.New("the X-Sdk-Date header is missing")
	ErrBadDate          = errors.New("the X-Sdk-Date header is not in the format yyyyMMddTHHmmssZ")
	ErrDateNotSigned    = errors.New("x-sdk-date is not among the signed headers")
	ErrPayloadMismatch  = errors.New("X-Sdk-Content-Sha256 does not match the body")
	ErrSignatureInvalid = errors.New("signature verification failed")
)

// ExpiredError says that the signing time is more than MaxSkew away from
// the server time.
type ExpiredError struct{ Signed, Server time.Time }

func (e *ExpiredError) Error() string {
	return "signature expired, signature time:" + e.Signed.UTC().Format(DateFormat) +
		",server time:" + e.Server.UTC().Format(DateFormat)
}

// MissingHeaderError says that a signed header is absent from the request.
type MissingHeaderError struct{ Name string }

func (e *MissingHeaderError) Error() string {
	return "signed header " + e.Name + " is missing from the request"
}

// Verify checks the signature a of request r with the app's secret at the
// server time now: X-Sdk-Date must be signed, parse and be within MaxSkew,
// every signed header must be present, and the signature must match
// (compared in constant time).
func Verify(r *Request, a Authorization, secret string, now time.Time) error {
	var dates []string
	if r.Header != nil {
		dates = r.Header.Values(dateKey)
	}
	if len(dates) == 0 || dates[0] == "" {
		return ErrMissingDate
	}
	date := dates[0]
	signed, ok := parseDate(date)
	if !ok {
		return ErrBadDate
	}
	if d := now.Sub(signed); d > MaxSkew || d < -MaxSkew {
		return &ExpiredError{Signed: signed, Server: now}
	}
	signedHeaders := strings.ToLower(a.SignedHeaders)
	if err := checkSignedHeaders(r, signedHeaders); err != nil {
		return err
	}

	var hashBuf [2 * sha256.Size]byte
	payload := hashBuf[:]
	claimed := ""
	if v := r.Header.Values(sha256Key); len(v) > 0 {
		claimed = v[0]
	}
	if claimed == UnsignedPayload {
		payload = []byte(UnsignedPayload)
	} else {
		sum := sha256.Sum256(r.Body)
		hex.Encode(hashBuf[:], sum[:])
		if claimed != "" {
			if !strings.EqualFold(claimed, string(hashBuf[:])) {
				return ErrPayloadMismatch
			}
			payload = []byte(claimed)
		}
	}

	// A small buffer keeps the goroutine stack small (gRPC runs each call
	// on a fresh goroutine); larger canonical requests go to the heap.
	var stack [640]byte
	cr, err := appendCanonicalRequest(stack[:0], r, signedHeaders, payload)
	if err != nil {
		return err
	}
	want := signature(secret, date, cr)
	var got [sha256.Size]byte
	if len(a.Signature) != 2*sha256.Size {
		return ErrSignatureInvalid
	}
	if !decodeHex(got[:], a.Signature) {
		return ErrSignatureInvalid
	}
	if subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
		return ErrSignatureInvalid
	}
	return nil
}

func checkSignedHeaders(r *Request, signedHeaders string) error {
	dateSigned := false
	for rest := signedHeaders; rest != ""; {
		var name string
		name, rest, _ = strings.Cut(rest, ";")
		switch {
		case name == "":
			continue
		case name == dateKey:
			dateSigned = true
		case name == hostKey && r.Host != "":
			continue
		}
		if len(r.Header.Values(name)) == 0 {
			return &MissingHeaderError{Name: name}
		}
	}
	if !dateSigned {
		return ErrDateNotSigned
	}
	return nil
}

// decodeHex decodes the hex string s (of length 2*len(dst)) into dst.
func decodeHex(dst []byte, s string) bool {
	for i := range dst {
		hi, ok1 := fromHex(s[2*i])
		lo, ok2 := fromHex(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// parseDate parses an X-Sdk-Date value (DateFormat, UTC) like time.Parse
// but without its cost.
func parseDate(s string) (time.Time, bool) {
	if len(s) != len(DateFormat) || s[8] != 'T' || s[15] != 'Z' {
		return time.Time{}, false
	}
	num := func(i, n int) (int, bool) {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(4, 2)
	d, ok3 := num(6, 2)
	h, ok4 := num(9, 2)
	mi, ok5 := num(11, 2)
	sec, ok6 := num(13, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC)
	if t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}
