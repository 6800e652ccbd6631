package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// sealedPrefix marks an encrypted secret: "enc:v1:<key id>:<base64>".
const sealedPrefix = "enc:v1:"

// Sealer encrypts secret fields at rest with AES-256-GCM under an instance
// key. Values written without the prefix (e.g. by etcdctl) are read as
// plain text.
type Sealer struct {
	aead  cipher.AEAD
	keyID string
}

// NewSealer returns a sealer for a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secret key must be 32 bytes (got %d)", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(key)
	return &Sealer{aead: aead, keyID: hex.EncodeToString(sum[:4])}, nil
}

// Seal encrypts a secret value. The empty string stays empty.
func (s *Sealer) Seal(plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	ct := s.aead.Seal(nonce, nonce, []byte(plain), []byte(s.keyID))
	return sealedPrefix + s.keyID + ":" + base64.RawStdEncoding.EncodeToString(ct), nil
}

// Open decrypts a sealed value; unsealed values are returned unchanged.
func (s *Sealer) Open(stored string) (string, error) {
	rest, ok := strings.CutPrefix(stored, sealedPrefix)
	if !ok {
		return stored, nil
	}
	keyID, b64, ok := strings.Cut(rest, ":")
	if !ok {
		return "", errors.New("malformed sealed secret")
	}
	if keyID != s.keyID {
		return "", fmt.Errorf("secret was sealed with key %s, apigw runs with key %s (check --secret-key-file)", keyID, s.keyID)
	}
	ct, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil || len(ct) < s.aead.NonceSize() {
		return "", errors.New("malformed sealed secret")
	}
	pt, err := s.aead.Open(nil, ct[:s.aead.NonceSize()], ct[s.aead.NonceSize():], []byte(keyID))
	if err != nil {
		return "", errors.New("sealed secret does not decrypt with this key")
	}
	return string(pt), nil
}

// ParseSecretKey reads a key given as 32 raw bytes, 64 hex digits or base64.
func ParseSecretKey(b []byte) ([]byte, error) {
	text := strings.TrimSpace(string(b))
	if k, err := hex.DecodeString(text); err == nil && len(k) == 32 {
		return k, nil
	}
	if k, err := base64.StdEncoding.DecodeString(text); err == nil && len(k) == 32 {
		return k, nil
	}
	if len(b) == 32 {
		return b, nil
	}
	return nil, errors.New("secret key must be 32 bytes: raw, 64 hex digits or base64")
}

// LoadOrCreateKeyFile reads the key file, creating it with a random key
// (mode 0600) when it does not exist and create is true.
func LoadOrCreateKeyFile(path string, create bool) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := ParseSecretKey(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) || !create {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(k)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return k, nil
}
