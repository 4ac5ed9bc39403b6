package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"yici/sync/wire"
)

// putEvent stores one event, idempotently by its id, as putCase does a
// case: the same content again is 200, other content is 409.
//
// A kiosk sends only the kinds in kioskEventKinds and only about its own
// cases; every other kind is a clerk's, sent by a desk with the clerk
// signed in, about a case of its hall or its own, and the platform writes
// the clerk from the session into the event.
func (s *Server) putEvent(w http.ResponseWriter, r *http.Request, c *Caller) {
	t := c.Terminal
	id := r.PathValue("id")
	if !wire.ValidCaseID(id) {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, fmt.Sprintf("%q is not a valid event id", id), nil)
		return
	}
	var e wire.Event
	if !s.decode(w, r, &e) {
		return
	}
	if e.ID != id {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, fmt.Sprintf("event id %q differs from the path's %q", e.ID, id), nil)
		return
	}
	if err := e.Check(); err != nil {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, err.Error(), nil)
		return
	}
	if !ownID(t.Name, id) {
		forbidden(w, fmt.Sprintf("event id %q does not begin with this terminal's name %q and a '-'; a terminal names its own events", id, t.Name))
		return
	}
	e.Terminal, e.Window = t.Name, "" // the window comes only from a clerk's session
	ctx := r.Context()
	// A desk sends a kiosk's kinds (a rating on its pad) as a kiosk does
	// when no clerk session comes with it.
	byClerk := t.Role == RoleDesk && (!slices.Contains(kioskEventKinds, e.Kind) || r.Header.Get(wire.HeaderSession) != "")
	if !byClerk {
		if !slices.Contains(kioskEventKinds, e.Kind) {
			forbidden(w, fmt.Sprintf("a kiosk may not send %s events; they are a clerk's", e.Kind))
			return
		}
		if e.Case != "" && !ownID(t.Name, e.Case) {
			forbidden(w, fmt.Sprintf("event %s is about case %s, which terminal %s did not make", id, e.Case, t.Name))
			return
		}
	} else {
		if !s.needClerk(w, r, c) {
			return
		}
		e.Clerk, e.Window = c.Clerk, c.Window
		if e.Case != "" && !ownID(t.Name, e.Case) {
			if _, ok := s.caseOfHall(w, r, c, e.Case); !ok {
				return
			}
		}
		if e.Kind == wire.EventRejection && !s.checkRejection(w, r, e) {
			return
		}
	}
	if e.Kind == wire.EventDeferredSupplied {
		held, err := s.st.HasBlob(ctx, e.SHA256)
		if err != nil {
			s.internal(w, "look up blob", err)
			return
		}
		if !held {
			writeError(w, http.StatusUnprocessableEntity, wire.CodeBlobMissing,
				fmt.Sprintf("event %s names a blob the platform does not hold; upload it first", id), []string{e.SHA256})
			return
		}
		if err := s.st.SyncBlobs(ctx, []string{e.SHA256}); err != nil {
			s.internal(w, "make blob durable", err)
			return
		}
	}
	stored, err := s.st.PutEvent(ctx, e, s.now().UTC())
	switch {
	case errors.Is(err, ErrConflict):
		writeError(w, http.StatusConflict, wire.CodeConflict, "event "+id+" is held with other content; an event id must not be reused", nil)
	case err != nil:
		s.internal(w, "store event", err)
	case stored:
		writeJSON(w, http.StatusCreated, e)
	default:
		writeJSON(w, http.StatusOK, e)
	}
}

