package source

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/firewarden/firewarden/event"
)

// Reader reads inputs through a list of formats.
type Reader struct {
	Formats []Format
	// Stdin is read for the path "-".
	Stdin io.Reader
	// OnInput, when set, is called as each input starts (for progress).
	OnInput func(name string, size int64)
	// Counter, when set, wraps each input's raw byte stream (for progress).
	Counter func(io.Reader) io.Reader
	// Reuse lets formats reuse an emitted event for a later one unless emit
	// called Retain on it (Input.Pool): set it only when emit retains
	// every event it keeps past its return.
	Reuse bool
	pool  *event.Pool
}

// Result reports what was read.
type Result struct {
	Inputs []*Stats
	// Skipped lists inputs no format recognised, with the reason.
	Skipped []error
}

// Events is the total of events read.
func (r *Result) Events() (n int64) {
	for _, s := range r.Inputs {
		n += s.Events
	}
	return n
}

// Bad is the total of bad records.
func (r *Result) Bad() (n int64) {
	for _, s := range r.Inputs {
		n += s.BadCount
	}
	return n
}

// Read expands paths (files, folders recursively in name order, "-" for
// standard input), decompresses gzip, sniffs each stream and reads it,
// calling emit for every event. An input no format recognises is recorded
// in Result.Skipped; reading goes on with the next input.
func (r *Reader) Read(ctx context.Context, paths []string, emit func(*event.Event) error) (*Result, error) {
	res := &Result{}
	for _, p := range paths {
		files, err := expand(p)
		if err != nil {
			res.Skipped = append(res.Skipped, err)
			continue
		}
		for _, f := range files {
			if err := r.readOne(ctx, f, res, emit); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

func expand(p string) ([]string, error) {
	if p == "-" {
		return []string{p}, nil
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != p && len(d.Name()) > 1 && d.Name()[0] == '.' {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name()[0] == '.' || !d.Type().IsRegular() {
			return nil
		}
		files = append(files, path)
		return nil
	})
	sort.Strings(files)
	return files, err
}

func (r *Reader) readOne(ctx context.Context, name string, res *Result, emit func(*event.Event) error) error {
	var raw io.Reader
	var size int64 = -1
	if name == "-" {
		if r.Stdin == nil {
			res.Skipped = append(res.Skipped, errors.New("-: no standard input"))
			return nil
		}
		raw = r.Stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			res.Skipped = append(res.Skipped, err)
			return nil
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil {
			size = fi.Size()
		}
		raw = f
	}
	if r.OnInput != nil {
		r.OnInput(name, size)
	}
	if r.Counter != nil {
		raw = r.Counter(raw)
	}
	br := bufio.NewReaderSize(raw, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			res.Skipped = append(res.Skipped, fmt.Errorf("%s: gzip: %w", name, err))
			return nil
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	head, err := br.Peek(SniffSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		res.Skipped = append(res.Skipped, fmt.Errorf("%s: %w", name, err))
		return nil
	}
	f := Sniff(r.Formats, head)
	if f == nil {
		if len(bytes.TrimSpace(head)) == 0 {
			// An empty file is not an error; record it with no format.
			res.Inputs = append(res.Inputs, &Stats{Name: name, Format: "empty"})
			return nil
		}
		res.Skipped = append(res.Skipped, fmt.Errorf("%s: unrecognised format (not ECS JSON, Sysmon XML, auditd, laurel, syslog or journald JSON)", name))
		return nil
	}
	st := &Stats{Name: name, Format: f.Name()}
	res.Inputs = append(res.Inputs, st)
	in := &Input{Name: name, R: br, Stats: st}
	if r.Reuse {
		if r.pool == nil {
			r.pool = &event.Pool{}
		}
		in.Pool = r.pool
	}
	err = f.Read(ctx, in, func(ev *event.Event) error {
		st.Events++
		if ev.Format == "" {
			ev.Format = f.Name()
		}
		err := emit(ev)
		if in.Pool != nil {
			in.Pool.Put(ev) // unless retained, or not from the pool
		}
		return err
	})
	// A truncated or corrupt gzip stream is bad input, not a failure.
	if err != nil && (errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF)) {
		in.Badf(0, 0, "stream ends early: %v", err)
		return nil
	}
	return err
}

// Sniff returns the first format that recognises head, or nil.
func Sniff(formats []Format, head []byte) Format {
	for _, f := range formats {
		if f.Sniff(head) {
			return f
		}
	}
	return nil
}
