// Package uploader works the appliance's outbox: for each submitted case it
// asks the platform which blobs it lacks, uploads only those, then puts the
// manifest, the commit point, and acknowledges the case in the store. Every
// step is idempotent on the platform, so a crash, a timeout or a lost answer
// at any point is mended by doing the case again (D4).
package uploader

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"yici/sync/wire"
)

// Outbox is what the uploader needs of the store (*store.Store).
type Outbox interface {
	// PendingCases returns the submitted, unacknowledged cases in order.
	PendingCases() ([]wire.Manifest, error)
	// Blob returns the bytes of a captured material.
	Blob(sha256 string) ([]byte, error)
	// Ack records that the platform holds the case.
	Ack(caseID string) error
	// Fail takes a case the platform refused for good out of the outbox.
	Fail(caseID, reason string) error
}

// EventOutbox is what the uploader needs to send events as well as cases;
// *store.Store has it. An Outbox without it sends cases only.
type EventOutbox interface {
	// PendingEvents returns the queued, unacknowledged events in order.
	PendingEvents() ([]wire.Event, error)
	// AckEvent records that the platform holds the event.
	AckEvent(id string) error
	// FailEvent takes an event the platform refused for good out of the outbox.
	FailEvent(id, reason string) error
}

// Options tune an Uploader. Zero values take the defaults.
type Options struct {
	RequestTimeout  time.Duration // per request; default 60 s
	MinBackoff      time.Duration // first wait after a failure; default 1 s
	MaxBackoff      time.Duration // longest wait; default 5 min
	BlobConcurrency int           // blob uploads at once; default 4
	PollInterval    time.Duration // look at the outbox unkicked this often; default 1 min
	// ResumableAbove: a blob larger than this goes by the resumable upload,
	// so that a try broken mid-body is followed by one that sends only the
	// rest; default 1 MiB. Smaller ones go in one PUT, a round trip less.
	ResumableAbove int64
	// OnEvent, if set, is told what happens, for the status line. It is
	// called from the uploader's goroutines one at a time and should return
	// quickly.
	OnEvent func(Event)
}

// Kind is what an Event tells.
type Kind string

const (
	Queued  Kind = "queued"  // the case waits in the outbox
	Sending Kind = "sending" // Percent of its missing blob bytes are up
	Sent    Kind = "sent"    // the platform holds the case; it is acknowledged
	Failed  Kind = "failed"  // the platform refused the case for good: Reason
	Waiting Kind = "waiting" // a try failed (Reason); the next one is in RetryIn
)

// Event is one step of the uploader's work.
type Event struct {
	Kind    Kind
	Case    string // empty for Waiting when no case was being sent
	Event   string // the outbox event's id when the step is about an event (Sent, Failed, Waiting)
	Percent int
	Reason  string
	RetryIn time.Duration
}

// Uploader works an Outbox against the platform.
type Uploader struct {
	out  Outbox
	c    *Client
	opt  Options
	kick chan struct{}

	emitMu sync.Mutex
	queued map[string]bool // cases announced as Queued, so each is told once
}

// New returns an Uploader of out through c.
func New(out Outbox, c *Client, opt Options) *Uploader {
	if opt.RequestTimeout <= 0 {
		opt.RequestTimeout = 60 * time.Second
	}
	if opt.MinBackoff <= 0 {
		opt.MinBackoff = time.Second
	}
	if opt.MaxBackoff < opt.MinBackoff {
		opt.MaxBackoff = max(5*time.Minute, opt.MinBackoff)
	}
	if opt.BlobConcurrency <= 0 {
		opt.BlobConcurrency = 4
	}
	if opt.PollInterval <= 0 {
		opt.PollInterval = time.Minute
	}
	if opt.ResumableAbove <= 0 {
		opt.ResumableAbove = 1 << 20
	}
	return &Uploader{out: out, c: c, opt: opt, kick: make(chan struct{}, 1), queued: map[string]bool{}}
}

// Kick wakes an idle Run at once, e.g. when a case has been submitted.
func (u *Uploader) Kick() {
	select {
	case u.kick <- struct{}{}:
	default:
	}
}

// Run works the outbox until ctx ends, then returns ctx's error. When the
// outbox is empty it waits for Kick or PollInterval. Use one Run (or Drain)
// per outbox at a time.
func (u *Uploader) Run(ctx context.Context) error {
	failures := 0
	for {
		wait := u.opt.PollInterval
		if err := u.Drain(ctx); err != nil && ctx.Err() == nil {
			// The store itself failed; tell, and try again later rather
			// than stop syncing for good.
			wait = u.backoff(failures)
			failures++
			u.emit(Event{Kind: Waiting, Reason: err.Error(), RetryIn: wait})
		} else {
			failures = 0
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-u.kick:
			t.Stop()
		case <-t.C:
		}
	}
}

