package appliance

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"yici/sync/appcode"
	"yici/sync/wire"
)

// appCodeKeysFile keeps the platform's app code keys in the data
// directory, so a kiosk started offline still verifies codes (D5). They
// are public keys: what matters is that only this user can write the
// file, which the directory's mode sees to.
const appCodeKeysFile = "appcode-keys.json"

// usableKeys are the well-formed keys of a, each under its own id.
func usableKeys(a wire.AppCodeKeys) []ed25519.PublicKey {
	var out []ed25519.PublicKey
	for _, k := range a.Keys {
		if len(k.Ed25519) == ed25519.PublicKeySize && k.ID == appcode.KeyID(k.Ed25519) {
			out = append(out, k.Ed25519)
		}
	}
	return out
}

// loadAppCodeKeys returns the keys kept in dir; none (and a log line if
// the file is damaged) when there are none.
func loadAppCodeKeys(dir string) []ed25519.PublicKey {
	b, err := os.ReadFile(filepath.Join(dir, appCodeKeysFile))
	if err != nil {
		return nil
	}
	var a wire.AppCodeKeys
	if err := json.Unmarshal(b, &a); err != nil {
		log.Printf("app codes: kept keys in %s unusable, fetching them again: %v", filepath.Join(dir, appCodeKeysFile), err)
		return nil
	}
	return usableKeys(a)
}

// SyncAppCodeKeys fetches the platform's app code keys, gives them to
// a.AppCodes and keeps them in the data directory. Offline, a.AppCodes
// keeps the keys it has.
func (a *Appliance) SyncAppCodeKeys(ctx context.Context) error {
	ans, err := a.Client.AppCodeKeys(ctx)
	if err != nil {
		return fmt.Errorf("app code keys: %w", err)
	}
	keys := usableKeys(ans)
	if len(keys) == 0 {
		return fmt.Errorf("app code keys: the platform sent %d keys, none usable", len(ans.Keys))
	}
	a.AppCodes.SetKeys(keys...)
	b, err := json.Marshal(ans)
	if err != nil {
		return err
	}
	tmp := filepath.Join(a.dir, appCodeKeysFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("app code keys: keep: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(a.dir, appCodeKeysFile)); err != nil {
		return fmt.Errorf("app code keys: keep: %w", err)
	}
	return nil
}

// KeepAppCodeKeys runs SyncAppCodeKeys every interval until ctx ends.
func (a *Appliance) KeepAppCodeKeys(ctx context.Context, every time.Duration) {
	for {
		if err := a.SyncAppCodeKeys(ctx); err != nil {
			log.Printf("%v (verifying with the %d kept)", err, a.AppCodes.KeyCount())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}
