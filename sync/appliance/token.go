package appliance

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"yici/sync/uploader"
)

// ReadToken reads the terminal's enrolment token from path, saying how to
// enrol when there is none.
func ReadToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("terminal token: %w (enrol with: yici-platform enrol --role kiosk|desk --hall H --name N > %s)", err, path)
	}
	return strings.TrimSpace(string(b)), nil
}

// KeepToken renews the terminal's token before it expires (a 90-day token
// is renewed with 30 days left) until ctx ends, writing the new one to path
// before it is used. It checks every 10 minutes, a cheap GET, so a kiosk
// back from days offline with its token expired renews it (the platform
// allows that for a while) and its queue drains soon after (D5).
func (a *Appliance) KeepToken(ctx context.Context, path string) {
	uploader.KeepToken(ctx, a.Client, func(tok string) error { return writeFileAtomic(path, []byte(tok+"\n")) },
		30*24*time.Hour, 10*time.Minute, log.Printf)
}

// writeFileAtomic replaces path with data whole: a crash leaves the old
// file or the new one, never half of one.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	f, err := os.Open(tmp)
	if err != nil {
		return err
	}
	err = f.Sync()
	f.Close()
	if err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// KeepClientToken is KeepToken for a terminal without a store (the call
// display): it renews c's token, saving it to path.
func KeepClientToken(ctx context.Context, c *uploader.Client, path string) {
	(&Appliance{Client: c}).KeepToken(ctx, path)
}
