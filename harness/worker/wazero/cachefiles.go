package main

// The compilation cache directory as files: its entries counted, and damaged the way a compile's
// `corrupt_cache` asks (protocol 6), as a full disk or a process killed mid-write leaves them for
// the next compile to meet (harness/worker/cachefiles.py does the same for the Python worker).

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// cacheCorruption is a compile's corrupt_cache: one of truncate, empty, flip, or delete.
type cacheCorruption struct {
	Truncate *int  `json:"truncate"`
	Empty    bool  `json:"empty"`
	Flip     []int `json:"flip"`
	Delete   bool  `json:"delete"`
}

// cacheEntries lists the files under dir that hold compiled modules, sorted: not hidden files,
// nor the temporary files wazero renames into place, nor another runtime's bookkeeping.
func cacheEntries(dir string) []string {
	var found []string
	_ = filepath.WalkDir(dir, func(path string, entry fs.DirEntry, err error) error {
		if err != nil || entry.IsDir() {
			return nil
		}
		name := entry.Name()
		if !strings.HasPrefix(name, ".") && !strings.HasSuffix(name, ".tmp") &&
			!strings.HasSuffix(name, ".stats") && !strings.Contains(name, ".wip-") {
			found = append(found, path)
		}
		return nil
	})
	sort.Strings(found)
	return found
}

// damageCache applies spec to every entry under dir and returns how many it damaged. A flip
// offset past an entry's end is unsupported, and then no entry is changed.
func damageCache(dir string, spec cacheCorruption) (int, error) {
	found := cacheEntries(dir)
	if spec.Delete {
		for _, path := range found {
			if err := os.Remove(path); err != nil {
				return 0, &harnessError{fmt.Sprintf("corrupt_cache: %v", err)}
			}
		}
		return len(found), nil
	}
	changed := make([][]byte, len(found))
	for i, path := range found {
		data, err := os.ReadFile(path)
		if err != nil {
			return 0, &harnessError{fmt.Sprintf("corrupt_cache: %v", err)}
		}
		if changed[i], err = corruptBytes(data, spec); err != nil {
			return 0, err
		}
	}
	for i, path := range found {
		if err := os.WriteFile(path, changed[i], 0o644); err != nil {
			return 0, &harnessError{fmt.Sprintf("corrupt_cache: %v", err)}
		}
	}
	return len(found), nil
}

// corruptBytes is harness/worker/corrupt.py's apply without `in: code`: empty, else the flips,
// then the truncation (a negative one drops that many bytes from the end).
func corruptBytes(data []byte, spec cacheCorruption) ([]byte, error) {
	if spec.Empty {
		return []byte{}, nil
	}
	out := append([]byte(nil), data...)
	for _, offset := range spec.Flip {
		if offset < 0 || offset >= len(out) {
			return nil, &unsupportedError{fmt.Sprintf(
				"flip offset %d is past the end (%d bytes)", offset, len(out))}
		}
		out[offset] ^= 0xFF
	}
	if spec.Truncate != nil {
		keep := *spec.Truncate
		if keep < 0 {
			keep = max(0, len(out)+keep)
		}
		out = out[:min(keep, len(out))]
	}
	return out, nil
}