// Drain sends pending cases, then pending events, until the outbox is
// empty, waiting out network errors and platform errors that may pass. It
// returns nil when the outbox is empty, ctx's error when ctx ends, and the
// store's error when the store fails.
func (u *Uploader) Drain(ctx context.Context) error {
	failures := 0
	for {
		cases, err := u.out.PendingCases()
		if err != nil {
			return err
		}
		var events []wire.Event
		evOut, hasEvents := u.out.(EventOutbox)
		if hasEvents {
			if events, err = evOut.PendingEvents(); err != nil {
				return err
			}
		}
		if len(cases) == 0 && len(events) == 0 {
			return nil
		}
		for _, m := range cases {
			u.announce(m.ID)
		}
		failed := false
		for _, m := range cases {
			err := u.send(ctx, m)
			if err == nil {
				failures = 0
				u.done(Event{Kind: Sent, Case: m.ID, Percent: 100})
				continue
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if reason, ok := permanent(err); ok {
				if ferr := u.out.Fail(m.ID, reason); ferr != nil {
					return ferr
				}
				u.done(Event{Kind: Failed, Case: m.ID, Reason: reason})
				continue
			}
			failed = true
			if !u.wait(ctx, &failures, Event{Case: m.ID, Reason: err.Error()}) {
				return ctx.Err()
			}
			break // list the outbox again: a retry starts from its head
		}
		if failed {
			continue
		}
		for _, e := range events {
			err := u.sendEvent(ctx, e)
			if err == nil {
				failures = 0
				if err := evOut.AckEvent(e.ID); err != nil {
					return err
				}
				u.emit(Event{Kind: Sent, Case: e.Case, Event: e.ID, Percent: 100})
				continue
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if reason, ok := permanent(err); ok {
				if ferr := evOut.FailEvent(e.ID, reason); ferr != nil {
					return ferr
				}
				u.emit(Event{Kind: Failed, Case: e.Case, Event: e.ID, Reason: reason})
				continue
			}
			if !u.wait(ctx, &failures, Event{Case: e.Case, Event: e.ID, Reason: err.Error()}) {
				return ctx.Err()
			}
			break
		}
	}
}

// wait tells of a failed try and waits out the backoff after the failures
// so far; false when ctx ended first.
func (u *Uploader) wait(ctx context.Context, failures *int, e Event) bool {
	e.Kind, e.RetryIn = Waiting, u.backoff(*failures)
	*failures++
	u.emit(e)
	return sleep(ctx, e.RetryIn)
}

// sendEvent puts one event, after the blob of a supplied material if the
// platform lacks it.
func (u *Uploader) sendEvent(ctx context.Context, e wire.Event) error {
	if e.SHA256 != "" {
		var missing []string
		err := u.request(ctx, func(ctx context.Context) (err error) {
			missing, err = u.c.Missing(ctx, []string{e.SHA256})
			return err
		})
		if err != nil {
			return err
		}
		if len(missing) > 0 {
			if err := u.putBlob(ctx, e.SHA256, nil); err != nil {
				return err
			}
		}
	}
	return u.request(ctx, func(ctx context.Context) error { return u.c.PutEvent(ctx, e) })
}

// send does one case: missing blobs, then the manifest, then the ack.
func (u *Uploader) send(ctx context.Context, m wire.Manifest) error {
	sizes := map[string]int64{}
	var hashes []string
	for _, mr := range m.Materials {
		if mr.Exempt {
			continue
		}
		if _, dup := sizes[mr.SHA256]; !dup {
			hashes = append(hashes, mr.SHA256)
		}
		sizes[mr.SHA256] = mr.Size
	}
	var missing []string
	err := u.request(ctx, func(ctx context.Context) (err error) {
		missing, err = u.c.Missing(ctx, hashes)
		return err
	})
	if err != nil {
		return err
	}
	var total int64
	for _, h := range missing {
		size, ok := sizes[h]
		if !ok {
			return fmt.Errorf("case %s: platform asked for blob %s, which the case does not name", m.ID, h)
		}
		total += size
	}
	u.emit(Event{Kind: Sending, Case: m.ID})
	if err := u.putBlobs(ctx, m.ID, missing, sizes, total); err != nil {
		return err
	}
	if err := u.request(ctx, func(ctx context.Context) error { return u.c.PutCase(ctx, m) }); err != nil {
		return err
	}
	if err := u.out.Ack(m.ID); err != nil {
		// The platform holds the case; the next try gets 200 and acks again.
		return fmt.Errorf("case %s is on the platform but its ack failed: %w", m.ID, err)
	}
	return nil
}

// putBlobs uploads the missing blobs, BlobConcurrency at a time, and stops
// at the first failure. Sending events tell the share of total that is up:
// whole blobs, and the bytes of the blobs under way (the part of a resumed
// blob the platform already held counts as up). They only ever rise
// within a try; the next try starts from what the platform holds.
func (u *Uploader) putBlobs(ctx context.Context, caseID string, missing []string, sizes map[string]int64, total int64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, u.opt.BlobConcurrency)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		done     int64                // bytes of the blobs sent whole
		partly   = map[string]int64{} // bytes up of the blobs under way
		percent  = 0                  // send told 0 % before
	)
	// tell emits the new percentage if it has risen. Call with mu held.
	tell := func() {
		up := done
		for _, n := range partly {
			up += n
		}
		if p := int(up * 100 / max(total, 1)); p > percent {
			percent = p
			u.emit(Event{Kind: Sending, Case: caseID, Percent: p})
		}
	}
	for _, h := range missing {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			err := u.putBlob(ctx, h, func(n int64) {
				mu.Lock()
				defer mu.Unlock()
				partly[h] = n
				tell()
			})
			mu.Lock()
			defer mu.Unlock()
			delete(partly, h)
			if err != nil {
				if firstErr == nil {
					firstErr = err
					cancel()
				}
				return
			}
			done += sizes[h]
			tell()
		})
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// putBlob uploads the blob h: in one PUT, or by the resumable upload when
// it is larger than ResumableAbove, telling sent (if set) of its progress.
func (u *Uploader) putBlob(ctx context.Context, h string, sent func(int64)) error {
	data, err := u.out.Blob(h)
	if err != nil {
		return err
	}
	if int64(len(data)) <= u.opt.ResumableAbove {
		return u.request(ctx, func(ctx context.Context) error { return u.c.PutBlob(ctx, h, data) })
	}
	return u.resume(ctx, h, data, sent)
}

