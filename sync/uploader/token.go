package uploader

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"yici/sync/wire"
)

// WhoAmI asks the platform what it knows of this terminal: its name,
// hall, role and when its token expires.
func (c *Client) WhoAmI(ctx context.Context) (wire.WhoAmI, error) {
	var a wire.WhoAmI
	err := c.do(ctx, http.MethodGet, "/v1/whoami", nil, "application/json", &a)
	return a, err
}

// RotateToken asks the platform for a new token. The client goes on with
// its old token; the caller saves the new one first and then sets it, so a
// crash between the two leaves a token on disk that still works (the old
// one stays valid for the platform's grace, minutes).
func (c *Client) RotateToken(ctx context.Context) (wire.TokenAnswer, error) {
	var a wire.TokenAnswer
	err := c.do(ctx, http.MethodPost, "/v1/token", nil, "application/json", &a)
	return a, err
}

// SetToken makes the client send token from the next request on.
func (c *Client) SetToken(token string) {
	c.mu.Lock()
	c.Token = token
	c.mu.Unlock()
}

func (c *Client) setSession(session string) {
	c.mu.Lock()
	c.Session = session
	c.mu.Unlock()
}

func (c *Client) credentials() (token, session string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Token, c.Session
}

// KeepToken renews the client's token when less than renewBefore of its
// life is left, checking every check, until ctx ends. save must make the
// new token durable (the token file) before it is used; if save fails the
// old token is kept and the renewal tried again at the next check, while
// the old token still works. logf tells hall IT what happened.
func KeepToken(ctx context.Context, c *Client, save func(token string) error, renewBefore, check time.Duration, logf func(string, ...any)) {
	for {
		if err := renewToken(ctx, c, save, renewBefore); err != nil && ctx.Err() == nil {
			logf("token: %v", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(check):
		}
	}
}

func renewToken(ctx context.Context, c *Client, save func(string) error, renewBefore time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	me, err := c.WhoAmI(ctx)
	var se *StatusError
	switch {
	case errors.As(err, &se) && se.Body.Code == wire.CodeTokenExpired:
		// Expired while offline: the platform lets it rotate for a while
		// yet, so the queue is not stranded.
	case err != nil:
		return fmt.Errorf("ask its expiry: %w", err)
	case time.Until(me.ExpiresAt) > renewBefore:
		return nil
	}
	a, err := c.RotateToken(ctx)
	if err != nil {
		return fmt.Errorf("renew (expires %s): %w", me.ExpiresAt.Format(time.RFC3339), err)
	}
	if err := save(a.Token); err != nil {
		return fmt.Errorf("renewed, but the new token was not saved, so the old one stays in use: %w", err)
	}
	c.SetToken(a.Token)
	return nil
}
