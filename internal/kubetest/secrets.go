package kubetest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
)

// files are the credentials the control plane is started with.
type files struct {
	token     string
	tokenFile string
	saKey     string
	saPub     string
}

// writeSecrets writes a token auth file with one system:masters token and a
// fresh RSA service-account signing key pair into dir.
func writeSecrets(dir string) (files, error) {
	var f files
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return f, fmt.Errorf("token: %w", err)
	}
	f.token = hex.EncodeToString(b)
	f.tokenFile = filepath.Join(dir, "tokens.csv")
	line := fmt.Sprintf("%s,admin,admin-uid,system:masters\n", f.token)
	if err := os.WriteFile(f.tokenFile, []byte(line), 0o600); err != nil {
		return f, fmt.Errorf("token file: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return f, fmt.Errorf("service-account key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return f, fmt.Errorf("service-account public key: %w", err)
	}
	f.saKey = filepath.Join(dir, "sa.key")
	f.saPub = filepath.Join(dir, "sa.pub")
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
	if err := os.WriteFile(f.saKey, keyPEM, 0o600); err != nil {
		return f, fmt.Errorf("service-account key: %w", err)
	}
	if err := os.WriteFile(f.saPub, pubPEM, 0o644); err != nil {
		return f, fmt.Errorf("service-account public key: %w", err)
	}
	return f, nil
}
