package main

// Work files: a scenario names them relative to the segment's work dir, and each must resolve
// inside it, links followed, before anything is created there (segment.py's work_path).

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

const maxLinks = 40 // as the kernel's ELOOP

// workPath is the absolute path of a work file or directory inside the work dir.
func workPath(workdir, name string) (string, error) {
	outside := &scenarioError{fmt.Sprintf("work file '%s' resolves outside the work dir", name)}
	if filepath.IsAbs(name) {
		return "", outside
	}
	absolute, err := filepath.Abs(workdir)
	if err != nil {
		return "", err
	}
	root, err := realPath(absolute)
	if err != nil {
		return "", err
	}
	path, err := realPath(absolute + string(filepath.Separator) + name)
	if err != nil {
		return "", err
	}
	if path != root && !strings.HasPrefix(path, strings.TrimSuffix(root, "/")+"/") {
		return "", outside
	}
	return path, nil
}

// realPath resolves every link of an absolute path as far as it exists, left to right, and
// keeps the parts that do not exist (Python's os.path.realpath): so "link/.." leaves the
// link's target, not the directory holding the link.
func realPath(path string) (string, error) {
	return resolve("/", path, 0)
}

func resolve(base, rest string, links int) (string, error) {
	for _, part := range strings.Split(rest, "/") {
		switch part {
		case "", ".":
			continue
		case "..":
			base = filepath.Dir(base)
			continue
		}
		next := filepath.Join(base, part)
		target, err := os.Readlink(next)
		if err != nil { // not a link, or not there: kept as it is
			base = next
			continue
		}
		if links >= maxLinks {
			return "", fmt.Errorf("too many levels of symbolic links at %s", next)
		}
		from := base
		if filepath.IsAbs(target) {
			from = "/"
		}
		if base, err = resolve(from, target, links+1); err != nil {
			return "", err
		}
	}
	return base, nil
}
