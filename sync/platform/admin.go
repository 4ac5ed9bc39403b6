package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Live administration. A serving platform holds its storage locked, so
// `yici-platform enrol|revoke|role|rotate|terminals|clerk` reach it through
// a Unix socket in its data directory (AdminSocket) and the change takes
// effect at the next request. Only the platform's own OS user may connect:
// the socket is mode 0600 in a 0700 directory, and the peer's uid is
// checked as well. When no platform serves, the commands open the storage
// themselves.

// AdminSocket is the name of the administration socket in the data
// directory.
const AdminSocket = "admin.sock"

// Admin is what administration can do; *Server does it in-process and
// *AdminClient over the socket of a serving platform.
type Admin interface {
	Enrol(role Role, hall, name string) (string, error)
	Revoke(name string) error
	SetRole(name string, role Role) error
	RotateToken(name string) (string, time.Time, error)
	Terminals() ([]Terminal, error)
	AddClerk(hall, id, name, pin string) error
	DisableClerk(id string) error
	SetClerkPIN(id, pin string) error
	IssueAppCode(name, idNumber string, ttl time.Duration) (string, error)
}

var _ Admin = (*Server)(nil)
var _ Admin = (*AdminClient)(nil)

// adminRequest is one administration call over the socket.
type adminRequest struct {
	Role  Role   `json:"role,omitempty"`
	Hall  string `json:"hall,omitempty"`
	Name  string `json:"name,omitempty"`
	Clerk string `json:"clerk,omitempty"`
	PIN   string `json:"pin,omitempty"`
	// App codes: the person's name and number are kept out of Name, which
	// is logged.
	Person   string        `json:"person,omitempty"`
	IDNumber string        `json:"id_number,omitempty"`
	TTL      time.Duration `json:"ttl,omitempty"`
}

type adminAnswer struct {
	Token     string     `json:"token,omitempty"`
	ExpiresAt time.Time  `json:"expires_at,omitzero"`
	Terminals []Terminal `json:"terminals,omitempty"`
	Code      string     `json:"code,omitempty"`
	Error     string     `json:"error,omitempty"`
}

// ServeAdmin serves administration on the socket dir/admin.sock until ctx
// ends. A socket file left by a platform that died is replaced; one that
// answers belongs to a running platform, and ServeAdmin refuses.
func ServeAdmin(ctx context.Context, dir string, a Admin, logf func(string, ...any)) error {
	path := filepath.Join(dir, AdminSocket)
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return fmt.Errorf("admin socket %s: another platform serves this data directory", path)
	}
	os.Remove(path)
	old := syscall.Umask(0o177) // the socket is made 0600, with no window of wider access
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return fmt.Errorf("admin socket: %w", err)
	}
	hs := &http.Server{Handler: adminHandler(a, logf), ReadHeaderTimeout: 5 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context { return context.WithValue(ctx, connKey{}, c) }}
	go func() {
		<-ctx.Done()
		hs.Close()
		os.Remove(path)
	}()
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("admin socket: %w", err)
	}
	return nil
}

type connKey struct{}

// sameUser reports whether the peer of c runs as this process's user (or
// root): the socket's mode already says so; this holds if the mode is
// loosened by mistake.
func sameUser(c net.Conn) bool {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return false
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return false
	}
	var cred *syscall.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil || cerr != nil {
		return false
	}
	return cred.Uid == uint32(os.Getuid()) || cred.Uid == 0
}

