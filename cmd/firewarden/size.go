package main

import (
	"io/fs"
	"path/filepath"
)

// walkSize adds up the sizes of the regular files at or under p.
func walkSize(p string, n *int64) error {
	return filepath.WalkDir(p, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if fi, err := d.Info(); err == nil && fi.Mode().IsRegular() {
			*n += fi.Size()
		}
		return nil
	})
}