// checkRejection answers, and returns false, unless the rejection e cites
// a criterion the catalogue revision of its case publishes for the
// material, and the case, held, lists that material (S4: a clerk fails a
// material only by citing one of its published criteria).
func (s *Server) checkRejection(w http.ResponseWriter, r *http.Request, e wire.Event) bool {
	ctx := r.Context()
	c, err := s.st.GetCase(ctx, e.Case)
	if errors.Is(err, ErrNotFound) {
		writeError(w, http.StatusNotFound, wire.CodeNotFound,
			fmt.Sprintf("event %s rejects a material of case %s, which is not held; a rejection follows the review of a held case", e.ID, e.Case), nil)
		return false
	}
	if err != nil {
		s.internal(w, "read case", err)
		return false
	}
	m := c.Manifest
	if !slices.ContainsFunc(m.Materials, func(mr wire.MaterialRef) bool { return mr.Code == e.Material }) {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest,
			fmt.Sprintf("event %s: case %s lists no material %q to reject", e.ID, e.Case, e.Material), nil)
		return false
	}
	crits, ok, err := s.criteriaOf(ctx, m.CatalogRevision, e.Material)
	if errors.Is(err, errNoRevision) {
		// Cases are checked for a published revision since this check
		// exists; a case stored before it may name another.
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest,
			fmt.Sprintf("event %s: case %s was made under catalogue revision %d, which this platform has not published, so no criterion of it can be cited",
				e.ID, e.Case, m.CatalogRevision), nil)
		return false
	}
	if err != nil {
		s.internal(w, "read catalogue", err)
		return false
	}
	switch {
	case !ok:
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest,
			fmt.Sprintf("event %s: material %q is not in catalogue revision %d of case %s", e.ID, e.Material, m.CatalogRevision, e.Case), nil)
		return false
	case !slices.Contains(crits, e.Criterion):
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest,
			fmt.Sprintf("event %s: %q is not a review criterion of material %s in catalogue revision %d; cite one of %s",
				e.ID, e.Criterion, e.Material, m.CatalogRevision, strings.Join(crits, ", ")), nil)
		return false
	}
	return true
}

// events lists the events of one case of the caller's hall, for its desks.
func (s *Server) events(w http.ResponseWriter, r *http.Request, c *Caller) {
	id := r.URL.Query().Get("case")
	if !wire.ValidCaseID(id) {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, fmt.Sprintf("case %q is not a valid case id", id), nil)
		return
	}
	c.Read("events of case " + id)
	if _, ok := s.caseOfHall(w, r, c, id); !ok {
		return
	}
	evs, err := s.st.CaseEvents(r.Context(), id)
	if err != nil {
		s.internal(w, "list events", err)
		return
	}
	writeJSON(w, http.StatusOK, evs)
}

func (s *Server) catalogHead(w http.ResponseWriter, r *http.Request, _ *Caller) {
	rev, err := s.st.LatestCatalog(r.Context())
	if err != nil {
		s.internal(w, "read catalogue", err)
		return
	}
	if rev == 0 {
		writeError(w, http.StatusNotFound, wire.CodeNoCatalog, "no catalogue has been published on this platform", nil)
		return
	}
	writeJSON(w, http.StatusOK, wire.CatalogHead{Revision: rev})
}

func (s *Server) catalog(w http.ResponseWriter, r *http.Request, _ *Caller) {
	v := r.PathValue("revision")
	rev, err := strconv.Atoi(v)
	if err != nil || rev < 1 || strconv.Itoa(rev) != v {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, fmt.Sprintf("revision %q is not a positive number", v), nil)
		return
	}
	doc, err := s.st.GetCatalog(r.Context(), rev)
	if errors.Is(err, ErrNotFound) {
		writeError(w, http.StatusNotFound, wire.CodeNotFound, fmt.Sprintf("catalogue revision %d is not held", rev), nil)
		return
	}
	if err != nil {
		s.internal(w, "read catalogue", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "max-age=31536000, immutable") // a revision never changes
	w.Write(doc)
}

// PublishCatalog stores doc, a catalogue document, as the revision its
// "revision" field names; the admin command behind `yici-platform catalog
// publish`. The protocol treats the document as opaque JSON. Publishing
// the same revision with the same content again does nothing and returns
// stored false; a revision not above the latest, or the same revision with
// other content, is refused.
func (s *Server) PublishCatalog(doc []byte) (rev int, stored bool, err error) {
	rev, err = wire.CatalogRevision(doc)
	if err != nil {
		return 0, false, fmt.Errorf("publish catalogue: %w", err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, doc); err != nil {
		return 0, false, fmt.Errorf("publish catalogue revision %d: %w", rev, err)
	}
	stored, err = s.st.PutCatalog(context.Background(), rev, compact.Bytes())
	if err != nil {
		return rev, false, fmt.Errorf("publish catalogue: %w", err)
	}
	return rev, stored, nil
}
