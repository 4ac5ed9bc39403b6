package uploader

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"yici/sync/wire"
)

// Vault asks the platform what is on file for the applicant of idNumber.
// The number travels in the request body, never in the URL.
func (c *Client) Vault(ctx context.Context, idNumber string) (wire.VaultAnswer, error) {
	body, err := json.Marshal(wire.VaultQuery{IDNumber: idNumber})
	if err != nil {
		return wire.VaultAnswer{}, err
	}
	var a wire.VaultAnswer
	err = c.do(ctx, http.MethodPost, "/v1/vault/query", body, "application/json", &a)
	return a, err
}

// Confirm confirms materials of the case caseID on the platform, making
// them vault entries of its applicant (the desk, after review).
func (c *Client) Confirm(ctx context.Context, caseID string, req wire.ConfirmRequest) (wire.ConfirmAnswer, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return wire.ConfirmAnswer{}, err
	}
	var a wire.ConfirmAnswer
	err = c.do(ctx, http.MethodPost, "/v1/cases/"+url.PathEscape(caseID)+"/confirm", body, "application/json", &a)
	return a, err
}

// PutEvent puts one event; a repeat is answered as the first was.
func (c *Client) PutEvent(ctx context.Context, e wire.Event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPut, "/v1/events/"+url.PathEscape(e.ID), body, "application/json", nil)
}

// CaseEvents lists the events the platform holds for caseID.
func (c *Client) CaseEvents(ctx context.Context, caseID string) ([]wire.Event, error) {
	var out []wire.Event
	err := c.do(ctx, http.MethodGet, "/v1/events?case="+url.QueryEscape(caseID), nil, "application/json", &out)
	return out, err
}

// CatalogRevision asks for the latest catalogue revision; 0 and no error
// when the platform has none published.
func (c *Client) CatalogRevision(ctx context.Context) (int, error) {
	var h wire.CatalogHead
	err := c.do(ctx, http.MethodGet, "/v1/catalog", nil, "application/json", &h)
	var se *StatusError
	if errors.As(err, &se) && se.Body.Code == wire.CodeNoCatalog {
		return 0, nil
	}
	return h.Revision, err
}

// Catalog fetches catalogue revision rev, as the JSON document it is.
func (c *Client) Catalog(ctx context.Context, rev int) ([]byte, error) {
	var doc json.RawMessage
	err := c.do(ctx, http.MethodGet, "/v1/catalog/"+strconv.Itoa(rev), nil, "application/json", &doc)
	return doc, err
}

// VaultCache is what LookupVault needs of the store (*store.Store).
type VaultCache interface {
	PutVault(idNumber string, a wire.VaultAnswer) error
	Vault(idNumber string) (wire.VaultAnswer, time.Time, error)
}

// LookupVault asks the platform's vault for idNumber and caches the answer;
// when the platform cannot be reached it returns the cached answer with
// the time it was fetched, so the screen can say how old it is (D5).
// fetched is now for a fresh answer. With neither a platform answer nor a
// cached one it returns the platform's error.
func LookupVault(ctx context.Context, c *Client, cache VaultCache, idNumber string) (a wire.VaultAnswer, fetched time.Time, fresh bool, err error) {
	a, err = c.Vault(ctx, idNumber)
	if err == nil {
		if cerr := cache.PutVault(idNumber, a); cerr != nil {
			return a, time.Now(), true, fmt.Errorf("vault answer not cached: %w", cerr)
		}
		return a, time.Now(), true, nil
	}
	var se *StatusError
	if errors.As(err, &se) && se.Status < 500 && se.Status != http.StatusUnauthorized {
		// The platform answered and refused (a bad number, say): an old
		// answer is no better.
		return wire.VaultAnswer{}, time.Time{}, false, err
	}
	cached, at, cerr := cache.Vault(idNumber)
	if cerr != nil {
		return wire.VaultAnswer{}, time.Time{}, false, err
	}
	return cached, at, false, nil
}

// CatalogCache is what SyncCatalog needs of the store (*store.Store).
type CatalogCache interface {
	PutCatalog(doc []byte) (int, error)
	Catalog() (doc []byte, rev int, fetched time.Time, err error)
}

// SyncCatalog fetches the platform's latest catalogue revision into cache
// if the cache holds an older one, and returns the revision the cache
// holds afterwards. Offline, it returns the cached revision and the error.
func SyncCatalog(ctx context.Context, c *Client, cache CatalogCache) (int, error) {
	_, have, _, cerr := cache.Catalog()
	if cerr != nil {
		have = 0
	}
	latest, err := c.CatalogRevision(ctx)
	if err != nil || latest <= have {
		return have, err
	}
	doc, err := c.Catalog(ctx, latest)
	if err != nil {
		return have, err
	}
	rev, err := cache.PutCatalog(doc)
	if err != nil {
		return have, err
	}
	if rev != latest {
		return have, fmt.Errorf("catalogue revision %d from the platform says it is revision %d", latest, rev)
	}
	return rev, nil
}
