// Package catalogcli is the catalogue's command line: `yici catalog check`
// validates catalogue files for authors and platform operators, `yici
// catalog search` tries the kiosk's search, and `yici catalog guide` walks a
// question tree. cmd/yici hands its `catalog` arguments to Main.
package catalogcli

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"yici/assets"
	"yici/sync/catalog"
	"yici/sync/catalog/search"
)

const usage = `usage:
  yici catalog check FILE|DIR...            validate catalogues (a DIR: every *.json in it)
  yici catalog search [--json] [--catalog FILE] [-n K] QUERY...
  yici catalog guide [--json] [--catalog FILE] CODE [ANSWER...]
Without --catalog, search and guide use the embedded sample catalogue.
`

// Main runs one catalogue command; args exclude the program name and the
// word "catalog". It returns the process exit code: 0 fine, 1 the catalogue
// has problems (or nothing was found), 2 a usage or I/O error.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "check":
		return check(args[1:], stdout, stderr)
	case "search":
		return find(args[1:], stdout, stderr)
	case "guide":
		return guide(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "catalog: unknown command %q\n%s", args[0], usage)
	return 2
}

func check(paths []string, stdout, stderr io.Writer) int {
	if len(paths) == 0 {
		fmt.Fprint(stderr, "catalog check: no FILE or DIR given\n"+usage)
		return 2
	}
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			fmt.Fprintf(stderr, "catalog check: %v\n", err)
			return 2
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		found, _ := filepath.Glob(filepath.Join(p, "*.json"))
		if len(found) == 0 {
			fmt.Fprintf(stderr, "catalog check: %s: no *.json files\n", p)
			return 2
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	code := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(stderr, "catalog check: %v\n", err)
			return 2
		}
		c, err := catalog.Parse(data)
		var ps catalog.Problems
		switch {
		case errors.As(err, &ps):
			for _, p := range ps {
				fmt.Fprintf(stdout, "%s:%d: %s\n", f, locate(data, p.Path), strings.TrimPrefix(p.Error(), "catalog: "))
			}
			fmt.Fprintf(stdout, "%s: %d problems\n", f, len(ps))
			code = 1
		case err != nil:
			fmt.Fprintf(stdout, "%s: %s\n", f, strings.TrimPrefix(err.Error(), "catalog: "))
			code = 1
		default:
			fmt.Fprintf(stdout, "%s: ok: revision %d, %d items, %d bundles, %d themes, %d materials in the library\n",
				f, c.Revision, len(c.Items), len(c.Bundles), len(c.Themes), len(c.Materials))
		}
	}
	return code
}

// locate finds the line a problem's path points at: each code of the path
// ("item GA-0101 material M-PHOTO") is looked up as a JSON string after the
// previous one, so the line is that of the innermost element found.
func locate(data []byte, path []string) int {
	pos := 0
	for i := 1; i < len(path); i += 2 {
		id := path[i]
		if strings.HasPrefix(id, "#") {
			continue // a position, not a code: stay at the parent
		}
		quoted, _ := json.Marshal(id)
		if at := bytes.Index(data[pos:], quoted); at >= 0 {
			pos += at
		}
	}
	return bytes.Count(data[:pos], []byte{'\n'}) + 1
}

// load is the catalogue from --catalog, or the embedded sample.
func load(file string) (*catalog.Catalog, error) {
	if file == "" {
		return catalog.Parse(assets.SampleCatalog)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return catalog.Parse(data)
}

func find(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("catalog search", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print hits as JSON")
	file := fs.String("catalog", "", "catalogue file (default: the embedded sample)")
	k := fs.Int("n", 5, "number of hits")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	q := strings.Join(fs.Args(), " ")
	if strings.TrimSpace(q) == "" || *k <= 0 {
		fmt.Fprint(stderr, "catalog search: a QUERY and a positive -n are required\n"+usage)
		return 2
	}
	c, err := load(*file)
	if err != nil {
		fmt.Fprintf(stderr, "catalog search: %v\n", err)
		return 2
	}
	hits := search.New(c).Search(q, *k)
	if *asJSON {
		if hits == nil {
			hits = []search.Hit{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		enc.Encode(hits)
	} else {
		for i, h := range hits {
			via := ""
			if h.Via != "" {
				via = "  ← " + h.Via
			}
			fmt.Fprintf(stdout, "%d. %s  %s (%s)%s\n", i+1, h.Code, h.Name, h.Kind, via)
		}
	}
	if len(hits) == 0 {
		if !*asJSON {
			fmt.Fprintf(stdout, "nothing found for %q\n", q)
		}
		return 1
	}
	return 0
}

func guide(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("catalog guide", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the guide as JSON")
	file := fs.String("catalog", "", "catalogue file (default: the embedded sample)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprint(stderr, "catalog guide: a CODE is required\n"+usage)
		return 2
	}
	c, err := load(*file)
	if err != nil {
		fmt.Fprintf(stderr, "catalog guide: %v\n", err)
		return 2
	}
	g, err := c.Resolve(fs.Arg(0), fs.Args()[1:])
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		enc.Encode(g)
		return 0
	}
	fmt.Fprintf(stdout, "%s %s (revision %d), promised %d working days\n", g.Code, g.Name, g.Revision, g.PromisedDays)
	for _, a := range g.Answers {
		fmt.Fprintf(stdout, "  %s %s → %s\n", a.Question, a.Text, a.Label)
	}
	if g.Next != nil {
		fmt.Fprintf(stdout, "next question %s: %s\n", g.Next.ID, g.Next.Text)
		for _, ch := range g.Next.Choices {
			fmt.Fprintf(stdout, "  %s: %s\n", ch.ID, ch.Label)
		}
	}
	for _, it := range g.Items {
		fmt.Fprintf(stdout, "item %s %s\n", it.Code, it.Name)
	}
	for _, f := range g.Fields {
		fmt.Fprintf(stdout, "field %s %s\n", f.Code, f.Label)
	}
	for _, m := range g.Materials {
		flag := "optional"
		switch {
		case m.Required && m.Deferrable:
			flag = "required, deferrable"
		case m.Required:
			flag = "required"
		}
		fmt.Fprintf(stdout, "material %s %s (%s) for %s\n", m.Code, m.Name, flag, strings.Join(m.For, ", "))
	}
	for _, n := range g.Notes {
		fmt.Fprintf(stdout, "note: %s\n", n)
	}
	return 0
}