// resume sends data as the blob h from where the platform's upload of it
// stands: it asks the offset, then sends the rest in one PATCH. A PATCH
// that finds the offset moved (another sender of the same bytes, or an
// earlier request of ours that the platform finished after we gave up on
// it) or the upload gone (finished or expired) asks again, a few times;
// any other failure goes back to the caller's retry, which asks again too.
// Nothing is sent twice that the platform said it holds, so a retry after
// a lost answer neither duplicates nor corrupts.
func (u *Uploader) resume(ctx context.Context, h string, data []byte, sent func(int64)) error {
	length := int64(len(data))
	for asked := 1; ; asked++ {
		var offset int64
		err := u.request(ctx, func(ctx context.Context) (err error) {
			offset, err = u.c.StartUpload(ctx, h, length)
			return err
		})
		if err != nil {
			return err
		}
		if sent != nil {
			sent(offset)
		}
		if offset == length {
			return nil
		}
		err = u.request(ctx, func(ctx context.Context) (err error) {
			offset, err = u.c.PatchBlob(ctx, h, offset, data, sent)
			return err
		})
		var se *StatusError
		switch {
		case err == nil && offset == length:
			return nil
		case err == nil:
			err = fmt.Errorf("upload of blob %s: platform holds %d of %d bytes after the last one was sent", h, offset, length)
		case asked < 4 && errors.As(err, &se) && (se.Body.Code == wire.CodeOffsetMismatch || se.Body.Code == wire.CodeNotFound):
			continue
		}
		return err
	}
}

// request runs one request under the per-request timeout.
func (u *Uploader) request(ctx context.Context, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, u.opt.RequestTimeout)
	defer cancel()
	return f(ctx)
}

// permanent reports whether err is a refusal that a retry cannot mend, and
// the reason to record. Network errors, 5xx, timeouts, throttling and a
// refused credential (which enrolment can mend) are worth retrying, and so
// is blob_missing: the next try asks again which blobs are missing, and
// so are offset_mismatch and upload_locked: the next try asks the offset.
func permanent(err error) (string, bool) {
	var se *StatusError
	if !errors.As(err, &se) {
		return "", false
	}
	switch {
	case se.Status >= 500,
		se.Status == http.StatusRequestTimeout,
		se.Status == http.StatusTooManyRequests,
		se.Status == http.StatusUnauthorized,
		se.Body.Code == wire.CodeBlobMissing,
		se.Body.Code == wire.CodeOffsetMismatch, // the next try asks the offset again
		se.Body.Code == wire.CodeUploadLocked:   // a request given up on is still appending
		return "", false
	}
	return se.Error(), true
}

// backoff is the wait after n consecutive failures: exponential from
// MinBackoff to MaxBackoff, with jitter over its upper half so that a hall
// of kiosks coming back online does not retry in step.
func (u *Uploader) backoff(n int) time.Duration {
	d := u.opt.MaxBackoff
	if n < 30 {
		d = min(u.opt.MinBackoff<<n, u.opt.MaxBackoff)
	}
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (u *Uploader) announce(caseID string) {
	u.emitMu.Lock()
	seen := u.queued[caseID]
	u.queued[caseID] = true
	u.emitMu.Unlock()
	if !seen {
		u.emit(Event{Kind: Queued, Case: caseID})
	}
}

// done tells a case's last event and forgets it was announced.
func (u *Uploader) done(e Event) {
	u.emitMu.Lock()
	delete(u.queued, e.Case)
	u.emitMu.Unlock()
	u.emit(e)
}

func (u *Uploader) emit(e Event) {
	if u.opt.OnEvent == nil {
		return
	}
	u.emitMu.Lock()
	defer u.emitMu.Unlock()
	u.opt.OnEvent(e)
}
