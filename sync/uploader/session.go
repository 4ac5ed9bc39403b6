package uploader

import (
	"context"
	"encoding/json"
	"net/http"

	"yici/sync/wire"
)

// SignIn signs the clerk in at this terminal (a desk) with pin, at window,
// and on success sets c.Session to the new session's token, so that the
// requests that follow act for the clerk. A refusal is a *StatusError with
// wire.CodeSignInFailed (unknown staff number or wrong PIN) or
// wire.CodeClerkLocked (too many wrong PINs; Retry-After says how long).
// Do not retry a refusal by program: each attempt counts towards the lock.
func (c *Client) SignIn(ctx context.Context, clerk, pin, window string) (wire.SessionAnswer, error) {
	var ans wire.SessionAnswer
	body, err := json.Marshal(wire.SessionRequest{Clerk: clerk, PIN: pin, Window: window})
	if err != nil {
		return ans, err
	}
	if err := c.do(ctx, http.MethodPost, wire.SessionPath, body, "application/json", &ans); err != nil {
		return ans, err
	}
	c.setSession(ans.Token)
	return ans, nil
}

// SignOut ends the clerk session c.Session, if any, and clears it. A
// session that had ended already is not an error.
func (c *Client) SignOut(ctx context.Context) error {
	if _, session := c.credentials(); session == "" {
		return nil
	}
	resp, err := c.roundTrip(ctx, http.MethodDelete, wire.SessionPath, nil, 0, nil)
	if err != nil {
		return err
	}
	drain(resp)
	c.setSession("")
	return nil
}