func adminHandler(a Admin, logf func(string, ...any)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer := func(ans adminAnswer, err error) {
			status := http.StatusOK
			if err != nil {
				ans, status = adminAnswer{Error: err.Error()}, http.StatusBadRequest
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(ans)
		}
		if c, _ := r.Context().Value(connKey{}).(net.Conn); c == nil || !sameUser(c) {
			answer(adminAnswer{}, errors.New("administration is for the platform's own user"))
			return
		}
		var req adminRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil && !errors.Is(err, io.EOF) {
			answer(adminAnswer{}, fmt.Errorf("malformed request: %w", err))
			return
		}
		var ans adminAnswer
		var err error
		switch r.URL.Path {
		case "/enrol":
			ans.Token, err = a.Enrol(req.Role, req.Hall, req.Name)
		case "/revoke":
			err = a.Revoke(req.Name)
		case "/role":
			err = a.SetRole(req.Name, req.Role)
		case "/rotate":
			ans.Token, ans.ExpiresAt, err = a.RotateToken(req.Name)
		case "/terminals":
			ans.Terminals, err = a.Terminals()
		case "/clerk/add":
			err = a.AddClerk(req.Hall, req.Clerk, req.Name, req.PIN)
		case "/clerk/disable":
			err = a.DisableClerk(req.Clerk)
		case "/clerk/pin":
			err = a.SetClerkPIN(req.Clerk, req.PIN)
		case "/appcode/issue":
			ans.Code, err = a.IssueAppCode(req.Person, req.IDNumber, req.TTL)
		default:
			err = fmt.Errorf("no administration call %s", r.URL.Path)
		}
		if err == nil && r.URL.Path != "/terminals" {
			logf("platform: admin: %s %s%s done", r.URL.Path[1:], req.Name, req.Clerk)
		}
		answer(ans, err)
	})
}

// AdminClient administers a serving platform over its socket.
type AdminClient struct {
	hc *http.Client
}

// DialAdmin returns a client of the platform serving dir, or an error
// wrapping ErrNotFound when none serves it.
func DialAdmin(dir string) (*AdminClient, error) {
	path := filepath.Join(dir, AdminSocket)
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return nil, fmt.Errorf("admin socket %s: %w", path, ErrNotFound)
	}
	c.Close()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	return &AdminClient{hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}, nil
}

func (c *AdminClient) call(op string, req adminRequest) (adminAnswer, error) {
	body, _ := json.Marshal(req)
	resp, err := c.hc.Post("http://platform/"+op, "application/json", bytes.NewReader(body))
	if err != nil {
		return adminAnswer{}, fmt.Errorf("admin %s: %w", op, err)
	}
	defer resp.Body.Close()
	var ans adminAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&ans); err != nil {
		return ans, fmt.Errorf("admin %s: decode answer: %w", op, err)
	}
	if ans.Error != "" {
		return ans, errors.New(ans.Error)
	}
	return ans, nil
}

// Enrol implements Admin.
func (c *AdminClient) Enrol(role Role, hall, name string) (string, error) {
	ans, err := c.call("enrol", adminRequest{Role: role, Hall: hall, Name: name})
	return ans.Token, err
}

// Revoke implements Admin.
func (c *AdminClient) Revoke(name string) error {
	_, err := c.call("revoke", adminRequest{Name: name})
	return err
}

// SetRole implements Admin.
func (c *AdminClient) SetRole(name string, role Role) error {
	_, err := c.call("role", adminRequest{Name: name, Role: role})
	return err
}

// RotateToken implements Admin.
func (c *AdminClient) RotateToken(name string) (string, time.Time, error) {
	ans, err := c.call("rotate", adminRequest{Name: name})
	return ans.Token, ans.ExpiresAt, err
}

// Terminals implements Admin.
func (c *AdminClient) Terminals() ([]Terminal, error) {
	ans, err := c.call("terminals", adminRequest{})
	return ans.Terminals, err
}

// AddClerk implements Admin.
func (c *AdminClient) AddClerk(hall, id, name, pin string) error {
	_, err := c.call("clerk/add", adminRequest{Hall: hall, Clerk: id, Name: name, PIN: pin})
	return err
}

// DisableClerk implements Admin.
func (c *AdminClient) DisableClerk(id string) error {
	_, err := c.call("clerk/disable", adminRequest{Clerk: id})
	return err
}

// SetClerkPIN implements Admin.
func (c *AdminClient) SetClerkPIN(id, pin string) error {
	_, err := c.call("clerk/pin", adminRequest{Clerk: id, PIN: pin})
	return err
}

// IssueAppCode implements Admin.
func (c *AdminClient) IssueAppCode(name, idNumber string, ttl time.Duration) (string, error) {
	ans, err := c.call("appcode/issue", adminRequest{Person: name, IDNumber: idNumber, TTL: ttl})
	return ans.Code, err
}
