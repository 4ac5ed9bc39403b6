// Package appliance is the hall appliance's end of the sync path, shared
// by the kiosk (terminal), the window (desk), the demo and their tests:
// the encrypted store in a data directory, the platform client (with the
// platform's certificate pinned), the uploader that works the store's
// outbox, the live catalogue kept in step with the platform, and the
// terminal's enrolment token. It has no UI and opens no devices
// (drivers/devices does).
package appliance

import (
	"bytes"
	"context"
	"errors"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"yici/assets"
	"yici/sync/appcode"
	"yici/sync/catalog"
	"yici/sync/store"
	"yici/sync/uploader"
	"yici/sync/wire"
)

// Appliance is what a kiosk or a desk runs on: its store, the platform
// client and the uploader over them, and the catalogue its screens show.
type Appliance struct {
	Store    *store.Store
	Client   *uploader.Client
	Uploader *uploader.Uploader
	Catalog  *catalog.Live
	// AppCodes verifies app codes (掌上办) offline with the platform's
	// keys: those kept in the data directory from the start, the
	// platform's once SyncAppCodeKeys has fetched them.
	AppCodes *appcode.Verifier

	dir string
}

// Open opens the encrypted store in dir (key in dir/kiosk.key, readable
// only by this user) and an uploader to the platform, trusting exactly the
// certificate in pin (the platform's self-signed one); an empty pin trusts
// the system's roots. The catalogue starts as the newest of the one last
// fetched and the built-in one.
func Open(dir, platformURL, token, pin string) (*Appliance, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	st, err := store.OpenWithKeyFile(filepath.Join(dir, "kiosk.db"), filepath.Join(dir, "kiosk.key"))
	if err != nil {
		return nil, err
	}
	cat, err := startCatalog(st)
	if err != nil {
		st.Close()
		return nil, err
	}
	c, err := newClient(platformURL, token, pin)
	if err != nil {
		st.Close()
		return nil, err
	}
	up := uploader.New(st, c, uploader.Options{
		MinBackoff:   500 * time.Millisecond,
		MaxBackoff:   30 * time.Second,
		PollInterval: 10 * time.Second,
		OnEvent: func(e uploader.Event) {
			// Case ids carry no personal data, so the event can be logged.
			log.Printf("upload: %s %s %d%% %s", e.Kind, e.Case, e.Percent, e.Reason)
		},
	})
	return &Appliance{Store: st, Uploader: up, Client: c, Catalog: catalog.NewLive(cat),
		AppCodes: appcode.NewVerifier(loadAppCodeKeys(dir)...), dir: dir}, nil
}

// Close closes the store. Stop the uploader and the screens first.
func (a *Appliance) Close() error { return a.Store.Close() }

// startCatalog is the catalogue an appliance starts with: the newest of the
// one it last fetched from the platform and the one built in, so a
// terminal works offline from its first start (D5).
func startCatalog(st *store.Store) (*catalog.Catalog, error) {
	cat, err := catalog.Decode(bytes.NewReader(assets.SampleCatalog))
	if err != nil {
		return nil, err
	}
	doc, _, _, err := st.Catalog()
	if errors.Is(err, store.ErrNotFound) {
		return cat, nil
	}
	if err != nil {
		return nil, err
	}
	cached, err := catalog.Parse(doc)
	if err != nil {
		log.Printf("catalogue: the cached revision is unusable, using the built-in one: %v", err)
		return cat, nil
	}
	if cached.Revision > cat.Revision {
		return cached, nil
	}
	return cat, nil
}

// SyncCatalog fetches newer catalogue revisions from the platform every
// interval until ctx ends; a valid newer one reaches the screens through
// a.Catalog's watchers without a restart (S3).
func (a *Appliance) SyncCatalog(ctx context.Context, every time.Duration) {
	for {
		if _, err := uploader.SyncCatalog(ctx, a.Client, a.Store); err != nil {
			log.Printf("catalogue: %v (working from revision %d)", err, a.Catalog.Current().Revision)
		} else if doc, _, _, err := a.Store.Catalog(); err == nil {
			if swapped, err := a.Catalog.Update(doc); err != nil {
				log.Printf("catalogue: the platform's revision is refused: %v", err)
			} else if swapped {
				log.Printf("catalogue: now revision %d", a.Catalog.Current().Revision)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// Client is a platform client for a terminal that keeps no store (the
// call display), trusting exactly the certificate in pin as Open does; an
// empty pin trusts the system's roots.
func Client(platformURL, token, pin string) (*uploader.Client, error) {
	return newClient(platformURL, token, pin)
}

// newClient is a platform client; pin, when set, is the certificate file
// to trust instead of the system's roots.
func newClient(platformURL, token, pin string) (*uploader.Client, error) {
	c := &uploader.Client{BaseURL: platformURL, Token: token}
	if pin != "" {
		t, err := uploader.PinnedTransport(pin)
		if err != nil {
			return nil, err
		}
		c.HTTP = &http.Client{Transport: t}
	}
	return c, nil
}

// Vault looks up what an applicant has on file, falling back to the
// store's cached answer offline (terminal.Config's Vault).
func (a *Appliance) Vault(ctx context.Context, id string) (wire.VaultAnswer, time.Time, bool, error) {
	return uploader.LookupVault(ctx, a.Client, a.Store, id)
}
