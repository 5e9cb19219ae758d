package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestAWorkFileResolvesInsideTheWorkDir(t *testing.T) {
	root := t.TempDir()
	got, err := workPath(root, "cache/deeper/file")
	want, _ := filepath.EvalSymlinks(root)
	if err != nil || got != filepath.Join(want, "cache/deeper/file") {
		t.Fatalf("%s, %v", got, err)
	}
	if got, err := workPath(root, "a/../b"); err != nil || filepath.Base(got) != "b" {
		t.Fatalf("a/../b: %s, %v", got, err)
	}
}

func TestAWorkFileOutsideTheWorkDirIsTheScenariosError(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "dir"), filepath.Join(root, "inner")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"../x", "/etc/passwd", "link/file", "a/../../x", "inner/../../x"} {
		_, err := workPath(root, name)
		if _, ok := err.(*scenarioError); !ok {
			t.Errorf("workPath(%q): %v, want a scenario error", name, err)
		}
	}
	// "inner/.." is the link's target's parent, the work dir itself: inside
	if _, err := workPath(root, "inner/../ok"); err != nil {
		t.Errorf("inner/../ok: %v", err)
	}
}

func TestALinkLoopIsAnError(t *testing.T) {
	root := t.TempDir()
	_ = os.Symlink(filepath.Join(root, "b"), filepath.Join(root, "a"))
	_ = os.Symlink(filepath.Join(root, "a"), filepath.Join(root, "b"))
	if _, err := workPath(root, "a/x"); err == nil {
		t.Fatal("a link loop resolved")
	}
}
