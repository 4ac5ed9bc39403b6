// Package audit is the platform's audit log: one record for every read of
// personal data and every sign-in (S19). The log is append-only, each
// record sealed with the platform key and hash-chained to the one before,
// so that a record removed, reordered or altered is detected by Verify.
//
// # Durability
//
// Append writes each record with one write(2) to a file opened O_APPEND:
// once Append returns, the record is in the kernel and survives the
// process being killed (kill -9). It is not fsynced there: Append runs on
// every read request, and an fsync per read would cost milliseconds. A
// background flush fsyncs the log at most FlushEvery after the first
// record not yet synced, and so do Sync and Close; a power cut can lose
// the records of the last FlushEvery. A process killed in the middle of a
// write leaves a torn last frame; Open cuts it off and says so
// (TornBytes), it is not taken for tampering.
//
// # What is detected, and what is not
//
// Each record is sealed (AES-256-GCM) with additional data holding its
// seq and the chain value before it, and each frame carries the chain
// value after it. Without the platform key nobody can:
//
//   - alter a byte of a record, its seq or its chain value;
//   - remove, reorder or duplicate records, or splice in records from
//     another log or an older copy of this one;
//   - cut records off the end of the log unnoticed, as long as the head
//     file (path + ".head") is kept beside it: the head is sealed and holds
//     the seq and chain value last synced, and Verify fails when the head
//     is ahead of the log or disagrees with it. A head file removed is
//     itself reported.
//
// What is not detected: records cut off the end together with the head
// replaced by an older copy of itself (a rollback to an earlier state of
// the same log, at most back to that copy); records appended within the
// last FlushEvery before a power cut, which are simply lost; and anything
// done by someone holding the platform key, who can rewrite the whole log
// and its head. The key file must be kept from whoever the log watches;
// copying the log and its head elsewhere (off the machine) regularly is
// what bounds a rollback.
//
// # File format
//
// The log file starts with the 8 bytes "yiciaud1" (Magic), followed by
// frames back to back. Frame i (seq = i, counting from 1) is
//
//	offset 0      seq     uint64, big-endian
//	offset 8      n       uint32, big-endian: the length of sealed,
//	                      28 ≤ n ≤ 28 + MaxRecord
//	offset 12     sealed  n bytes: nonce (12) || AES-256-GCM ciphertext ||
//	                      tag (16) of the record as JSON (Record), with
//	                      additional data "yici-audit/v1 record" || seq
//	                      (uint64, big-endian) || prev
//	offset 12+n   chain   32 bytes: SHA-256(prev || the frame's first 12+n
//	                      bytes)
//
// where prev is the chain value of frame i-1, and 32 zero bytes for frame
// 1. A frame is 44+n bytes. The JSON's "seq" equals the frame's seq.
//
// The head file holds nonce (12) || ciphertext || tag (16) of 40 bytes:
// the seq of the last record synced (uint64, big-endian; 0 for none) and
// its chain value (32 zero bytes for none), sealed with additional data
// "yici-audit/v1 head". It is replaced by rename after the log is fsynced,
// so it is never ahead of what is on the disk.
//
// IMPORTANT: one process appends to a log at a time; the package does not
// lock the file (the platform holds its bbolt lock, which keeps a second
// platform off the same data directory). Verify and List may run in other
// processes while it appends.
package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"
)

// Record is one audited event: a read of personal data, or a sign-in.
type Record struct {
	// Seq numbers the records of a log from 1; the log assigns it.
	Seq uint64 `json:"seq"`
	// At is when it happened; Append sets it to now when zero.
	At       time.Time `json:"at"`
	Terminal string    `json:"terminal,omitempty"`
	Hall     string    `json:"hall,omitempty"`
	Role     string    `json:"role,omitempty"`
	Clerk    string    `json:"clerk,omitempty"`
	// Action is the endpoint, e.g. "GET /v1/cases/{id}".
	Action string `json:"action"`
	// Object is what was read: a case id, a blob hash, or
	// "applicant:<first 16 hex of the key>".
	Object string `json:"object,omitempty"`
	// Reason is free text, e.g. "signin: wrong PIN".
	Reason string `json:"reason,omitempty"`
	// Status is the HTTP status answered.
	Status int `json:"status"`
}

// Filter selects records for List; zero fields select everything.
type Filter struct {
	// Since and Until bound At: Since ≤ At < Until.
	Since, Until time.Time
	// Terminal, Clerk and Object select records equal to them.
	Terminal, Clerk, Object string
}

func (f Filter) match(r *Record) bool {
	return (f.Since.IsZero() || !r.At.Before(f.Since)) &&
		(f.Until.IsZero() || r.At.Before(f.Until)) &&
		(f.Terminal == "" || r.Terminal == f.Terminal) &&
		(f.Clerk == "" || r.Clerk == f.Clerk) &&
		(f.Object == "" || r.Object == f.Object)
}

const (
	// Magic starts every log file.
	Magic = "yiciaud1"
	// MaxRecord is the largest record JSON Append takes, in bytes.
	MaxRecord = 64 << 10
	// FlushEvery is how long at most a record waits to be fsynced.
	FlushEvery = 100 * time.Millisecond

	headerLen = 12 // seq, n
	chainLen  = sha256.Size
	sealOver  = 12 + 16 // nonce and tag
	recordAD  = "yici-audit/v1 record"
	headAD    = "yici-audit/v1 head"
	headLen   = 8 + chainLen
)

type chain [chainLen]byte

func (c chain) short() string { return hex.EncodeToString(c[:4]) + "…" }

// diffShort shows 4 bytes of two chain values where they first differ, so
// that an error message is short and still shows the difference.
func diffShort(a, b chain) (string, string) {
	i := 0
	for i < chainLen-4 && a[i] == b[i] {
		i++
	}
	if i == 0 {
		return a.short(), b.short()
	}
	show := func(c chain) string { return "…" + hex.EncodeToString(c[i:i+4]) + "…" }
	if i == chainLen-4 {
		show = func(c chain) string { return "…" + hex.EncodeToString(c[i:]) }
	}
	return show(a), show(b)
}

// nextChain returns SHA-256(prev || frame), frame being a frame without
// its chain value.
func nextChain(prev chain, frame []byte) chain {
	h := sha256.New()
	h.Write(prev[:])
	h.Write(frame)
	var c chain
	h.Sum(c[:0])
	return c
}

func appendRecordAD(dst []byte, seq uint64, prev chain) []byte {
	dst = append(dst[:0], recordAD...)
	dst = binary.BigEndian.AppendUint64(dst, seq)
	return append(dst, prev[:]...)
}

// BrokenError says that a log fails verification, where and why. The
// record may have been altered, removed or forged, or the key is not the
// one the log was sealed with.
type BrokenError struct {
	// Seq is the first bad record's seq, 0 when the fault is in the
	// file's start or in the head.
	Seq uint64
	Why string
}

func (e *BrokenError) Error() string {
	if e.Seq == 0 {
		return "audit: " + e.Why
	}
	return fmt.Sprintf("audit: record %d: %s", e.Seq, e.Why)
}

func broken(seq uint64, format string, args ...any) error {
	return &BrokenError{Seq: seq, Why: fmt.Sprintf(format, args...)}
}
