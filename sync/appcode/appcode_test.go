package appcode

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var zhang = Person{Name: "张三", IDNumber: "21020219880504123X"}

// seededKey is a fixed key, so seeds and failures reproduce.
func seededKey(b byte) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = b
	}
	return ed25519.NewKeyFromSeed(seed)
}

func pub(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

// sign makes a code of any payload, as a platform with a bug (or a forger
// with the key) could, for the cases Issue refuses to make.
func sign(k ed25519.PrivateKey, pl payload) string {
	body, _ := json.Marshal(pl)
	signed := Prefix + b64.EncodeToString(body)
	return signed + "." + b64.EncodeToString(ed25519.Sign(k, []byte(signed)))
}

func TestVerify(t *testing.T) {
	key, other := seededKey(1), seededKey(2)
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	good := func() string {
		c, err := Issue(key, zhang, t0, 0)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	base := payload{V: 1, KeyID: KeyID(pub(key)), Name: zhang.Name, ID: zhang.IDNumber,
		Issued: t0.Unix(), Expires: t0.Add(5 * time.Minute).Unix(), Nonce: b64.EncodeToString(make([]byte, nonceLen))}
	with := func(f func(*payload)) payload { p := base; f(&p); return p }
	tests := []struct {
		name string
		code func() string
		at   time.Duration // the kiosk's clock, from t0
		want error
	}{
		{"valid", good, time.Minute, nil},
		{"valid at the last second", good, 5 * time.Minute, nil},
		{"valid within the skew after expiry", good, 5*time.Minute + 20*time.Second, nil},
		{"valid within the skew before issue", good, -20 * time.Second, nil},
		{"expired", good, 6 * time.Minute, ErrExpired},
		{"not yet valid", good, -2 * time.Minute, ErrNotYetValid},
		{"forged: signed by another key under ours", func() string {
			return sign(other, base)
		}, 0, ErrForged},
		{"forged: payload changed after signing", func() string {
			c := good()
			_, sig, _ := strings.Cut(strings.TrimPrefix(c, Prefix), ".")
			body, _ := json.Marshal(with(func(p *payload) { p.Name = "李四" }))
			return Prefix + b64.EncodeToString(body) + "." + sig
		}, 0, ErrForged},
		{"forged: signature changed", func() string {
			c := []byte(good())
			i := len(c) - 10 // a middle character of the signature, all of whose bits count
			c[i] = map[bool]byte{true: 'B', false: 'A'}[c[i] == 'A']
			return string(c)
		}, 0, ErrForged},
		{"unknown key", func() string { c, _ := Issue(other, zhang, t0, 0); return c }, 0, ErrUnknownKey},
		{"invalid ID number, signed", func() string {
			return sign(key, with(func(p *payload) { p.ID = "210202198805041231" }))
		}, 0, ErrInvalidID},
		{"empty name, signed", func() string {
			return sign(key, with(func(p *payload) { p.Name = "" }))
		}, 0, ErrInvalidID},
		{"lifetime over MaxTTL", func() string {
			return sign(key, with(func(p *payload) { p.Expires = p.Issued + 3600 }))
		}, 0, ErrMalformed},
		{"version 2", func() string { return sign(key, with(func(p *payload) { p.V = 2 })) }, 0, ErrMalformed},
		{"short nonce", func() string { return sign(key, with(func(p *payload) { p.Nonce = "AAAA" })) }, 0, ErrMalformed},
		{"not a code", func() string { return "91210200MA0XXXXX1K" }, 0, ErrMalformed},
		{"no signature", func() string { c := good(); return c[:strings.LastIndex(c, ".")] }, 0, ErrMalformed},
		{"padded signature", func() string { return good() + "=" }, 0, ErrMalformed},
		{"signature of 63 bytes", func() string { c := good(); return c[:len(c)-2] }, 0, ErrMalformed},
		{"too long", func() string { return Prefix + strings.Repeat("A", MaxLen) }, 0, ErrMalformed},
		{"unknown field", func() string {
			body := `{"v":1,"k":"` + base.KeyID + `","n":"张三","i":"21020219880504123X","t":1,"e":2,"r":"AAAAAAAAAAAAAAAAAAAAAA","x":1}`
			signed := Prefix + b64.EncodeToString([]byte(body))
			return signed + "." + b64.EncodeToString(ed25519.Sign(key, []byte(signed)))
		}, 0, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := NewVerifier(pub(key))
			v.Now = func() time.Time { return t0.Add(tt.at) }
			p, err := v.Verify(tt.code())
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify: %v, want %v", err, tt.want)
			}
			if err == nil && p != zhang {
				t.Errorf("Verify: %+v, want %+v", p, zhang)
			}
			if err != nil && strings.Contains(err.Error(), zhang.IDNumber) {
				t.Errorf("error shows the unmasked ID number: %v", err)
			}
		})
	}
}

