package account

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// HashParams are the argon2id costs of a password hash.
type HashParams struct {
	Memory  uint32 // KiB; default 19456 (19 MiB)
	Time    uint32 // passes; default 2
	Threads uint8  // default 1
}

// DefaultHashParams are OWASP's minimum recommendation for argon2id (m=19 MiB, t=2, p=1).
var DefaultHashParams = HashParams{Memory: 19 * 1024, Time: 2, Threads: 1}

func (p *HashParams) withDefaults() {
	if p.Memory == 0 {
		p.Memory = DefaultHashParams.Memory
	}
	if p.Time == 0 {
		p.Time = DefaultHashParams.Time
	}
	if p.Threads == 0 {
		p.Threads = DefaultHashParams.Threads
	}
}

const (
	saltLen = 16
	keyLen  = 32
)

var b64 = base64.RawStdEncoding

// HashPassword returns the PHC string of password under p:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func HashPassword(password string, p HashParams) string {
	p.withDefaults()
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		panic(err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

var errBadHash = errors.New("account: not an argon2id password hash")

// VerifyPassword reports whether password matches the PHC string encoded. An empty encoded
// hash (a user without a password) matches nothing.
func VerifyPassword(password, encoded string) (bool, error) {
	if encoded == "" {
		return false, nil
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	var p HashParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil || p.Memory == 0 || p.Time == 0 || p.Threads == 0 {
		return false, errBadHash
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is verified against when the sign-in name is unknown, so that an unknown name
// costs as long as a wrong password and the timing tells nothing.
func dummyHash(p HashParams) string {
	return HashPassword("offsite: no such user", p)
}
