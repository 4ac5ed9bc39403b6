package docscan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // high-speed scanners often drop JPEG files
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Folder takes the pages a high-speed scanner drops into a directory (its
// "scan to folder" setting). A file is taken once its size has stopped
// changing for Settle and it decodes, and then deleted: a scanned ID or
// certificate must not lie in plaintext on the kiosk's disk (S19), and the
// kiosk stores the page, encrypted, as soon as Scan returns. PNG and JPEG
// files are accepted; JPEG pages are converted to PNG, and every page is
// encoded for storing by Encode.
type Folder struct {
	Dir    string
	Settle time.Duration // how long a file must stay the same size; default 500 ms
	Poll   time.Duration // how often to look; default 200 ms
}

// Scan waits for at least one page, then takes the pages that arrive until
// none has come for Settle or opts.MaxPages are taken, oldest first.
func (f Folder) Scan(ctx context.Context, opts Options) ([]Page, error) {
	settle, poll := f.Settle, f.Poll
	if settle <= 0 {
		settle = 500 * time.Millisecond
	}
	if poll <= 0 {
		poll = 200 * time.Millisecond
	}
	var pages []Page
	sizes := map[string]int64{} // name → size at the last look
	stable := map[string]time.Time{}
	lastPage := time.Now()
	for {
		ready, waiting, err := f.ready(sizes, stable, settle)
		if err != nil {
			return pages, err
		}
		for _, name := range ready {
			if len(pages) == opts.pages() {
				return pages, nil
			}
			p, err := f.take(name, opts)
			if errors.Is(err, errUnfinished) && time.Since(stable[name]) < 10*settle {
				// Still being written after a pause: look again later.
				delete(sizes, name)
				waiting++
				continue
			}
			if err != nil {
				return pages, err
			}
			pages = append(pages, p)
			lastPage = time.Now()
			opts.progress(len(pages), 0)
		}
		if len(pages) == opts.pages() || (len(pages) > 0 && waiting == 0 && time.Since(lastPage) >= settle) {
			return pages, nil
		}
		select {
		case <-ctx.Done():
			if len(pages) > 0 {
				return pages, nil
			}
			return nil, fmt.Errorf("docscan: no page arrived in %s: %w", f.Dir, ctx.Err())
		case <-time.After(poll):
		}
	}
}

// ready lists, in name order, the image files whose size has not changed
// for settle, and counts those still changing, left for later.
func (f Folder) ready(sizes map[string]int64, stable map[string]time.Time, settle time.Duration) (ready []string, waiting int, err error) {
	entries, err := os.ReadDir(f.Dir)
	if err != nil {
		return nil, 0, fmt.Errorf("docscan: folder %s: %w", f.Dir, err)
	}
	now := time.Now()
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || (ext != ".png" && ext != ".jpg" && ext != ".jpeg") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // gone since the listing
		}
		if sizes[e.Name()] != info.Size() || info.Size() == 0 {
			sizes[e.Name()], stable[e.Name()] = info.Size(), now
			waiting++
			continue
		}
		if now.Sub(stable[e.Name()]) >= settle {
			ready = append(ready, e.Name())
		} else {
			waiting++
		}
	}
	slices.Sort(ready) // scanners number their files in page order
	return ready, waiting, nil
}

// errUnfinished marks a file that does not decode, as one still being
// written would not.
var errUnfinished = errors.New("not a readable image")

// take reads one page, checks it, and deletes the file.
func (f Folder) take(name string, opts Options) (Page, error) {
	path := filepath.Join(f.Dir, name)
	b, err := os.ReadFile(path)
	if err != nil {
		return Page{}, fmt.Errorf("docscan: folder: %w", err)
	}
	img, format, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return Page{}, fmt.Errorf("docscan: folder: %s: %w (%v)", name, errUnfinished, err)
	}
	if err := os.Remove(path); err != nil {
		return Page{}, fmt.Errorf("docscan: folder: %w", err)
	}
	if format != "png" {
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			return Page{}, err
		}
		b = buf.Bytes()
	}
	p, err := encodePage(Page{PNG: b, Width: img.Bounds().Dx(), Height: img.Bounds().Dy()}, img)
	if err != nil {
		return Page{}, fmt.Errorf("docscan: folder: %s: %w", name, err)
	}
	return p, opts.check(p)
}