// TestReplay: a code is accepted once; its second use is refused, while
// another code of the same person is not.
func TestReplay(t *testing.T) {
	key := seededKey(1)
	now := time.Now()
	v := NewVerifier(pub(key))
	c1, _ := Issue(key, zhang, now, 0)
	c2, _ := Issue(key, zhang, now, 0)
	if c1 == c2 {
		t.Fatal("two codes issued alike: the nonce is not random")
	}
	for i, tt := range []struct {
		code string
		want error
	}{{c1, nil}, {c1, ErrReplayed}, {c2, nil}, {c2, ErrReplayed}, {c1, ErrReplayed}} {
		if _, err := v.Verify(tt.code); !errors.Is(err, tt.want) {
			t.Errorf("scan %d: %v, want %v", i, err, tt.want)
		}
	}
}

// TestSeenBounded: the seen-nonce memory forgets expired codes when it
// fills, and refuses (never forgets) unexpired ones past MaxSeen.
func TestSeenBounded(t *testing.T) {
	key := seededKey(1)
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	now := t0
	v := NewVerifier(pub(key))
	v.Now, v.MaxSeen = func() time.Time { return now }, 3
	issue := func() string {
		c, err := Issue(key, zhang, now, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	first := issue()
	for _, c := range []string{first, issue(), issue()} {
		if _, err := v.Verify(c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.Verify(issue()); !errors.Is(err, ErrBusy) {
		t.Fatalf("fourth unexpired code: %v, want ErrBusy", err)
	}
	if _, err := v.Verify(first); !errors.Is(err, ErrReplayed) {
		t.Fatalf("first code again while full: %v, want ErrReplayed", err)
	}
	now = now.Add(2 * time.Minute) // the three are past expiry and skew
	if _, err := v.Verify(issue()); err != nil {
		t.Fatalf("a new code once the others expired: %v", err)
	}
	if n := v.Seen(); n != 1 {
		t.Errorf("remembers %d codes, want 1", n)
	}
}

func TestIssueRefuses(t *testing.T) {
	key := seededKey(1)
	for _, tt := range []struct {
		name string
		key  ed25519.PrivateKey
		p    Person
		ttl  time.Duration
	}{
		{"bad ID", key, Person{"张三", "21020219880504123"}, 0},
		{"no name", key, Person{"", zhang.IDNumber}, 0},
		{"ttl over max", key, zhang, time.Hour},
		{"negative ttl", key, zhang, -time.Minute},
		{"no key", nil, zhang, 0},
	} {
		if c, err := Issue(tt.key, tt.p, time.Now(), tt.ttl); err == nil {
			t.Errorf("%s: issued %s", tt.name, c)
		} else if strings.Contains(err.Error(), tt.p.IDNumber) && tt.p.IDNumber != "" {
			t.Errorf("%s: error shows the ID number: %v", tt.name, err)
		}
	}
}

// TestCodeFitsScanner: a code is printable ASCII, one line, well under the
// code scanner's default limit, whatever the name's length.
func TestCodeFitsScanner(t *testing.T) {
	c, err := Issue(seededKey(1), Person{Name: strings.Repeat("欧", 64), IDNumber: zhang.IDNumber}, time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(c); i++ {
		if c[i] < 0x21 || c[i] > 0x7e {
			t.Fatalf("byte %d of the code is 0x%02x", i, c[i])
		}
	}
	if len(c) > MaxLen {
		t.Fatalf("code of %d bytes for the longest name, over %d", len(c), MaxLen)
	}
	short, _ := Issue(seededKey(1), zhang, time.Now(), 0)
	t.Logf("a code for %s is %d bytes; for a 64-character name, %d", zhang.Name, len(short), len(c))
}

// FuzzVerify: no input panics, and whatever Verify accepts is a valid
// person, signed by the key, used once.
func FuzzVerify(f *testing.F) {
	key := seededKey(1)
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for _, p := range []Person{zhang, {"SMITH JOHN", "11010519491231002X"}} {
		c, err := Issue(key, p, t0, 0)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(c)
	}
	f.Add("YC1..")
	f.Add("YC1.e30.")
	f.Add(fmt.Sprintf("YC1.%s.%s", b64.EncodeToString([]byte(`{"v":1}`)), strings.Repeat("A", 86)))
	f.Fuzz(func(t *testing.T, code string) {
		v := NewVerifier(pub(key))
		v.Now = func() time.Time { return t0.Add(time.Minute) }
		p, err := v.Verify(code)
		if err != nil {
			for _, known := range []error{ErrMalformed, ErrUnknownKey, ErrForged, ErrExpired, ErrNotYetValid, ErrInvalidID} {
				if errors.Is(err, known) {
					return
				}
			}
			t.Fatalf("error of no known kind: %v", err)
		}
		if checkPerson(p) != nil {
			t.Fatalf("accepted %+v", p)
		}
		if _, err := v.Verify(code); !errors.Is(err, ErrReplayed) {
			t.Fatalf("second use: %v", err)
		}
	})
}
