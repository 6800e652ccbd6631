package counter

import (
	"strconv"
	"time"
)

// Window groups hits in time.
//
// A fixed window (Buckets == 0) counts the hits since the current window
// started; windows start at Offset + k*Size after the Unix epoch.
//
// A sliding window (Buckets = N > 0) splits time into buckets of Size/N
// (rounded up) and counts the current bucket plus the N before it, a span
// between Size and Size+Size/N long. Because the span is never shorter
// than Size, no interval of length Size ever holds more than the limit (no
// 2x burst across an edge); the price is that hits can be held against the
// limit for up to Size/N longer than Size, so a client pacing at exactly
// the limit may see up to 1/(N+1) of its calls refused.
type Window struct {
	Size    time.Duration
	Buckets int
	// Offset aligns windows and buckets, e.g. to a credential quota's
	// reset time (reduced modulo the bucket width).
	Offset time.Duration
}

// Sliding returns a sliding window of size with buckets sub-buckets.
func Sliding(size time.Duration, buckets int) Window { return Window{Size: size, Buckets: buckets} }

// Fixed returns fixed windows of size starting at offset (mod size) after
// the Unix epoch.
func Fixed(size, offset time.Duration) Window { return Window{Size: size, Offset: offset} }

func (w Window) valid() bool {
	return w.Size > 0 && w.Buckets >= 0 && w.width() >= int64(time.Millisecond)
}

// width is the bucket width in nanoseconds.
func (w Window) width() int64 {
	if w.Buckets <= 0 {
		return int64(w.Size)
	}
	n := int64(w.Buckets)
	return (int64(w.Size) + n - 1) / n
}

// span is the number of buckets before the current one that still count.
func (w Window) span() int64 { return int64(max(w.Buckets, 0)) }

func (w Window) offset() int64 { return int64(w.Offset) % w.width() }

// index returns the bucket holding instant t (Unix nanoseconds).
func (w Window) index(t int64) int64 { return floorDiv(t-w.offset(), w.width()) }

// start returns the instant bucket idx begins.
func (w Window) start(idx int64) int64 { return idx*w.width() + w.offset() }

// leaves returns the instant bucket idx stops counting.
func (w Window) leaves(idx int64) int64 { return w.start(idx + w.span() + 1) }

// appendID appends a compact, stable rendering of the window for
// storage keys: size in ms, "s" and the buckets of a sliding window, "o"
// and the offset in ms of a fixed one.
func (w Window) appendID(b []byte) []byte {
	b = strconv.AppendInt(b, int64(w.Size/time.Millisecond), 10)
	if w.Buckets > 0 {
		b = strconv.AppendInt(append(b, 's'), int64(w.Buckets), 10)
	}
	if off := w.offset(); off != 0 {
		b = strconv.AppendInt(append(b, 'o'), off/int64(time.Millisecond), 10)
	}
	return b
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
