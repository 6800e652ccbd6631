package sign

import (
	"crypto/sha256"
	"encoding/hex"
)

// maxDateLen bounds the X-Sdk-Date value copied into the string to sign.
const maxDateLen = 64

// StringToSign returns the string to sign of a canonical request.
func StringToSign(canonicalRequest, date string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return Algorithm + "\n" + date + "\n" + hex.EncodeToString(sum[:])
}

// signature computes HMAC-SHA256(secret, Algorithm\ndate\nhex(sha256(canonical)))
// without allocating: the string to sign is built behind the HMAC's inner
// pad in one buffer.
func signature(secret string, date string, canonical []byte) [sha256.Size]byte {
	var key [sha256.BlockSize]byte
	if len(secret) > sha256.BlockSize {
		k := sha256.Sum256([]byte(secret))
		copy(key[:], k[:])
	} else {
		copy(key[:], secret)
	}
	var inner [sha256.BlockSize + len(Algorithm) + 1 + maxDateLen + 1 + 2*sha256.Size]byte
	for i := range key {
		inner[i] = key[i] ^ 0x36
	}
	n := sha256.BlockSize
	n += copy(inner[n:], Algorithm)
	inner[n] = '\n'
	n++
	n += copy(inner[n:n+maxDateLen], date)
	inner[n] = '\n'
	n++
	crSum := sha256.Sum256(canonical)
	hex.Encode(inner[n:], crSum[:])
	n += 2 * sha256.Size
	innerSum := sha256.Sum256(inner[:n])

	var outer [sha256.BlockSize + sha256.Size]byte
	for i := range key {
		outer[i] = key[i] ^ 0x5c
	}
	copy(outer[sha256.BlockSize:], innerSum[:])
	return sha256.Sum256(outer[:])
}
