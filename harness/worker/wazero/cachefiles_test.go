package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// cacheDir makes a cache directory with two entries and the files that are not entries.
func cacheDir(t *testing.T) string {
	dir := t.TempDir()
	for name, data := range map[string]string{
		"a/entry1": "0123456789", "entry2": "abcdef", ".hidden": "x", "b.tmp": "y",
	} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func read(t *testing.T, dir, name string) []byte {
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestCorruptCacheDamagesEveryEntryAndNothingElse(t *testing.T) {
	dir := cacheDir(t)
	keep := 4
	n, err := damageCache(dir, cacheCorruption{Truncate: &keep, Flip: []int{0}})
	if err != nil || n != 2 {
		t.Fatalf("%d, %v", n, err)
	}
	if got := read(t, dir, "a/entry1"); !bytes.Equal(got, []byte{'0' ^ 0xFF, '1', '2', '3'}) {
		t.Fatalf("entry1: %q", got)
	}
	if got := read(t, dir, ".hidden"); string(got) != "x" {
		t.Fatalf(".hidden: %q", got)
	}
	drop := -2
	if _, err := damageCache(dir, cacheCorruption{Truncate: &drop}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, dir, "entry2"); !bytes.Equal(got, []byte{'a' ^ 0xFF, 'b'}) {
		t.Fatalf("entry2: %q", got)
	}
}

func TestCorruptCacheEmptiesAndDeletes(t *testing.T) {
	dir := cacheDir(t)
	if n, err := damageCache(dir, cacheCorruption{Empty: true}); err != nil || n != 2 {
		t.Fatalf("%d, %v", n, err)
	}
	if got := read(t, dir, "entry2"); len(got) != 0 {
		t.Fatalf("entry2: %q", got)
	}
	if n, err := damageCache(dir, cacheCorruption{Delete: true}); err != nil || n != 2 {
		t.Fatalf("%d, %v", n, err)
	}
	if left := cacheEntries(dir); len(left) != 0 {
		t.Fatalf("left: %v", left)
	}
	if got := read(t, dir, "b.tmp"); string(got) != "y" {
		t.Fatalf("b.tmp: %q", got)
	}
}

func TestAFlipPastAnEntrysEndIsUnsupportedAndChangesNothing(t *testing.T) {
	dir := cacheDir(t)
	_, err := damageCache(dir, cacheCorruption{Flip: []int{8}})
	var unsupported *unsupportedError
	if !errors.As(err, &unsupported) {
		t.Fatalf("%v", err)
	}
	if got := read(t, dir, "a/entry1"); string(got) != "0123456789" {
		t.Fatalf("entry1: %q", got)
	}
}
