package visit

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strconv"

	"yici/sync/wire"
)

// Events are the events of decision d, as terminal sends them:
// handling_started (when the review began), a rejection for each failing
// material citing its criterion (否定备案, S18), and handling_finished,
// approved for Accept and AcceptWithGaps, refused for Return (S16).
//
// Ids begin with the terminal's name, as the platform requires of every id
// a terminal makes, and are a function of the decision alone, so sending
// the same decision again repeats the same events (the platform answers a
// repeat as the first), and a correction, with its higher Seq, makes new
// ones:
//
//	<terminal>-<case>-started                      one per case: the review began once
//	<terminal>-<case>-<seq>-rejection-<material>
//	<terminal>-<case>-<seq>-finished
//
// The clerk is left empty: the platform sets it from the clerk's session.
// Every event passes wire.Event.Check when terminal is a valid name.
func (d Decision) Events(terminal string) []wire.Event {
	seq := strconv.Itoa(d.Seq)
	out := []wire.Event{{ID: eventID(terminal, d.Case, "started"), Kind: wire.EventHandlingStarted, At: d.Began.UTC(), Case: d.Case}}
	for _, r := range d.Rows {
		if !r.Failing() {
			continue
		}
		c, _ := r.criterion(r.Verdict.Criterion)
		out = append(out, wire.Event{ID: eventID(terminal, d.Case, seq, "rejection", r.Code), Kind: wire.EventRejection,
			At: d.At.UTC(), Case: d.Case, Material: r.Code, Criterion: c.ID, Reason: reason(c.Text, r.Verdict.Note)})
	}
	outcome := "approved"
	if d.Kind == Return {
		outcome = "refused"
	}
	return append(out, wire.Event{ID: eventID(terminal, d.Case, seq, "finished"), Kind: wire.EventHandlingFinished,
		At: d.At.UTC(), Case: d.Case, Outcome: outcome})
}

var idSafe = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// maxID is the longest id the platform takes (wire.ValidCaseID).
const maxID = 128

// eventID joins terminal, case and parts with '-'. A part with characters
// an id may not hold (a material code is any string to the catalogue) is
// replaced by a digest of it, and so is the case id when the whole would
// be too long: the id stays a function of its parts, and unique with them.
func eventID(terminal, caseID string, parts ...string) string {
	for i, p := range parts {
		if !idSafe.MatchString(p) {
			parts[i] = digest("m", p)
		}
	}
	id := join(terminal, caseID, parts)
	if len(id) > maxID {
		id = join(terminal, digest("c", caseID), parts)
	}
	return id
}

func join(terminal, caseID string, parts []string) string {
	id := terminal + "-" + caseID
	for _, p := range parts {
		id += "-" + p
	}
	return id
}

func digest(prefix, s string) string {
	sum := sha256.Sum256([]byte(s))
	return prefix + hex.EncodeToString(sum[:8])
}
