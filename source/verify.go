package source

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// readKeyring reads an armored or binary OpenPGP public keyring.
func readKeyring(b []byte) (openpgp.EntityList, error) {
	var (
		kr  openpgp.EntityList
		err error
	)
	if bytes.Contains(b, []byte("-----BEGIN PGP")) {
		kr, err = openpgp.ReadArmoredKeyRing(bytes.NewReader(b))
	} else {
		kr, err = openpgp.ReadKeyRing(bytes.NewReader(b))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: keyring: %w", ErrInvalidOptions, err)
	}
	if len(kr) == 0 {
		return nil, fmt.Errorf("%w: keyring has no key", ErrInvalidOptions)
	}
	return kr, nil
}

// verifyCommit checks c's OpenPGP signature against kr and names the
// signer.
func verifyCommit(c *object.Commit, kr openpgp.EntityList) (string, error) {
	if c.PGPSignature == "" {
		return "", fmt.Errorf("%w: commit %s is not signed", ErrSignature, c.Hash)
	}
	payload := &plumbing.MemoryObject{}
	if err := c.EncodeWithoutSignature(payload); err != nil {
		return "", fmt.Errorf("%w: commit %s: %w", ErrSignature, c.Hash, err)
	}
	r, err := payload.Reader()
	if err != nil {
		return "", fmt.Errorf("%w: commit %s: %w", ErrSignature, c.Hash, err)
	}
	defer r.Close()
	signer, err := openpgp.CheckArmoredDetachedSignature(kr, r, strings.NewReader(c.PGPSignature), nil)
	if err != nil {
		return "", fmt.Errorf("%w: commit %s: %w", ErrSignature, c.Hash, err)
	}
	for name := range signer.Identities {
		return name, nil
	}
	return fmt.Sprintf("%X", signer.PrimaryKey.Fingerprint), nil
}
