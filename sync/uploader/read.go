package uploader

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"yici/sync/wire"
)

// Cases lists the cases the platform holds, newest first (the desk's inbox).
func (c *Client) Cases(ctx context.Context) ([]wire.CaseSummary, error) {
	var out []wire.CaseSummary
	err := c.do(ctx, http.MethodGet, "/v1/cases", nil, "application/json", &out)
	return out, err
}

// CasesOf lists the hall's cases of the applicant of idNumber, newest
// first (a desk, with a clerk signed in). The number travels in the body.
func (c *Client) CasesOf(ctx context.Context, idNumber string) ([]wire.CaseSummary, error) {
	body, err := json.Marshal(wire.CaseSearch{IDNumber: idNumber})
	if err != nil {
		return nil, err
	}
	var out []wire.CaseSummary
	err = c.do(ctx, http.MethodPost, "/v1/cases/search", body, "application/json", &out)
	return out, err
}

// Case fetches one case's manifest.
func (c *Client) Case(ctx context.Context, id string) (*wire.Manifest, error) {
	var m wire.Manifest
	if err := c.do(ctx, http.MethodGet, "/v1/cases/"+url.PathEscape(id), nil, "application/json", &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// AppCodeKeys fetches the public keys app codes are signed with (any
// role); a kiosk keeps them to verify codes offline.
func (c *Client) AppCodeKeys(ctx context.Context) (wire.AppCodeKeys, error) {
	var out wire.AppCodeKeys
	err := c.do(ctx, http.MethodGet, wire.AppCodeKeyPath, nil, "application/json", &out)
	return out, err
}
